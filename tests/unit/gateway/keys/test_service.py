"""The custodian's key, epoch states and overlap windows, and handing out envelopes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.custodian import formats as fm
from connectors.custodian.state import CustodianState
from gateway.audit_trail.events import Actor
from gateway.auth.principal import Principal
from gateway.errors import ConflictError, NotFoundError, PermissionDeniedError
from gateway.keys.service import KeyCustody
from tests.unit.gateway.keys.conftest import SECTORS, World

CUSTODIAN = "custodian-pps-c1"


def principal(client_id: str) -> Principal:
    partner_id = client_id.rsplit("-c", 1)[0]
    return Principal(
        partner_id=partner_id,
        client_id=client_id,
        user=None,
        sector=SECTORS.get(partner_id, "partnership_dpo"),
        scopes=frozenset({"keys:read"}),
        roles=frozenset(),
    )


def make_epoch(world: World, number: int, *, activate: bool = True) -> None:
    with world.session() as session:
        world.custody(session, CUSTODIAN).upload_epoch(CUSTODIAN, world.upload(number))
    if activate:
        with world.session() as session:
            world.custody(session, CUSTODIAN).activate(CUSTODIAN, number, None)


def test_registration_needs_proof_of_possession_and_one_key_at_a_time(world: World) -> None:
    other = CustodianState.generate(CUSTODIAN)
    body = other.registration()
    forged = fm.b64(fm.sign(world.custodian.signing_key, fm.CUSTODIAN_KEY_CONTEXT, b"x"))
    with pytest.raises(PermissionDeniedError) as refused, world.session() as session:
        KeyCustody(session, world.services, Actor("t")).register_custodian(
            CUSTODIAN, body["public_key"], forged
        )
    assert refused.value.field == "proof"
    assert world.tags().count("key:custodian:register") == 2  # the setup's, and the refusal
    with pytest.raises(ConflictError) as second, world.session() as session:
        KeyCustody(session, world.services, Actor("t")).register_custodian(
            CUSTODIAN, body["public_key"], body["proof"]
        )
    assert "revoke it first" in second.value.reason
    with world.session() as session:
        revoked = KeyCustody(session, world.services, Actor("t", user="cli:op")).revoke_custodian()
    assert revoked.key_id == world.custodian.key_id
    with world.session() as session:
        row = KeyCustody(session, world.services, Actor("t")).register_custodian(
            CUSTODIAN, body["public_key"], body["proof"]
        )
    assert row.key_id == other.key_id
    assert world.tags().count("key:custodian:revoke") == 1


def test_activation_starts_the_overlap_window(world: World) -> None:
    make_epoch(world, 1)
    make_epoch(world, 2, activate=False)
    start = world.clock.now()
    with world.session() as session:
        done = world.custody(session, CUSTODIAN).activate(CUSTODIAN, 2, None)
    assert done.epoch.state == "active"
    with world.session() as session:
        listed = {
            e.epoch: e for e in KeyCustody(session, world.services, Actor("t")).list_epochs(None)
        }
    assert listed[1].state == "retiring"
    assert listed[1].overlap_ends_at == start + timedelta(days=30)  # the setting's default
    activation = world.entries("key:epoch:activate")[-1]
    assert activation["counts"] == {"epoch": 2, "overlap_days": 30}

    # A third epoch cannot be activated while epoch 1 is still in its window ...
    make_epoch(world, 3, activate=False)
    with pytest.raises(ConflictError) as busy, world.session() as session:
        world.custody(session, CUSTODIAN).activate(CUSTODIAN, 3, None)
    assert "epoch 1 is still in its overlap window" in busy.value.reason
    # ... the active epoch cannot be retired, a retired one not twice.
    with pytest.raises(ConflictError), world.session() as session:
        world.custody(session, CUSTODIAN).retire_now(CUSTODIAN, 2)
    with world.session() as session:
        ended = world.custody(session, CUSTODIAN).retire_now(CUSTODIAN, 1)
    assert ended.epoch.state == "retired"
    assert ended.purged == {"indicators": 0, "watch_entries": 0, "envelopes": 3}
    with pytest.raises(ConflictError), world.session() as session:
        world.custody(session, CUSTODIAN).retire_now(CUSTODIAN, 1)
    # With no window at all the previous epoch retires with the activation.
    with world.session() as session:
        instant = world.custody(session, CUSTODIAN).activate(CUSTODIAN, 3, 0)
    assert instant.retired == [2]
    retirements = world.entries("key:epoch:retire")
    assert [r["reasons"] for r in retirements] == [["retired-early"], ["overlap-skipped"]]
    assert [r["counts"]["epoch"] for r in retirements] == [1, 2]


def test_a_pending_epoch_can_be_cancelled(world: World) -> None:
    make_epoch(world, 1, activate=False)
    with world.session() as session:
        cancelled = world.custody(session, CUSTODIAN).retire_now(CUSTODIAN, 1)
    assert (cancelled.epoch.state, cancelled.purged) == ("retired", {})
    assert world.entries("key:epoch:retire")[0]["reasons"] == ["cancelled"]


def test_only_the_custodian_moves_epochs(world: World) -> None:
    make_epoch(world, 1, activate=False)
    with pytest.raises(PermissionDeniedError), world.session() as session:
        world.custody(session, "bank-a-c1").activate("bank-a-c1", 1, None)
    with pytest.raises(NotFoundError), world.session() as session:
        world.custody(session, CUSTODIAN).activate(CUSTODIAN, 9, None)


def test_each_client_gets_only_its_own_envelope_audited(world: World) -> None:
    make_epoch(world, 1)
    with world.session() as session:
        custody = world.custody(session, "telecom-a-c1")
        fetched = custody.fetch_envelope(principal("telecom-a-c1"), 1)
        mine = (fetched.envelope.client_id, fetched.envelope.kinds)
        listed = custody.list_epochs("telecom-a-c1")
    assert mine == ("telecom-a-c1", "phone")
    assert (listed[0].envelope, listed[0].kinds) == (True, ["phone"])
    (fetch,) = world.entries("key:envelope:fetch")
    assert fetch["actor"]["client"] == "telecom-a-c1"
    assert fetch["purpose"] == "key_distribution"
    assert fetch["counts"] == {"epoch": 1, "kinds": 1}

    late = world.add_client("bank-b")
    with pytest.raises(NotFoundError) as none, world.session() as session:
        world.custody(session, late).fetch_envelope(principal(late), 1)
    assert "custodian issue" in none.value.reason
    assert world.entries("key:envelope:deny")[0]["reasons"] == ["envelope-not-issued"]
