"""Who may receive which type keys: decided by the policy, per partner and kind."""

from __future__ import annotations

from gateway.audit_trail.events import Actor
from gateway.keys.eligibility import candidates, decide_kinds, registered_legal_basis
from gateway.partners.service import PartnerRegistry
from tests.unit.gateway.keys.conftest import World


def test_kinds_follow_the_policy_not_python(world: World) -> None:
    policy = world.services.policy
    assert registered_legal_basis(policy, "police-nl") == "law_enforcement"
    assert registered_legal_basis(policy, "nobody") is None
    assert decide_kinds(policy, "telecom-a", "active").allowed == ("phone",)
    assert decide_kinds(policy, "bank-a", "active").allowed == (
        "crypto_address",
        "email",
        "iban",
        "phone",
        "social_account",
        "url",
    )
    # A partner the policy data marks suspended gets nothing, whatever the registry says.
    denied = decide_kinds(policy, "psp-b", "active")
    assert denied.allowed == ()
    assert denied.denial(("iban",)) is not None
    # The live registry status is part of the decision too.
    assert decide_kinds(policy, "bank-a", "suspended").allowed == ()
    unknown = decide_kinds(policy, "nobody", "active")
    assert unknown.denial(("iban",)) == (
        ("purpose-not-registered",),
        "the partner has no registration for the purpose key_distribution",
    )


def test_candidates_say_why_a_client_gets_nothing(world: World) -> None:
    world.add_client("psp-b")
    world.add_client("bank-a", ("match:query",))  # no keys:read
    with world.session() as session:
        PartnerRegistry(session, world.services.audit, actor=Actor("t", user="t")).suspend(
            "marketplace-a"
        )
    with world.session() as session:
        found = {c.client.id: c for c in candidates(session, world.services.policy)}
    assert found["bank-a-c1"].kinds == (
        "crypto_address",
        "email",
        "iban",
        "phone",
        "social_account",
        "url",
    )
    assert found["telecom-a-c1"].kinds == ("phone",)
    assert found["marketplace-a-c1"].excluded == "partner is suspended"
    assert found["bank-a-c2"].excluded == "client is not registered for the scope keys:read"
    assert found["custodian-pps-c1"].excluded is not None
    assert found["psp-b-c1"].excluded is not None
    assert "policy allows no kind" in found["psp-b-c1"].excluded
    assert "partner-suspended" in found["psp-b-c1"].excluded
