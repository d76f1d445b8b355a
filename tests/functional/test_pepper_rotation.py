"""Rotating K_gw with the salt epochs, on a real gateway, SQLite and PostgreSQL.

The pepper cannot be re-applied to stored data (the gateway never keeps a token), so a new
key takes over from a new salt epoch on, and the old key goes when its epoch is retired and
its audit details are purged. The test walks that runbook and the two mistakes an operator
could make: adding a key for an epoch that already holds tokens, and a ring file that
contradicts what was stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.client import GatewayAPIError
from gateway.alerts.models import WebhookEndpoint
from gateway.alerts.webhooks import webhook_secret
from gateway.audit_trail.models import AuditEntry
from gateway.bootstrap import build_services
from gateway.cli import main as operator_main
from gateway.db import transaction
from gateway.epochs.models import KeyEpoch
from gateway.errors import ConfigurationError, ConflictError
from gateway.indicators.models import Indicator
from gateway.keys import pepper_binding
from gateway.keys.pepper_rotation import add_key, prune_keys
from gateway.pepper import pepper_path, read_ring, ring_keys, write_ring
from gateway.retention import purge
from tests.support.gateway import Gateway, Partner, running_gateway

SELLER = "NL91 ABNA 0417 1643 00"
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
SCREEN = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}


@pytest.fixture
def keyless(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    with running_gateway(
        database_url, tmp_path / "data", bootstrap_epoch=False, unsafe_webhook_loopback=True
    ) as running:
        yield running


def report(gateway: Gateway, partner: Partner, epoch: int, case: str) -> Any:
    item = {
        **partner.item("iban", SELLER, epoch=epoch),
        "category": "purchase_fraud",
        "observed_at": (gateway.clock.now() - timedelta(hours=1)).isoformat(),
        "reference": case,
    }
    return partner.post("/v1/indicators", {**SUBMIT, "items": [item]})


def hit(partner: Partner, epoch: int) -> bool:
    answer = partner.post(
        "/v1/match", {**SCREEN, "items": [partner.item("iban", SELLER, epoch=epoch)]}
    )
    return bool(answer["results"][0]["hit"])


def stored_hashes(gateway: Gateway, epoch: int) -> set[bytes]:
    with transaction(gateway.services.session_factory) as session:
        return set(session.scalars(select(Indicator.token_hash).where(Indicator.epoch == epoch)))


def bindings(gateway: Gateway) -> dict[int, str | None]:
    with transaction(gateway.services.session_factory) as session:
        rows = session.execute(select(KeyEpoch.epoch, KeyEpoch.pepper_key_id)).all()
    return dict(rows)


def endpoint(gateway: Gateway, partner_id: str) -> WebhookEndpoint:
    with transaction(gateway.services.session_factory) as session:
        row = session.get(WebhookEndpoint, partner_id)
        assert row is not None
        session.expunge(row)
        return row


def test_pepper_rotates_with_the_salt_epochs(keyless: Gateway) -> None:
    gateway, services = keyless, keyless.services
    custodian = gateway.custodian
    assert custodian is not None
    bank, marketplace = gateway.partner("bank-a"), gateway.partner("marketplace-a")
    custodian.new_epoch()
    custodian.activate(1)
    for partner in (bank, marketplace):
        partner.fetch_keys()
    first = services.pepper.newest.key_id
    assert report(gateway, marketplace, 1, "case-1")["accepted"] == 1
    hook = bank.call("PUT", "/v1/alerts/webhook", {"url": "http://127.0.0.1:9/hook"})
    assert bindings(gateway) == {1: first}

    # A key for an epoch that already holds tokens would orphan them: refused.
    with pytest.raises(ConflictError, match="must start at epoch 2"):
        add_key(services, 1, actor="test")
    second = add_key(services, 2, actor="test")
    assert second != first
    assert [entry.from_epoch for entry in read_ring(pepper_path(services.settings)).entries] == [
        1,
        2,
    ]

    # Epoch 2 is issued after the new key: its tokens are peppered with it, epoch 1's not.
    custodian.new_epoch()
    custodian.activate(2)
    for partner in (bank, marketplace):
        partner.fetch_keys()
    assert bindings(gateway) == {1: first, 2: second}
    assert report(gateway, marketplace, 2, "case-1")["accepted"] == 1
    token_2 = marketplace.item("iban", SELLER, epoch=2)["token"]
    assert stored_hashes(gateway, 2) == {services.pepper.by_id(second).token(token_2)}
    assert services.pepper.by_id(first).token(token_2) not in stored_hashes(gateway, 2)
    assert hit(bank, 1)
    assert hit(bank, 2)
    # The webhook secret stays what the bank was given: it is pinned to its key.
    assert webhook_secret(services, endpoint(gateway, "bank-a")) == hook["secret"]

    # A ring file that contradicts the records stops a new worker, and a running one refuses
    # the contradicted epoch instead of answering "no hit".
    path = pepper_path(services.settings)
    good = ring_keys(path)
    write_ring(path, [good[0], (2, secrets.token_bytes(32))])
    with pytest.raises(ConfigurationError, match="epoch 2 was peppered with key " + second):
        build_services(services.settings)
    with transaction(services.session_factory) as session:
        assert list(pepper_binding.refresh(session, services.pepper)) == [2]
    with pytest.raises(GatewayAPIError) as refused:
        hit(bank, 2)
    assert refused.value.status == 500
    assert "epoch 2 cannot be peppered" in str(refused.value)
    assert second not in str(refused.value)  # key ids and paths stay in the operator's log
    assert hit(bank, 1)
    write_ring(path, good)
    with transaction(services.session_factory) as session:
        assert pepper_binding.refresh(session, services.pepper) == {}
    assert hit(bank, 2)

    # The old key stays while anything depends on it ...
    blocked = prune_keys(services, actor="test", dry_run=True)
    assert blocked.pruned == []
    assert blocked.uses[0].live_epochs == (1,)
    gateway.clock.current += timedelta(days=30, seconds=1)
    with transaction(services.session_factory) as session:
        assert (
            purge(session, services, request_id="purge-t", actor="test").counts["epochs_retired"]
            == 1
        )
    now = gateway.clock.now()
    assert prune_keys(services, actor="test").pruned == []
    assert "webhook" in str(prune_keys(services, actor="test").uses[0].blocker(now, newest=False))
    bank.call(
        "PUT", "/v1/alerts/webhook", {"url": "http://127.0.0.1:9/hook"}
    )  # takes the newest key
    assert endpoint(gateway, "bank-a").secret_key_id == second
    details = prune_keys(services, actor="test").uses[0].blocker(gateway.clock.now(), newest=False)
    assert details is not None
    assert "audit details" in details
    # ... and goes once its audit details are past retention.
    gateway.clock.current += timedelta(days=services.settings.audit_detail_retention_days)
    pruned = prune_keys(services, actor="test")
    assert pruned.pruned == [first]
    assert [(e.from_epoch, e.key_id) for e in read_ring(path).entries] == [(2, second)]
    # (The first report has expired by now; a fresh one matches under the remaining key.)
    assert report(gateway, marketplace, 2, "case-2")["accepted"] == 1
    assert hit(bank, 2)
    restarted = build_services(services.settings)  # the retired epoch no longer binds the ring
    restarted.engine.dispose()
    with transaction(services.session_factory) as session:
        tags = list(
            session.scalars(
                select(AuditEntry.tag)
                .where(AuditEntry.tag.like("key:pepper:%"))
                .order_by(AuditEntry.seq)
            )
        )
    assert tags == ["key:pepper:add", "key:pepper:prune"]


def test_the_operator_command_refuses_a_key_for_an_issued_epoch(
    keyless: Gateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    custodian = keyless.custodian
    assert custodian is not None
    custodian.new_epoch()
    settings = keyless.services.settings
    monkeypatch.setenv("PPSGATE_ENV", "test")
    monkeypatch.setenv("PPSGATE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PPSGATE_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("PPSGATE_PUBLIC_URL", settings.public_url)
    monkeypatch.setenv("COLUMNS", "200")  # one table row per line

    def run(*args: str) -> tuple[int, str]:
        monkeypatch.setattr("sys.argv", ["ppsgate", "pepper", *args])
        try:
            operator_main()
        except SystemExit as stop:
            captured = capsys.readouterr()
            return (stop.code if isinstance(stop.code, int) else 1), captured.out + captured.err
        captured = capsys.readouterr()
        return 0, captured.out + captured.err

    code, text = run("add", "--from-epoch", "1")
    assert code == 1
    assert "from_epoch" in text
    assert "must start at epoch 2" in text
    code, text = run("add", "--from-epoch", "2")
    assert code == 0, text
    code, text = run("status")
    assert code == 0
    assert "no: epochs not retired: 1" in text
    assert "newest key" in text
