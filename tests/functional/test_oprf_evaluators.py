"""Spec v2 end to end: evaluator processes on loopback, partners' connectors, real HTTP.

Each evaluator is its own ``ppsgate evaluator serve`` process with its own seed file (made
by ``ppsgate evaluator init-seed``), SQLite database and the gateway's public JWKS; the
pins document is assembled from ``ppsgate evaluator public-key`` output, as an operator
would publish it (:mod:`tests.support.evaluators`). Access tokens are minted by the
gateway's own issuing code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.evaluators import GatewayTokenIssuer, PartnerTokens
from connectors.canonical import Kind, canonicalize
from connectors.keystore import ConnectorKeys, save_keystore
from connectors.oprf import (
    EvaluatorClient,
    EvaluatorProofError,
    EvaluatorQuotaError,
    VoprfTokeniserV2,
    load_pins,
)
from tests.support.evaluators import EPOCH, EvaluatorProcess, running_evaluators, write_pins
from tests.support.oprf import held_byte_strings, offline_guesses, offline_token, secret_key

SAME_NUMBER = ["06-12345678", "+31 6 1234 5678", "0031612345678"]


@dataclass
class Deployment:
    issuer: GatewayTokenIssuer
    evaluators: list[EvaluatorProcess]
    rogue: EvaluatorProcess
    pins_file: Path


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    base = tmp_path_factory.mktemp("oprf-deployment")
    issuer = GatewayTokenIssuer()
    names = ("evaluator-a", "evaluator-b", "rogue")
    with running_evaluators(base, issuer, *names, quotas={"partner-small": 3}) as started:
        pins_file = write_pins(base / "evaluators.json", started[:2])
        yield Deployment(issuer, started[:2], started[2], pins_file)


def _tokeniser(
    deployment: Deployment, partner: str, pins: list[Any] | None = None
) -> VoprfTokeniserV2:
    tokens = PartnerTokens(deployment.issuer, partner)
    pins = pins or load_pins(deployment.pins_file)
    return VoprfTokeniserV2([EvaluatorClient(pin, tokens) for pin in pins], epoch=EPOCH)


def test_two_partners_get_identical_tokens(deployment: Deployment) -> None:
    identifiers = [
        (Kind.PHONE, SAME_NUMBER[0]),
        (Kind.IBAN, "nl91 abna 0417 1643 00"),
        (Kind.EMAIL, " Fraudster@Example.NL"),
        (Kind.DOMAIN, "https://www.nep-winkel.nl/actie"),
    ]
    with _tokeniser(deployment, "bank-a") as bank, _tokeniser(deployment, "telecom-b") as telecom:
        bank_tokens = bank.tokens(
            [(kind, canonicalize(kind, value)) for kind, value in identifiers]
        )
        telecom_tokens = telecom.tokens(
            [(Kind.PHONE, canonicalize(Kind.PHONE, value)) for value in SAME_NUMBER[1:]]
        )
        again = bank.tokens([(Kind.PHONE, canonicalize(Kind.PHONE, SAME_NUMBER[0]))])
    assert telecom_tokens == [bank_tokens[0], bank_tokens[0]]
    assert again == [bank_tokens[0]]  # fresh blinds, same token
    assert len(set(bank_tokens)) == 4
    assert all(re.fullmatch(r"[0-9a-f]{64}", token) for token in bank_tokens)


def test_partner_material_and_public_keys_do_not_produce_tokens(
    deployment: Deployment, tmp_path: Path
) -> None:
    kind, canonical = Kind.PHONE, canonicalize(Kind.PHONE, SAME_NUMBER[0])
    tokens = PartnerTokens(deployment.issuer, "bank-a")
    with _tokeniser(deployment, "bank-a") as bank:
        real = bank.token(kind, canonical)

    # Positive control: both evaluators' keys together do compute it offline.
    secret_a, secret_b = (secret_key(ev.seed, EPOCH, kind) for ev in deployment.evaluators)
    assert offline_token([secret_a, secret_b], kind, canonical) == real

    keystore = tmp_path / "connector-keystore.json"
    save_keystore(keystore, ConnectorKeys.generate())
    held = held_byte_strings(
        json.loads(keystore.read_text()),
        json.loads(deployment.pins_file.read_text()),
        tokens.access_token().split("."),
    )
    assert len(held) >= 4  # signing d/x/y, X25519 d/x, pinned keys, token parts
    guesses = offline_guesses(held, [secret_a, secret_b], EPOCH, kind, canonical)
    assert real not in guesses


def test_forged_evaluator_answer_is_refused(deployment: Deployment) -> None:
    pins = load_pins(deployment.pins_file)
    impostor = type(pins[1])(
        name=pins[1].name, url=deployment.rogue.url, public_keys=pins[1].public_keys
    )
    with (
        _tokeniser(deployment, "bank-a", [pins[0], impostor]) as fooled,
        pytest.raises(EvaluatorProofError) as caught,
    ):
        fooled.tokens([(Kind.PHONE, "+31612345678"), (Kind.PHONE, "+31687654321")])
    assert caught.value.evaluator == "evaluator-b"
    assert "does not verify against its pinned key for epoch 1" in caught.value.diagnostics()


def test_over_quota_evaluator_answers_429_and_the_connector_says_so(
    deployment: Deployment,
) -> None:
    items = [(Kind.PHONE, f"+3161234567{digit}") for digit in range(5)]
    with _tokeniser(deployment, "partner-small") as small:
        assert len(small.tokens(items[:3])) == 3
        with pytest.raises(EvaluatorQuotaError) as caught:
            small.tokens(items[3:])
    assert caught.value.evaluator == "evaluator-a"
    assert caught.value.retry_after_seconds is not None
    assert re.search(r"quota .* try again in \d+ s$", caught.value.diagnostics())
    raw = httpx.post(
        f"{deployment.evaluators[1].url}/v2/evaluate",
        json={"epoch": EPOCH, "kind": "phone", "blinded_elements": ""},
        headers={"Authorization": f"Bearer {deployment.issuer.mint('partner-small')}"},
    )
    assert raw.status_code == 400  # an empty batch is refused before any quota check
