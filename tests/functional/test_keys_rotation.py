"""Rotation end to end over the API: overlap, re-hashing, purge, refusal; suspension.

Epoch 2 is activated while epoch 1 data exist. During the overlap window a connector asks
under both epochs and merges per row, so a report made under epoch 1 is found by a partner
already on epoch 2; partners re-hash. When the window ends the retention purge deletes epoch
1's indicators and watch entries and retires it; requests under epoch 1 are then refused
with a reason. A partner suspended before an epoch is made gets no envelope for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.client import GatewayAPIError
from connectors.custodian import epochs as custody
from connectors.hashing import HmacTokeniserV1
from connectors.workflows import operations
from connectors.workflows.rows import hash_on_the_fly
from gateway.alerts.models import WatchEntry
from gateway.audit_trail.events import Actor
from gateway.audit_trail.models import AuditEntry
from gateway.db import transaction
from gateway.indicators.models import Indicator
from gateway.partners.service import PartnerRegistry
from gateway.retention import purge
from tests.support.gateway import Gateway, Partner, running_gateway

SELLER = "NL91 ABNA 0417 1643 00"
NEW_FRAUD = "NL44RABO0123456789"
CUSTOMER = "NL69INGB0123456789"
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
WATCH = {"purpose": "watchlist_alerts", "legal_basis": "art6_1_f"}
SCREEN = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}
CASES = ("case-1", "case-2", "case-3")  # three reports: enough to disclose count and category


@pytest.fixture
def keyless(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    with running_gateway(database_url, tmp_path / "data", bootstrap_epoch=False) as running:
        yield running


def report(gateway: Gateway, partner: Partner, value: str, epoch: int, ref: str) -> Any:
    item = {
        **partner.item("iban", value, epoch=epoch),
        "category": "purchase_fraud",
        "observed_at": (gateway.clock.now() - timedelta(hours=1)).isoformat(),
        "reference": ref,
    }
    return partner.post("/v1/indicators", {**SUBMIT, "items": [item]})


def screen_file(partner: Partner, path: Path, now: datetime) -> list[dict[str, Any]]:
    """What ``ppsgate-connector match`` does with a raw file during an overlap window."""
    usable = partner.store.usable(now)
    main, *older = (HmacTokeniserV1(held.type_keys()) for held in usable)
    rows = hash_on_the_fly(path, main, region="NL", also=tuple(older))
    written: list[dict[str, Any]] = []
    operations.match(
        _Api(partner),
        rows,
        purpose=SCREEN["purpose"],
        legal_basis=SCREEN["legal_basis"],
        batch_size=100,
        emit=written.extend,
    )
    return written


class _Api:
    def __init__(self, partner: Partner) -> None:
        self.partner = partner

    def call(self, method: str, path: str, *, json: Any = None, **_: Any) -> Any:
        return self.partner.call(method, path, json)


def tags(gateway: Gateway) -> list[str]:
    with transaction(gateway.services.session_factory) as session:
        return list(session.scalars(select(AuditEntry.tag).order_by(AuditEntry.seq)))


def epoch_rows(gateway: Gateway, model: Any, epoch: int) -> int:
    with transaction(gateway.services.session_factory) as session:
        return int(
            session.scalar(select(func.count()).select_from(model).where(model.epoch == epoch)) or 0
        )


def test_rotation_overlap_rehash_purge_and_refusal(keyless: Gateway, tmp_path: Path) -> None:
    gateway = keyless
    custodian = gateway.custodian
    assert custodian is not None
    bank, marketplace = gateway.partner("bank-a"), gateway.partner("marketplace-a")
    custodian.new_epoch()
    custodian.activate(1)
    for partner in (bank, marketplace):
        partner.fetch_keys()

    # Under epoch 1: the marketplace reports the seller, the bank watches its customer.
    for case in CASES:
        assert report(gateway, marketplace, SELLER, 1, case)["accepted"] == 1
    watched = bank.call(
        "PUT", "/v1/watchlist", {**WATCH, "items": [bank.item("iban", CUSTOMER, epoch=1)]}
    )
    assert watched["added"] == 1

    # Rotation: epoch 2 is made and activated; epoch 1 enters its 30-day window.
    custodian.new_epoch()
    activated = custodian.activate(2)
    assert activated["epoch"]["state"] == "active"
    for partner in (bank, marketplace):
        partner.fetch_keys()
    assert [(k.epoch, k.state) for k in bank.store.usable(gateway.clock.now())] == [
        (2, "active"),
        (1, "retiring"),
    ]

    # During the overlap the bank, already on epoch 2, screens a raw file: asked under both
    # epochs, the seller reported under epoch 1 is found.
    source = tmp_path / "payees.csv"
    source.write_text(f"value,payment\n{SELLER},p-1\n{NEW_FRAUD},p-2\n", encoding="utf-8")
    results = {r["payment"]: r for r in screen_file(bank, source, gateway.clock.now())}
    assert results["p-1"]["hit"] is True
    assert results["p-1"]["epochs"] == [2, 1]
    assert results["p-1"]["reports"] == 3
    assert results["p-1"]["categories"] == ["purchase_fraud"]
    assert results["p-2"]["hit"] is False
    # Under epoch 2 alone it is not found yet: the marketplace has not re-hashed.
    only_new = bank.post("/v1/match", {**SCREEN, "items": [bank.item("iban", SELLER, epoch=2)]})
    assert only_new["results"][0]["hit"] is False

    # The marketplace re-hashes its report and makes a new one under epoch 2; the bank
    # re-hashes its watch list.
    for case in CASES:
        assert report(gateway, marketplace, SELLER, 2, case)["accepted"] == 1
    assert report(gateway, marketplace, NEW_FRAUD, 2, "case-4")["accepted"] == 1
    bank.call("PUT", "/v1/watchlist", {**WATCH, "items": [bank.item("iban", CUSTOMER, epoch=2)]})
    results = {r["payment"]: r for r in screen_file(bank, source, gateway.clock.now())}
    assert results["p-1"]["hit"] is True
    assert results["p-1"]["reports"] == 3  # the same cases under two epochs count once
    assert results["p-2"]["hit"] is True
    assert "epochs" in results["p-2"]

    # The window ends. Before the purge runs, epoch 1 is already refused ...
    gateway.clock.current += timedelta(days=30, seconds=1)
    with pytest.raises(GatewayAPIError) as late:
        bank.post("/v1/match", {**SCREEN, "items": [bank.item("iban", SELLER, epoch=1)]})
    assert late.value.status == 422
    assert late.value.field == "items.0.epoch"
    assert "overlap window ended" in str(late.value)
    # ... and the purge deletes its data and retires it, audited as counts.
    assert epoch_rows(gateway, Indicator, 1) == 3
    assert epoch_rows(gateway, WatchEntry, 1) == 1
    with transaction(gateway.services.session_factory) as session:
        counts = purge(session, gateway.services, request_id="purge-t", actor="test").counts
    assert counts["epochs_retired"] == 1
    assert counts["epoch_indicators"] == 3
    assert counts["epoch_watch_entries"] == 1
    assert epoch_rows(gateway, Indicator, 1) == 0
    assert epoch_rows(gateway, WatchEntry, 1) == 0
    assert epoch_rows(gateway, Indicator, 2) == 4
    with transaction(gateway.services.session_factory) as session:
        body = session.scalars(
            select(AuditEntry.body).where(AuditEntry.tag == "key:epoch:retire")
        ).one()
    retirement = json.loads(bytes(body))
    assert retirement["reasons"] == ["overlap-window-ended"]
    assert retirement["counts"] == {"epoch": 1, "indicators": 3, "watch_entries": 1, "envelopes": 2}

    # Requests under epoch 1 are refused with a reason, per row where answers are per row.
    refused = report(gateway, marketplace, SELLER, 1, "case-9")
    assert refused["results"][0]["status"] == "rejected"
    assert refused["results"][0]["field"] == "epoch"
    assert "epoch 1 is retired" in refused["results"][0]["reason"]
    assert "use the active epoch 2" in refused["results"][0]["reason"]
    rewatch = bank.call(
        "PUT", "/v1/watchlist", {**WATCH, "items": [bank.item("iban", CUSTOMER, epoch=1)]}
    )
    assert rewatch["results"][0]["field"] == "epoch"
    with pytest.raises(GatewayAPIError) as gone:
        bank.post("/v1/match", {**SCREEN, "items": [bank.item("iban", SELLER, epoch=1)]})
    assert gone.value.field == "items.0.epoch"
    assert "retired" in str(gone.value)
    # The connector forgets epoch 1's keys when it next fetches.
    assert bank.fetch_keys().dropped == [1]
    assert sorted(bank.store.epochs) == [2]
    still = bank.post("/v1/match", {**SCREEN, "items": [bank.item("iban", SELLER, epoch=2)]})
    assert still["results"][0]["hit"] is True

    key_tags = [t for t in tags(gateway) if t.startswith("key:epoch")]
    assert key_tags == [
        "key:epoch:create",
        "key:epoch:activate",
        "key:epoch:create",
        "key:epoch:activate",
        "key:epoch:retire",
    ]


def test_a_partner_suspended_before_epoch_3_gets_no_envelope_for_it(keyless: Gateway) -> None:
    gateway = keyless
    custodian = gateway.custodian
    assert custodian is not None
    partners = {p: gateway.partner(p) for p in ("bank-a", "telecom-a", "marketplace-a")}
    custodian.new_epoch()
    custodian.activate(1)
    custodian.new_epoch()
    custodian.activate(2, overlap_days=0)  # epoch 1 retires at once
    partners["telecom-a"].fetch_keys()
    assert sorted(partners["telecom-a"].store.epochs) == [2]

    stale_listing = custodian.api.call("GET", "/v1/keys/recipients")["recipients"]
    with transaction(gateway.services.session_factory) as session:
        PartnerRegistry(session, gateway.services.audit, actor=Actor("t", user="t")).suspend(
            "telecom-a"
        )
    made = custodian.new_epoch()
    assert sorted(client for client, _, _ in made.sealed) == ["bank-a-c1", "marketplace-a-c1"]
    assert ("telecom-a-c1", "partner is suspended") in made.skipped
    # Even a custodian sealing to a stale list cannot slip an envelope past the gateway.
    issued = custody.IssueReport(epoch=3)
    entries, uploads = custody.seal_for_recipients(
        custodian.state,
        b"\x03" * 32,
        [r for r in stale_listing if r["client_id"] == "telecom-a-c1"],
        epoch=3,
        pin_new=True,
        report=issued,
    )
    with pytest.raises(GatewayAPIError) as refused:
        custodian.api.call(
            "POST",
            "/v1/keys/epochs/3/envelopes",
            json=custody.signed_upload(
                custodian.state, epoch=3, kind="supplement", entries=entries, uploads=uploads
            ),
        )
    assert refused.value.status == 422
    assert "partner is suspended" in str(refused.value)
    custodian.activate(3)

    # Suspended, the telecom cannot even ask; reinstated, there is still nothing for it.
    with pytest.raises(GatewayAPIError) as suspended:
        partners["telecom-a"].call("GET", "/v1/keys/epochs")
    assert suspended.value.status == 401
    with transaction(gateway.services.session_factory) as session:
        PartnerRegistry(session, gateway.services.audit, actor=Actor("t", user="t")).reinstate(
            "telecom-a"
        )
    fetched = partners["telecom-a"].fetch_keys()
    assert fetched.missing == [3]
    assert 3 not in partners["telecom-a"].store.epochs
    for other in ("bank-a", "marketplace-a"):
        assert 3 in {n for n, _ in partners[other].fetch_keys().fetched}
