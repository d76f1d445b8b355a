"""Suppressed identifiers (e.g. a PSP's shared collection account) never count or match."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.canonical import Kind, canonicalize
from connectors.hashing import HmacTokeniserV1, TypeKeys
from gateway.config import load_settings
from gateway.pepper import load_pepper
from gateway.policy.bundle import default_policy_dir
from tests.support.gateway import Gateway, running_gateway

COLLECTION_ACCOUNT = "NL91ABNA0417164300"
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}


@pytest.fixture
def suppressing_gateway(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    data_dir = tmp_path / "data"
    policies = tmp_path / "policies"
    shutil.copytree(default_policy_dir(), policies, ignore=shutil.ignore_patterns("__pycache__"))
    master_salt = secrets.token_bytes(32)
    tokeniser = HmacTokeniserV1(TypeKeys.from_master_salt(master_salt, epoch=1))
    token = tokeniser.token(Kind.IBAN, canonicalize(Kind.IBAN, COLLECTION_ACCOUNT))
    # The partnership lists the peppered token (never the identifier) in the policy data.
    pepper = load_pepper(load_settings(data_dir=data_dir))
    (policies / "data" / "suppression.json").write_text(
        json.dumps({"note": "test", "tokens": [pepper.token(token, epoch=1).hex()]})
    )
    with running_gateway(database_url, data_dir, policy_dir=policies) as gateway:
        gateway.master_salt = master_salt
        yield gateway


def test_suppressed_identifier_is_refused_and_never_a_hit(suppressing_gateway: Gateway) -> None:
    gw = suppressing_gateway
    psp, bank = gw.partner("marketplace-a"), gw.partner("bank-a")
    item = {
        **psp.item("iban", COLLECTION_ACCOUNT),
        "category": "purchase_fraud",
        "observed_at": gw.clock.now().isoformat(),
    }
    answer = psp.post("/v1/indicators", {**SUBMIT, "items": [item]})
    (row,) = answer["results"]
    assert row["status"] == "rejected"
    assert row["field"] == "token"
    assert row["reason"].startswith("identifier-suppressed")
    result = bank.post(
        "/v1/match",
        {
            "purpose": "payment_screening",
            "legal_basis": "art6_1_c",
            "items": [bank.item("iban", COLLECTION_ACCOUNT)],
        },
    )
    assert result["results"][0] == {"row": 0, "hit": False, "suppressed": True}
