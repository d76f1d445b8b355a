"""Bad input at every door: a clear error naming the field, and no partial effect.

Gateway side over HTTP (both backends): oversized bodies refused before they are read,
oversized batches, wrong content types, deeply nested JSON, invalid UTF-8, tokens of the
wrong length or alphabet, unknown enum values. Connector side: CSV files with broken quoting,
wrong encodings, missing headers and 10 MB lines are refused with one clear line, no output
file is left behind, and a submission of such a file sends nothing.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from connectors.cli import app as connector_app
from connectors.errors import InputFileError
from connectors.keystore import save_keystore
from gateway.audit_trail.models import AuditEntry
from gateway.db import transaction
from gateway.indicators.models import Indicator
from tests.support.gateway import Gateway, Partner, running_gateway

LIMIT = 2 * 1024 * 1024
IBAN = "NL91ABNA0417164300"
SCREEN = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}
BATCH = {"purpose": "batch_screening", "legal_basis": "art6_1_c"}
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
CONNECTOR_MAIN = "from connectors.cli import main; main()"  # the ppsgate-connector entry point


@pytest.fixture
def gateway(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    with running_gateway(database_url, tmp_path / "data", max_body_bytes=LIMIT) as running:
        yield running


def post(partner: Partner, gw: Gateway, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {partner.client.access_token()}"}
    headers.update(kwargs.pop("headers", {}))
    return httpx.post(f"{gw.url}{path}", headers=headers, timeout=30, **kwargs)


def problem(response: httpx.Response, status: int, field: str) -> dict[str, Any]:
    """The response is a problem+json with this status naming this field."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["field"] == field, body
    assert body["detail"]
    return body


def stored(gw: Gateway) -> int:
    with transaction(gw.services.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(Indicator)) or 0)


def submit_item(gw: Gateway, partner: Partner, **changes: Any) -> dict[str, Any]:
    return {
        **partner.item("iban", IBAN),
        "category": "purchase_fraud",
        "observed_at": (gw.clock.now() - timedelta(hours=1)).isoformat(),
        **changes,
    }


