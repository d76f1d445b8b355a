"""Spec v2 from the partner's command line: ``--mode voprf`` against a real gateway.

Two evaluator processes trust the running gateway's token endpoint (its published JWKS);
two partners' connectors get evaluator tokens from it with their own ``private_key_jwt``
clients, hash the same identifier with ``ppsgate-connector hash --mode voprf``, one submits
it and the other matches it through the CLI. A forged evaluator (the right URL in the pins
replaced by one serving another key) and an exhausted evaluator quota each make ``hash``
exit 1 with one line naming the evaluator and the reason, leaving no output file.
Everything runs through ``connectors.cli.main``, the CLI's single exit point.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from connectors.canonical import Kind, canonicalize
from connectors.cli import main as connector_main
from connectors.client import GatewayClient
from connectors.keystore import ConnectorKeys, load_keystore
from connectors.oprf import protocol
from connectors.oprf.client import possession_proof
from gateway.auth.keys import load_token_signing_key
from gateway.auth.server import AccessTokenGenerator, RegisteredClient
from gateway.partners.models import Partner as PartnerRow
from gateway.partners.models import PartnerClient
from gateway.server import free_port
from tests.support.evaluators import (
    EvaluatorProcess,
    GatewayIssuer,
    add_epoch,
    pin_client,
    running_evaluators,
    write_pins,
)
from tests.support.gateway import Gateway, running_gateway
from tests.support.oprf import held_byte_strings, offline_guesses, offline_token, secret_key

SELLER = ["NL91 ABNA 0417 1643 00", "nl91abna0417164300"]  # one IBAN, written two ways
SCOPES = ("indicators:write", "match:query", "oprf:evaluate")


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Setting:
    gateway: Gateway
    pins: Path
    forged_pins: Path
    folder: Path
    evaluators: tuple[EvaluatorProcess, EvaluatorProcess]
    rogue: EvaluatorProcess

    @property
    def every_evaluator(self) -> tuple[EvaluatorProcess, ...]:
        return (*self.evaluators, self.rogue)


@pytest.fixture
def setting(database_url: str, tmp_path: Path) -> Iterator[Setting]:
    names = ("evaluator-a", "evaluator-b", "rogue")
    ports = {name: free_port() for name in names}
    resources = [f"http://127.0.0.1:{port}" for port in ports.values()]
    # The gateway issues each evaluator its own audience-restricted tokens (RFC 8707).
    with running_gateway(database_url, tmp_path / "data", token_resources=resources) as gateway:
        issuer = GatewayIssuer(gateway.url)
        with running_evaluators(
            tmp_path / "evaluators", issuer, *names, quotas={"psp-a": 1}, ports=ports
        ) as (a, b, rogue):
            pins = write_pins(tmp_path / "evaluators.json", [a, b])
            # The rogue serves its own key at the URL pinned for evaluator-b.
            forged = dict(b.entry, url=rogue.url)
            forged_pins = tmp_path / "forged.json"
            document = json.loads(pins.read_text(encoding="utf-8"))
            document["evaluators"][1] = forged
            forged_pins.write_text(json.dumps(document), encoding="utf-8")
            yield Setting(gateway, pins, forged_pins, tmp_path, (a, b), rogue)


class Terminal:
    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        setting: Setting,
    ) -> None:
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        self.setting = setting
        for name in ("KEYSTORE", "CLIENT_ID", "GATEWAY", "TYPEKEYS", "PASSPHRASE", "MODE"):
            monkeypatch.delenv(f"PPSGATE_CONNECTOR_{name}", raising=False)
        # The evaluator settings as a partner would keep them in its environment.
        monkeypatch.setenv("PPSGATE_CONNECTOR_EVALUATORS", str(setting.pins))
        monkeypatch.setenv("PPSGATE_CONNECTOR_CRYPTO_WORKERS", "0")

    def connector(self, *args: str | Path) -> Run:
        self.monkeypatch.setattr("sys.argv", ["ppsgate-connector", *map(str, args)])
        code = 0
        try:
            connector_main()
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)

    def partner(
        self, partner_id: str, sector: str, scopes: tuple[str, ...] = SCOPES
    ) -> tuple[str, ...]:
        """``keys init`` by the partner, client registration by the operator."""
        keystore = self.setting.folder / f"{partner_id}-keystore.json"
        made = self.connector("keys", "init", "--no-passphrase", "--keystore", keystore)
        assert made.code == 0, made.err
        client_id = self.setting.gateway.register_client(
            partner_id, sector, scopes, load_keystore(keystore)
        )
        # The partner hands its public keys (`keys init` output) to every evaluator operator.
        jwks = self.setting.folder / f"{partner_id}-public.json"
        jwks.write_text(made.out, encoding="utf-8")
        for evaluator in self.setting.every_evaluator:
            pin_client(evaluator, client_id, partner_id, jwks)
        return (
            "--gateway",
            self.setting.gateway.url,
            "--client-id",
            client_id,
            "--keystore",
            str(keystore),
        )


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_two_partners_tokenise_with_the_evaluators_and_match_through_the_cli(
    setting: Setting,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    term = Terminal(monkeypatch, capsys, setting)
    market = term.partner("marketplace-a", "marketplace")
    bank = term.partner("bank-a", "bank")

    reports = tmp_path / "reports.csv"
    reports.write_text(f"value,reference\n{SELLER[0]},case-1\n", encoding="utf-8")
    payees = tmp_path / "payees.csv"
    payees.write_text(f"value,payment\n{SELLER[1]},p1\n", encoding="utf-8")

    # Both partners hash the same IBAN (written differently): the same v2 token.
    market_tokens, bank_tokens = tmp_path / "market.jsonl", tmp_path / "bank.jsonl"
    for creds, source, target in ((market, reports, market_tokens), (bank, payees, bank_tokens)):
        hashed = term.connector("hash", source, "--mode", "voprf", *creds, "--out", target)
        assert hashed.code == 0, hashed.err
        assert "tokenising with VOPRF (spec v2), epoch 1" in hashed.err
        assert "v2 (VOPRF: evaluator-a, evaluator-b)" in hashed.err  # the summary
    (reported,) = _lines(market_tokens)
    (screened,) = _lines(bank_tokens)
    assert reported["spec"] == screened["spec"] == "v2"
    assert reported["epoch"] == 1
    assert reported["token"] == screened["token"]
    assert re.fullmatch(r"[0-9a-f]{64}", str(reported["token"]))
    assert reported["reference"] == "case-1"  # carried columns stay

    # Offline, what the partner holds — its real key store, the pins, a real access token from
    # this gateway — computes nothing, alone or with one evaluator's key; both keys do.
    secrets = [secret_key(ev.seed, 1, Kind.IBAN) for ev in setting.evaluators]
    canonical = canonicalize(Kind.IBAN, SELLER[0])
    assert offline_token(secrets, Kind.IBAN, canonical) == reported["token"]
    keystore = Path(market[market.index("--keystore") + 1])
    with GatewayClient(
        setting.gateway.url,
        market[market.index("--client-id") + 1],
        load_keystore(keystore),
        scopes=["oprf:evaluate"],
        resource=setting.evaluators[0].url,
    ) as client:
        access_token = client.access_token()
    held = held_byte_strings(
        json.loads(keystore.read_text(encoding="utf-8")),
        json.loads(setting.pins.read_text(encoding="utf-8")),
        access_token.split("."),
    )
    assert len(held) >= 4
    assert reported["token"] not in offline_guesses(held, secrets, 1, Kind.IBAN, canonical)

    # Same token as v1 would give? No: v2 tokens are a different function of the input.
    v1 = term.connector("hash", reports, "--salt-file", _salt_file(setting, tmp_path))
    assert v1.code == 0, v1.err
    (v1_line,) = [json.loads(line) for line in v1.out.splitlines()]
    assert "spec" not in v1_line
    assert v1_line["token"] != reported["token"]

    # One submits the hash output; the other matches its raw file, tokenised on the fly.
    submitted = term.connector(
        "submit",
        market_tokens,
        *market,
        "--purpose",
        "indicator_submission",
        "--legal-basis",
        "art6_1_f",
        "--category",
        "purchase_fraud",
        "--out",
        tmp_path / "submitted.jsonl",
    )
    assert submitted.code == 0, submitted.err
    (status,) = _lines(tmp_path / "submitted.jsonl")
    assert (status["status"], status["spec"]) == ("accepted", "v2")

    matched_file = tmp_path / "matched.jsonl"
    matched = term.connector(
        "match",
        payees,
        "--mode",
        "voprf",
        *bank,
        "--purpose",
        "payment_screening",
        "--legal-basis",
        "art6_1_c",
        "--out",
        matched_file,
    )
    assert matched.code == 0, matched.err
    assert "tokenising with VOPRF (spec v2)" in matched.err
    (result,) = _lines(matched_file)
    assert (result["hit"], result["spec"], result["payment"]) == (True, "v2", "p1")

    # The same identifier under v1 is another token: no hit across specs.
    v1_match = term.connector(
        "match",
        payees,
        *bank,
        "--salt-file",
        _salt_file(setting, tmp_path),
        "--purpose",
        "payment_screening",
        "--legal-basis",
        "art6_1_c",
        "--out",
        matched_file,
    )
    assert v1_match.code == 0, v1_match.err
    (result,) = _lines(matched_file)
    assert result["hit"] is False
    assert "spec" not in result


def _salt_file(setting: Setting, tmp_path: Path) -> Path:
    path = tmp_path / "salt.hex"
    path.write_text(setting.gateway.master_salt.hex(), encoding="utf-8")
    path.chmod(0o600)
    return path


def test_forged_evaluator_and_exhausted_quota_stop_hash_with_one_line(
    setting: Setting,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    term = Terminal(monkeypatch, capsys, setting)
    bank = term.partner("bank-a", "bank")
    source = tmp_path / "numbers.csv"
    source.write_text("value\n06 12345678\n06 87654321\n", encoding="utf-8")
    out = tmp_path / "tokens.jsonl"

    forged = term.connector(
        "hash", source, "--mode", "voprf", *bank, "--evaluators", setting.forged_pins, "--out", out
    )
    assert forged.code == 1
    (line,) = [text for text in forged.err.splitlines() if text.strip()][-1:]
    assert line.startswith("error: Evaluator proof refused: evaluator 'evaluator-b': ")
    assert "does not verify against its pinned key for epoch 1" in line
    assert "Traceback" not in forged.err
    assert not out.exists()
    assert list(tmp_path.glob("tokens.jsonl*")) == []  # no partial file either

    small = term.partner("psp-a", "psp")  # quota of one element per window at each evaluator
    over = term.connector("hash", source, "--mode", "voprf", *small, "--out", out)
    assert over.code == 1
    (line,) = [text for text in over.err.splitlines() if text.strip()][-1:]
    assert re.fullmatch(
        r"error: Evaluator quota exhausted: evaluator 'evaluator-[ab]': quota for this partner "
        r"is exhausted \(.*\); try again in \d+ s",
        line,
    ), line
    assert list(tmp_path.glob("tokens.jsonl*")) == []

    missing = term.connector("hash", source, "--mode", "voprf", *bank, "--evaluators", "")
    assert missing.code == 1
    assert "evaluators" in missing.err


def test_a_match_during_the_overlap_window_asks_under_both_epochs(
    setting: Setting,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """As in v1: a report made under the retiring epoch is still found during its window."""
    term = Terminal(monkeypatch, capsys, setting)
    market = term.partner("marketplace-a", "marketplace")
    bank = term.partner("bank-a", "bank", (*SCOPES, "keys:read"))
    blind_bank = term.partner("bank-b", "bank")  # cannot list epochs (no keys:read)
    reports = tmp_path / "reports.csv"
    reports.write_text(f"value\n{SELLER[0]}\n", encoding="utf-8")
    payees = tmp_path / "payees.csv"
    payees.write_text(f"value\n{SELLER[1]}\n", encoding="utf-8")
    submit = ("--purpose", "indicator_submission", "--legal-basis", "art6_1_f")
    submit = (*submit, "--category", "purchase_fraud")
    submitted = term.connector("submit", reports, "--mode", "voprf", *market, *submit)
    assert submitted.code == 0, submitted.err
    assert "epoch 1" in submitted.err

    # Rotation: both evaluators add epoch 2, the partnership re-publishes the pins, the
    # custodian activates epoch 2 at the gateway and epoch 1 enters its overlap window.
    for evaluator in setting.evaluators:
        add_epoch(evaluator, 2)
    write_pins(setting.pins, list(setting.evaluators))
    custodian = setting.gateway.custodian
    assert custodian is not None
    custodian.new_epoch()
    custodian.activate(2, overlap_days=7)

    screen = ("--purpose", "payment_screening", "--legal-basis", "art6_1_c")
    out = tmp_path / "matched.jsonl"
    matched = term.connector("match", payees, "--mode", "voprf", *bank, *screen, "--out", out)
    assert matched.code == 0, matched.err
    assert "tokenising with VOPRF (spec v2), epoch 2" in matched.err
    assert "overlap window: asking under epoch 2 and 1" in matched.err
    (result,) = _lines(out)
    assert (result["hit"], result["spec"]) == (True, "v2")

    pinned = term.connector(
        "match", payees, "--mode", "voprf", *bank, *screen, "--epoch", "2", "--out", out
    )
    assert pinned.code == 0, pinned.err
    assert "overlap window" not in pinned.err  # an explicit epoch is asked alone
    assert _lines(out)[0]["hit"] is False

    unlisted = term.connector(
        "match", payees, "--mode", "voprf", *blind_bank, *screen, "--out", out
    )
    assert unlisted.code == 0, unlisted.err
    said = " ".join(unlisted.err.split())  # the console wraps long lines
    assert "overlap window not checked (Gateway refused the request" in said
    assert "asking under epoch 2 only" in said
    assert _lines(out)[0]["hit"] is False

    # The reporter re-tokenises its indicators under the new epoch during the window.
    rehashed = term.connector(
        "rehash",
        "--mode",
        "voprf",
        *market,
        "--indicators",
        reports,
        "--submit-legal-basis",
        "art6_1_f",
        "--category",
        "purchase_fraud",
        "--out",
        tmp_path / "rehashed.jsonl",
    )
    assert rehashed.code == 0, rehashed.err
    assert "re-hashing under epoch 2" in rehashed.err
    assert [(r["status"], r["epoch"], r["spec"]) for r in _lines(tmp_path / "rehashed.jsonl")] == [
        ("accepted", 2, "v2")
    ]
    again = term.connector(
        "match", payees, "--mode", "voprf", *bank, *screen, "--epoch", "2", "--out", out
    )
    assert again.code == 0, again.err
    assert _lines(out)[0]["hit"] is True


def test_a_token_made_for_one_evaluator_is_refused_by_the_other_and_the_gateway(
    setting: Setting, tmp_path: Path
) -> None:
    """RFC 8707: evaluator A cannot replay a partner's token at B (B's quota as an oracle)."""
    keys, client_id = _pinned_partner(setting, tmp_path, setting.evaluators)
    first, second = setting.evaluators
    with GatewayClient(
        setting.gateway.url, client_id, keys, scopes=["oprf:evaluate"], resource=first.url
    ) as for_first:
        token = for_first.access_token()

    def ask(evaluator: EvaluatorProcess) -> httpx.Response:
        url = f"{evaluator.url}/v2/evaluate"
        proof = possession_proof(
            keys.signing_key, method="POST", url=url, access_token=token, now=time.time()
        )
        headers = {"Authorization": f"Bearer {token}", "DPoP": proof}
        return httpx.post(url, json=_evaluation_body(), headers=headers)

    assert ask(first).status_code == 200
    replayed = ask(second)  # with a valid proof for B: only the audience is wrong
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "token-audience"
    at_gateway = httpx.get(
        f"{setting.gateway.url}/v1/keys/epochs", headers={"Authorization": f"Bearer {token}"}
    )
    assert at_gateway.status_code == 401
    assert at_gateway.json()["reasons"] == ["token-audience"]


def test_a_token_the_gateway_operator_mints_alone_gets_no_evaluation(
    setting: Setting, tmp_path: Path
) -> None:
    """The operator holds the token-signing key, not the partner's: every evaluator refuses."""
    first, _second = setting.evaluators
    _keys, client_id = _pinned_partner(setting, tmp_path, (first,))
    url = f"{first.url}/v2/evaluate"
    minted = _operator_token(setting.gateway, client_id, "bank-a", audience=first.url)
    bare = httpx.post(url, json=_evaluation_body(), headers={"Authorization": f"Bearer {minted}"})
    assert bare.status_code == 401
    assert bare.json()["code"] == "proof-missing"
    own_key = ConnectorKeys.generate().signing_key  # the operator signs with a key of its own
    proof = possession_proof(own_key, method="POST", url=url, access_token=minted, now=time.time())
    forged = httpx.post(
        url,
        json=_evaluation_body(),
        headers={"Authorization": f"Bearer {minted}", "DPoP": proof},
    )
    assert forged.status_code == 401
    assert forged.json()["code"] == "proof-key"


