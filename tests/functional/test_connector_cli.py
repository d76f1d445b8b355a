"""The connector's commands against a real gateway: submit, watch, alerts, match, exports.

Every HTTP request the connector sends is recorded and searched for the raw identifiers and
their canonical forms: only tokens may leave the partner's machine. The partner's own output
files (results, STIX bundle, MISP feed, spreadsheet) are where the identifiers come back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import stix2
from typer.testing import CliRunner

from connectors.canonical import Kind, canonicalize
from connectors.cli import app
from connectors.keystore import save_keystore
from tests.support.gateway import Gateway

SELLER = "NL91 ABNA 0417 1643 00"
OTHER = "NL44RABO0123456789"
IDENTIFIERS = [SELLER, OTHER, canonicalize(Kind.IBAN, SELLER), canonicalize(Kind.IBAN, OTHER)]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    """Every request any httpx client in this process sends."""
    requests: list[httpx.Request] = []
    original = httpx.Client.send

    def recording_send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> Any:
        requests.append(request)
        return original(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", recording_send)
    return requests


def connector(gw: Gateway, partner_id: str, directory: Path) -> list[str]:
    partner = gw.partner(partner_id)
    keystore = directory / f"{partner_id}.keystore.json"
    if not keystore.exists():
        assert partner.keys is not None
        save_keystore(keystore, partner.keys)
    return [
        "--gateway",
        gw.url,
        "--client-id",
        partner.client.client_id,
        "--keystore",
        str(keystore),
    ]


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_connector_round_trip_sends_tokens_only(
    gateway: Gateway, tmp_path: Path, sent: list[httpx.Request]
) -> None:
    salt = tmp_path / "salt.hex"
    salt.write_text(gateway.master_salt.hex())
    salt.chmod(0o600)
    reports = tmp_path / "reports.csv"
    reports.write_text(
        "value,category,reference,case_owner\n"
        + "".join(f"{SELLER},purchase_fraud,MP-{n},desk-{n}\n" for n in range(3))
    )
    customers = tmp_path / "customers.csv"
    customers.write_text(f"value,customer\n{SELLER},C-1\n{OTHER},C-2\n")

    run(
        "watch",
        "add",
        str(customers),
        *connector(gateway, "bank-a", tmp_path),
        "--purpose",
        "watchlist_alerts",
        "--legal-basis",
        "art6_1_f",
        "--salt-file",
        str(salt),
        "--out",
        str(tmp_path / "watch.jsonl"),
    )
    run(
        "submit",
        str(reports),
        *connector(gateway, "marketplace-a", tmp_path),
        "--purpose",
        "indicator_submission",
        "--legal-basis",
        "art6_1_f",
        "--salt-file",
        str(salt),
        "--out",
        str(tmp_path / "submitted.csv"),
    )
    submitted = (tmp_path / "submitted.csv").read_text()
    assert submitted.count("accepted") == 3
    assert "desk-2" in submitted  # carried columns join back

    bundle = tmp_path / "alerts.stix.json"
    run(
        "alerts",
        *connector(gateway, "bank-a", tmp_path),
        "--watch-map",
        str(tmp_path / "watch.jsonl"),
        "--format",
        "stix",
        "--partner",
        "Bank A",
        "--out",
        str(bundle),
    )
    parsed = stix2.parse(bundle.read_text(), allow_custom=True)
    indicators = [o for o in parsed.objects if o.type == "indicator"]
    assert len(indicators) == 1
    assert canonicalize(Kind.IBAN, SELLER) in indicators[0].pattern

    screened = tmp_path / "screened.jsonl"
    run(
        "match",
        str(customers),
        *connector(gateway, "bank-b", tmp_path),
        "--purpose",
        "payment_screening",
        "--legal-basis",
        "art6_1_c",
        "--salt-file",
        str(salt),
        "--out",
        str(screened),
    )
    screened_stix = tmp_path / "screened.stix.json"
    run(
        "match",
        str(customers),
        *connector(gateway, "bank-b", tmp_path),
        "--purpose",
        "payment_screening",
        "--legal-basis",
        "art6_1_c",
        "--salt-file",
        str(salt),
        "--format",
        "stix",
        "--partner",
        "Bank B",
        "--out",
        str(screened_stix),
    )
    hits = stix2.parse(screened_stix.read_text(), allow_custom=True)
    assert len([o for o in hits.objects if o.type == "indicator"]) == 1
    results = [json.loads(line) for line in screened.read_text().splitlines()]
    assert [r["hit"] for r in results] == [True, False]
    assert results[0]["categories"] == ["purchase_fraud"]
    assert results[0]["customer"] == "C-1"

    # Nothing the connector sent names an identifier, in any form.
    assert sent, "no request was recorded"
    for request in sent:
        wire = (
            str(request.url).encode()
            + b"".join(k + b": " + v for k, v in request.headers.raw)
            + request.content
        )
        for identifier in IDENTIFIERS:
            assert identifier.encode() not in wire, (request.method, request.url)