def test_oversized_body_is_refused_before_it_is_read(gateway: Gateway) -> None:
    bank = gateway.partner("bank-a")
    host, port = gateway.url.removeprefix("http://").split(":")
    # A declared gigabyte, of which only one byte is sent: the answer cannot wait for it.
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(
            b"POST /v1/indicators HTTP/1.1\r\nHost: gateway\r\n"
            + f"Authorization: Bearer {bank.client.access_token()}\r\n".encode()
            + b"Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{"
        )
        head = raw.recv(4096).decode()
    assert head.startswith("HTTP/1.1 413")
    assert "application/problem+json" in head
    assert '"field": "body"' in head

    # Streamed without a length: cut off once past the limit, still a 413 problem.
    def chunks() -> Iterator[bytes]:
        yield b'{"purpose": "indicator_submission", "legal_basis": "art6_1_f", "items": ['
        for _ in range(LIMIT // 65536 + 2):
            yield b" " * 65536

    refused = post(bank, gateway, "/v1/indicators", content=chunks())
    body = problem(refused, 413, "body")
    assert str(LIMIT) in body["detail"]
    assert stored(gateway) == 0
    assert httpx.get(f"{gateway.url}/health").status_code == 200


def test_oversized_batches_are_refused_whole(gateway: Gateway) -> None:
    bank = gateway.partner("bank-a")
    item = bank.item("iban", IBAN)
    problem(
        post(bank, gateway, "/v1/match", json={**BATCH, "items": [item] * 10_001}), 422, "items"
    )
    # Within the schema's 10,000 but above the purpose's real-time limit of 10: the policy.
    refused = problem(
        post(bank, gateway, "/v1/match", json={**SCREEN, "items": [item] * 11}), 403, "purpose"
    )
    assert refused["reasons"] == ["batch-size-exceeded"]
    marketplace = gateway.partner("marketplace-a")
    too_many = [submit_item(gateway, marketplace, reference=f"r{n}") for n in range(10_001)]
    problem(
        post(marketplace, gateway, "/v1/indicators", json={**SUBMIT, "items": too_many}),
        422,
        "items",
    )
    assert stored(gateway) == 0


def test_wrong_content_types_are_named(gateway: Gateway) -> None:
    bank = gateway.partner("bank-a")
    body = json.dumps({**SCREEN, "items": [bank.item("iban", IBAN)]})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        refused = post(
            bank, gateway, "/v1/match", content=body, headers={"Content-Type": content_type}
        )
        assert "application/json" in problem(refused, 415, "Content-Type")["detail"]


def test_deep_nesting_and_invalid_utf8_are_unparsable(gateway: Gateway) -> None:
    bank = gateway.partner("bank-a")
    json_headers = {"Content-Type": "application/json"}
    deep = b'{"purpose": "x", "legal_basis": "y", "items": ' + b"[" * 200_000 + b"]" * 200_000
    for content in (deep + b"}", b'{"purpose": "\xff\xfe", "legal_basis": "art6_1_c"}'):
        refused = post(bank, gateway, "/v1/match", content=content, headers=json_headers)
        assert problem(refused, 400, "body")["code"] == "unparsable-body"
    assert httpx.get(f"{gateway.url}/health").status_code == 200


MALFORMED_TOKENS = [
    ("a" * 63, "at least 64"),
    ("a" * 65, "at most 64"),
    ("A" * 64, "pattern"),
    ("g" * 64, "pattern"),
    (IBAN, "at least 64"),  # an identifier sent by mistake instead of its token
]


def test_malformed_tokens_are_refused_and_never_echoed(gateway: Gateway) -> None:
    bank, marketplace = gateway.partner("bank-a"), gateway.partner("marketplace-a")
    good = submit_item(gateway, marketplace, reference="good")
    for token, why in MALFORMED_TOKENS:
        query = {**SCREEN, "items": [{"kind": "iban", "epoch": 1, "token": token}]}
        refused = post(bank, gateway, "/v1/match", json=query)
        assert why in problem(refused, 422, "items.0.token")["detail"]
        assert token not in refused.text
        # Submissions are checked per row: the bad row is named, the good one kept.
        answer = post(
            marketplace,
            gateway,
            "/v1/indicators",
            json={**SUBMIT, "items": [good, {**good, "token": token, "reference": "bad"}]},
        )
        assert answer.status_code == 200
        statuses = [(r["status"], r.get("field")) for r in answer.json()["results"]]
        assert statuses[1] == ("rejected", "token")
        assert token not in answer.text
    assert stored(gateway) == 1  # the good row, once; no malformed token was stored


def test_unknown_enum_values_name_their_field(gateway: Gateway) -> None:
    bank, marketplace = gateway.partner("bank-a"), gateway.partner("marketplace-a")
    item = bank.item("iban", IBAN)
    query = {**SCREEN, "items": [{**item, "kind": "passport"}]}
    problem(post(bank, gateway, "/v1/match", json=query), 422, "items.0.kind")
    dispute = {"purpose": "dispute_handling", "legal_basis": "art6_1_c", **item}
    problem(
        post(bank, gateway, "/v1/disputes", json={**dispute, "grounds": "dislike"}), 422, "grounds"
    )
    resolve = post(marketplace, gateway, "/v1/disputes/1/resolve", json={"outcome": "maybe"})
    problem(resolve, 422, "outcome")
    unknown_purpose = post(
        bank, gateway, "/v1/match", json={**SCREEN, "purpose": "curiosity", "items": [item]}
    )
    assert problem(unknown_purpose, 403, "purpose")["reasons"] == ["purpose-unknown"]
    row = submit_item(gateway, marketplace, role="boss", reference="r")
    answer = post(marketplace, gateway, "/v1/indicators", json={**SUBMIT, "items": [row]})
    assert answer.json()["results"][0]["field"] == "role"
    assert stored(gateway) == 0
    with transaction(gateway.services.session_factory) as session:
        denied = session.scalars(
            select(AuditEntry).where(AuditEntry.tag == "match:query:deny")
        ).all()
    assert len(denied) == 1  # the policy refusal is audited; schema refusals never reach it


BROKEN_FILES = {
    "broken quoting": (
        b'value,ref\nNL91ABNA0417164300,a\n"NL44RABO0123456789,b\nNL91ABNA0417164300,c\n',
        "broken CSV quoting",
    ),
    "latin-1": ("value,owner\nNL91ABNA0417164300,Jos\xe9\n".encode("latin-1"), "not UTF-8"),
    "utf-16": ("value,ref\nNL91ABNA0417164300,a\n".encode("utf-16"), "not UTF-8"),
    "missing header": (b"NL91ABNA0417164300,a\nNL44RABO0123456789,b\n", "no 'value' column"),
    "10 MB line": (
        b"value,ref\nNL91ABNA0417164300,a\nNL44RABO0123456789," + b"x" * (10 * 1024 * 1024) + b"\n",
        "longer than",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN_FILES))
def test_connector_refuses_broken_files_without_output(name: str, tmp_path: Path) -> None:
    data, reason = BROKEN_FILES[name]
    source = tmp_path / "input.csv"
    source.write_bytes(data)
    salt = tmp_path / "salt.hex"
    salt.write_text("11" * 32)
    salt.chmod(0o600)
    out = tmp_path / "tokens.jsonl"
    result = CliRunner().invoke(
        connector_app, ["hash", str(source), "--salt-file", str(salt), "--out", str(out)]
    )
    assert result.exit_code == 1
    assert isinstance(result.exception, InputFileError)
    assert reason in result.exception.diagnostics()
    assert {p.name for p in tmp_path.iterdir()} == {"input.csv", "salt.hex"}  # no output


def test_connector_error_is_one_clear_line(tmp_path: Path) -> None:
    source = tmp_path / "input.csv"
    source.write_bytes(BROKEN_FILES["broken quoting"][0])
    salt = tmp_path / "salt.hex"
    salt.write_text("11" * 32)
    salt.chmod(0o600)
    run = subprocess.run(
        [sys.executable, "-c", CONNECTOR_MAIN, "hash", str(source), "--salt-file", str(salt)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.strip().startswith("error:")
    assert "broken CSV quoting near line 4" in run.stderr
    assert "Traceback" not in run.stderr
    assert IBAN not in run.stderr


def test_broken_line_late_in_a_file_submits_nothing(gateway: Gateway, tmp_path: Path) -> None:
    marketplace = gateway.partner("marketplace-a")
    keystore = tmp_path / "keystore.json"
    assert marketplace.keys is not None
    save_keystore(keystore, marketplace.keys)
    salt = tmp_path / "salt.hex"
    salt.write_text(gateway.master_salt.hex())
    salt.chmod(0o600)
    # More rows than one hashing chunk and several request batches before the broken line.
    good = "".join(f"{IBAN},purchase_fraud,case-{n}\n" for n in range(2_500))
    source = tmp_path / "reports.csv"
    source.write_text("value,category,reference\n" + good + '"broken,purchase_fraud,x\n')
    out = tmp_path / "submitted.csv"
    result = CliRunner().invoke(
        connector_app,
        [
            "submit",
            str(source),
            "--gateway",
            gateway.url,
            "--client-id",
            marketplace.client.client_id,
            "--keystore",
            str(keystore),
            "--purpose",
            "indicator_submission",
            "--legal-basis",
            "art6_1_f",
            "--salt-file",
            str(salt),
            "--batch-size",
            "500",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 1
    assert isinstance(result.exception, InputFileError)
    assert "line 2502" in result.exception.diagnostics()
    assert not out.exists()
    assert stored(gateway) == 0
    with transaction(gateway.services.session_factory) as session:
        submits = session.scalars(
            select(AuditEntry).where(AuditEntry.tag == "indicator:batch:submit")
        ).all()
    assert submits == []