def _pinned_partner(
    setting: Setting, folder: Path, evaluators: tuple[EvaluatorProcess, ...]
) -> tuple[ConnectorKeys, str]:
    """bank-a's connector: registered at the gateway, its key pinned at ``evaluators``."""
    keys = ConnectorKeys.generate()
    client_id = setting.gateway.register_client("bank-a", "bank", SCOPES, keys)
    jwks = folder / "bank-a-public.json"
    jwks.write_text(json.dumps(keys.public_jwks()), encoding="utf-8")
    for evaluator in evaluators:
        pin_client(evaluator, client_id, "bank-a", jwks)
    return keys, client_id


def _operator_token(gateway: Gateway, client_id: str, partner_id: str, *, audience: str) -> str:
    """A token signed with the gateway's own key, as its operator could make without asking."""
    settings = gateway.services.settings
    generator = AccessTokenGenerator(
        key=load_token_signing_key(settings),
        settings=settings,
        now=lambda: datetime.now(tz=UTC),
        resource=lambda: audience,
    )
    row = PartnerClient(id=client_id, partner_id=partner_id, key_version=1, scopes="oprf:evaluate")
    partner = PartnerRow(id=partner_id, name=partner_id, sector="bank")
    token = generator.generate(
        "client_credentials",
        RegisteredClient(row, partner),
        scope="oprf:evaluate",
        include_refresh_token=False,
    )
    return str(token["access_token"])


def _evaluation_body() -> dict[str, object]:
    _blind, element = protocol.blind(b"ppsgate:v2:phone:+31612345678", protocol.Mode.VOPRF)
    return {
        "epoch": 1,
        "kind": "phone",
        "blinded_elements": base64.b64encode(element).decode("ascii"),
    }
