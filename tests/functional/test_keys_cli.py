"""The command lines of key custody against a real gateway, as the people would run them.

The custodian (``ppsgate-connector custodian``), two partners' connectors (``keys fetch``,
``hash``, ``submit``, ``match``, ``rehash``) and the gateway operator (``ppsgate keys``)
each use only their own files; everything goes through the CLIs' single exit points.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.canonical import Kind, canonicalize
from connectors.cli import main as connector_main
from connectors.custodian.state import load_state
from connectors.hashing import token, type_key
from connectors.keystore import load_keystore
from gateway.cli import main as operator_main
from tests.support.gateway import Gateway, running_gateway

SELLER = "NL91 ABNA 0417 1643 00"
CALLER = "06 12345678"


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def keyless(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    with running_gateway(database_url, tmp_path / "data", bootstrap_epoch=False) as running:
        yield running


class Terminal:
    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], gw: Gateway
    ) -> None:
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        self.gateway = gw
        for name in ("KEYSTORE", "CLIENT_ID", "GATEWAY", "TYPEKEYS", "PASSPHRASE", "CUSTODIAN_KEY"):
            monkeypatch.delenv(f"PPSGATE_CONNECTOR_{name}", raising=False)
        settings = gw.services.settings
        monkeypatch.setenv("PPSGATE_ENV", "test")
        monkeypatch.setenv("PPSGATE_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("PPSGATE_DATABASE_URL", settings.effective_database_url)
        monkeypatch.setenv("PPSGATE_PUBLIC_URL", settings.public_url)

    def _run(self, entry: object, program: str, *args: str | Path) -> Run:
        self.monkeypatch.setattr("sys.argv", [program, *map(str, args)])
        code: int = 0
        try:
            entry()  # type: ignore[operator]
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)

    def connector(self, *args: str | Path) -> Run:
        return self._run(connector_main, "ppsgate-connector", *args)

    def operator(self, *args: str | Path) -> Run:
        return self._run(operator_main, "ppsgate", *args)

    def installation(self, folder: Path, partner_id: str, scopes: tuple[str, ...]) -> str:
        """``keys init`` by the partner, ``partner add-client`` by the operator."""
        keystore = folder / "keystore.json"
        made = self.connector("keys", "init", "--no-passphrase", "--keystore", keystore)
        assert made.code == 0, made.err
        sector = {"bank-a": "bank", "telecom-a": "telecom", "marketplace-a": "marketplace"}.get(
            partner_id, "partnership_dpo"
        )
        keys = load_keystore(keystore)
        return self.gateway.register_client(partner_id, sector, scopes, keys)


def test_custody_and_rotation_from_the_command_lines(
    keyless: Gateway,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    term = Terminal(monkeypatch, capsys, keyless)
    url = ("--gateway", keyless.url)
    # The operator hands custody to a new custodian: the test gateway's own is revoked first.
    assert term.operator("keys", "revoke-custodian").code == 1  # needs --yes
    assert term.operator("keys", "revoke-custodian", "--yes").code == 0

    custodian_dir, bank_dir, telecom_dir, market_dir = (
        tmp_path / d for d in ("custodian", "bank", "tel", "market")
    )
    custodian_id = term.installation(custodian_dir, "custodian-cli", ("keys:custody",))
    bank_id = term.installation(
        bank_dir, "bank-a", ("keys:read", "indicators:write", "match:query")
    )
    telecom_id = term.installation(telecom_dir, "telecom-a", ("keys:read",))
    market_id = term.installation(market_dir, "marketplace-a", ("keys:read", "indicators:write"))
    custodian = (
        *url,
        "--client-id",
        custodian_id,
        "--keystore",
        custodian_dir / "keystore.json",
        "--state",
        custodian_dir / "state.json",
    )

    created = term.connector("custodian", "init", *custodian)
    assert created.code == 0, created.err
    custodian_key = created.out.strip()
    assert custodian_key.startswith("ed25519:")
    made = term.connector("custodian", "new-epoch", "--pin-new", *custodian)
    assert made.code == 0, made.err
    assert "pinned bank-a-c1" in made.err
    assert term.connector("custodian", "activate", "1", *custodian).code == 0

    def partner(folder: Path, client_id: str) -> tuple[str | Path, ...]:
        return (
            *url,
            "--client-id",
            client_id,
            "--keystore",
            folder / "keystore.json",
            "--typekeys",
            folder / "typekeys.json",
        )

    bank, telecom = partner(bank_dir, bank_id), partner(telecom_dir, telecom_id)
    market = partner(market_dir, market_id)
    assert term.connector("keys", "fetch", *bank).code == 1  # no custodian key pinned yet
    fetched = term.connector("keys", "fetch", *bank, "--custodian-key", custodian_key)
    assert fetched.code == 0, fetched.err
    assert (
        "epoch 1: stored keys for crypto_address, email, iban, phone, social_account, url"
        in fetched.err
    )
    fetched = term.connector("keys", "fetch", *telecom, "--custodian-key", custodian_key)
    assert "epoch 1: stored keys for phone" in fetched.err
    fetched = term.connector("keys", "fetch", *market, "--custodian-key", custodian_key)
    assert "epoch 1: stored keys for domain, email, iban, phone, social_account, url" in fetched.err
    impostor = "ed25519:" + "A" * 43
    swapped = term.connector("keys", "fetch", *bank, "--custodian-key", impostor)
    assert swapped.code == 1
    assert "differs from the custodian key pinned" in swapped.err

    # hash takes the active epoch's keys from the store; a kind without a key is refused.
    source = tmp_path / "numbers.csv"
    source.write_text(f"value,ref\n{CALLER},r1\n{SELLER},r2\n", encoding="utf-8")
    hashed = term.connector(
        "hash",
        source,
        "--typekeys",
        telecom_dir / "typekeys.json",
        "--rejects",
        tmp_path / "rejects.csv",
    )
    assert hashed.code == 0, hashed.err
    salt = load_state(custodian_dir / "state.json", passphrase=None).open_salt(
        load_keystore(custodian_dir / "keystore.json"), 1
    )
    (line,) = [json.loads(row) for row in hashed.out.splitlines()]
    phone = canonicalize(Kind.PHONE, CALLER)
    assert line["token"] == token(Kind.PHONE, phone, type_key(salt, Kind.PHONE))
    assert line["epoch"] == 1
    rejects = (tmp_path / "rejects.csv").read_text(encoding="utf-8")
    assert "no iban key for this epoch (type not issued)" in rejects

    # The marketplace reports under epoch 1; then the custodian rotates.
    reports = tmp_path / "reports.csv"
    reports.write_text(
        "value,reference\n" + "".join(f"{SELLER},case-{n}\n" for n in range(3)), encoding="utf-8"
    )
    submitted = term.connector(
        "submit",
        reports,
        *market,
        "--purpose",
        "indicator_submission",
        "--legal-basis",
        "art6_1_f",
        "--category",
        "purchase_fraud",
    )
    assert submitted.code == 0, submitted.err
    assert term.connector("custodian", "new-epoch", *custodian).code == 0
    activated = term.connector("custodian", "activate", "2", *custodian)
    assert "epoch 2: active" in activated.err
    assert "epoch 2: stored keys" in term.connector("keys", "fetch", *bank).err
    assert "epoch 2: stored keys" in term.connector("keys", "fetch", *market).err

    # match during the overlap window asks under both epochs and merges per row.
    payees = tmp_path / "payees.csv"
    payees.write_text(f"value,payment\n{SELLER},p1\n", encoding="utf-8")
    out = tmp_path / "matched.jsonl"
    matched = term.connector(
        "match",
        payees,
        *bank,
        "--purpose",
        "payment_screening",
        "--legal-basis",
        "art6_1_c",
        "--out",
        out,
    )
    assert matched.code == 0, matched.err
    (result,) = [json.loads(row) for row in out.read_text(encoding="utf-8").splitlines()]
    assert (result["hit"], result["epochs"], result["reports"]) == (True, [2, 1], 3)

    # rehash re-submits the marketplace's reports under epoch 2; then epoch 1 retires early.
    rehashed = term.connector(
        "rehash",
        *market,
        "--indicators",
        reports,
        "--submit-legal-basis",
        "art6_1_f",
        "--category",
        "purchase_fraud",
    )
    assert rehashed.code == 0, rehashed.err
    assert "re-hashing under epoch 2" in rehashed.err
    retired = term.connector("custodian", "retire", "1", *custodian)
    assert retired.code == 0, retired.err
    assert "purged" in retired.err
    assert "indicators 3" in retired.err
    assert "epoch 1: retired, its keys were deleted" in term.connector("keys", "fetch", *bank).err
    matched = term.connector(
        "match",
        payees,
        *bank,
        "--purpose",
        "payment_screening",
        "--legal-basis",
        "art6_1_c",
        "--out",
        out,
    )
    (result,) = [json.loads(row) for row in out.read_text(encoding="utf-8").splitlines()]
    assert (result["hit"], result["epoch"], result["reports"]) == (True, 2, 3)
    assert "epochs" not in result

    status = term.connector("custodian", "status", *custodian)
    assert status.code == 0, status.err
    listing = term.operator("keys", "list")
    assert listing.code == 0, listing.err
    assert "retired" in listing.out
