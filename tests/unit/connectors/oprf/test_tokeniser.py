"""VoprfTokeniserV2 against two real evaluators (uvicorn threads on loopback)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.evaluators import GatewayTokenIssuer, PartnerTokens
from connectors.canonical import Kind
from connectors.errors import KeyMaterialError
from connectors.hashing import Tokeniser
from connectors.oprf import (
    EvaluatorClient,
    EvaluatorConfigError,
    EvaluatorProofError,
    EvaluatorQuotaError,
    VoprfTokeniserV2,
)
from evaluator.seeds import read_seeds
from evaluator.storage import VolumeRecord, build_engine
from tests.support.oprf import seeded_token
from tests.unit.connectors.oprf.conftest import RunningEvaluator

ITEMS = [
    (Kind.PHONE, "+31612345678"),
    (Kind.IBAN, "NL91ABNA0417164300"),
    (Kind.PHONE, "+31687654321"),
    (Kind.EMAIL, "fraudster@example.nl"),
    (Kind.DOMAIN, "nep-winkel.github.io"),
    (Kind.PHONE, "+31612345678"),
]


def offline_token(
    evaluators: list[RunningEvaluator], epoch: int, kind: Kind, canonical: str
) -> str:
    """What only someone holding *every* evaluator's seed can compute."""
    seeds = [read_seeds(running.settings.effective_seed_file)[epoch] for running in evaluators]
    return seeded_token(seeds, epoch, kind, canonical)


def elements_evaluated(running: RunningEvaluator, partner: str) -> int:
    """Elements the evaluator's volume log records for one partner."""
    engine = build_engine(running.settings.effective_database_url)
    try:
        with Session(engine) as session:
            total = session.scalar(
                select(func.coalesce(func.sum(VolumeRecord.count), 0)).where(
                    VolumeRecord.partner_id == partner, VolumeRecord.outcome == "evaluated"
                )
            )
    finally:
        engine.dispose()
    return int(total or 0)


def _tokeniser(
    evaluators: list[RunningEvaluator],
    issuer: GatewayTokenIssuer,
    partner: str = "bank-a",
    *,
    pins: list[Any] | None = None,
    **options: Any,
) -> VoprfTokeniserV2:
    tokens = PartnerTokens(issuer, partner)
    clients = [EvaluatorClient(pin, tokens) for pin in (pins or [ev.pin for ev in evaluators])]
    return VoprfTokeniserV2(clients, epoch=options.pop("epoch", 1), **options)


@pytest.fixture
def tokeniser(
    evaluators: list[RunningEvaluator], issuer: GatewayTokenIssuer
) -> Iterator[VoprfTokeniserV2]:
    with _tokeniser(evaluators, issuer, batch_size=2, max_in_flight=2) as made:
        yield made


def test_is_a_tokeniser(tokeniser: VoprfTokeniserV2) -> None:
    assert isinstance(tokeniser, Tokeniser)
    assert tokeniser.spec_version == "v2"
    assert tokeniser.epoch == 1
    assert tokeniser.kinds == frozenset(Kind)


def test_tokens_are_the_prf_under_the_product_of_both_keys(
    tokeniser: VoprfTokeniserV2, evaluators: list[RunningEvaluator]
) -> None:
    tokens = tokeniser.tokens(ITEMS)  # 6 items of 4 kinds in chunks of 2: many round trips
    assert tokens == [offline_token(evaluators, 1, kind, value) for kind, value in ITEMS]
    assert all(re.fullmatch(r"[0-9a-f]{64}", token) for token in tokens)
    assert tokens[0] == tokens[5]
    assert len(set(tokens)) == 5
    assert tokeniser.token(Kind.PHONE, "+31612345678") == tokens[0]


def test_kind_and_epoch_separate_tokens(
    evaluators: list[RunningEvaluator], issuer: GatewayTokenIssuer
) -> None:
    with (
        _tokeniser(evaluators, issuer) as epoch1,
        _tokeniser(evaluators, issuer, epoch=2) as epoch2,
    ):
        assert epoch1.token(Kind.DOMAIN, "example.nl") != epoch2.token(Kind.DOMAIN, "example.nl")
        assert epoch1.token(Kind.DOMAIN, "example.nl") != epoch1.token(Kind.EMAIL, "example.nl")


def test_one_evaluator_alone_does_not_give_the_token(evaluators: list[RunningEvaluator]) -> None:
    kind, value = ITEMS[0]
    both = offline_token(evaluators, 1, kind, value)
    for running in evaluators:
        alone = offline_token([running], 1, kind, value)
        assert alone != both


def test_the_order_of_the_chain_does_not_change_tokens(
    evaluators: list[RunningEvaluator], issuer: GatewayTokenIssuer
) -> None:
    alpha, beta = evaluators
    with (
        _tokeniser(evaluators, issuer, pins=[alpha.pin, beta.pin]) as forward,
        _tokeniser(evaluators, issuer, pins=[beta.pin, alpha.pin]) as backward,
    ):
        assert forward.tokens(ITEMS[:2]) == backward.tokens(ITEMS[:2])


def test_forged_answer_is_refused_by_the_proof_check(
    evaluators: list[RunningEvaluator], issuer: GatewayTokenIssuer
) -> None:
    alpha, beta = evaluators
    # The second hop: beta's URL now answers with alpha's key (valid elements, wrong key).
    swapped = dataclasses.replace(beta.pin, url=alpha.server.url)
    with (
        _tokeniser(evaluators, issuer, pins=[alpha.pin, swapped]) as forged,
        pytest.raises(EvaluatorProofError) as caught,
    ):
        forged.tokens(ITEMS[:3])
    message = caught.value.diagnostics()
    assert "'beta'" in message
    assert "does not verify against its pinned key for epoch 1" in message


def test_a_refused_first_hop_is_never_sent_down_the_chain(
    evaluators: list[RunningEvaluator], issuer: GatewayTokenIssuer
) -> None:
    """A's answer goes to B only once its proof holds: B never evaluates an unchecked element."""
    alpha, beta = evaluators
    partner = "chain-check"
    swapped = dataclasses.replace(alpha.pin, url=beta.server.url)  # alpha's URL answers as beta
    before = elements_evaluated(beta, partner)
    with (
        _tokeniser(evaluators, issuer, partner, pins=[swapped, beta.pin]) as forged,
        pytest.raises(EvaluatorProofError) as caught,
    ):
        forged.tokens(ITEMS[:3])
    assert "'alpha'" in caught.value.diagnostics()
    # beta served the forged first hop (3 elements) and nothing more.
    assert elements_evaluated(beta, partner) - before == 3


def test_over_quota_is_reported_with_retry_after(
    evaluators: list[RunningEvaluator], issuer: GatewayTokenIssuer
) -> None:
    with _tokeniser(evaluators, issuer, "tiny-partner") as small:
        assert len(small.tokens(ITEMS[:4])) == 4  # exactly the quota of 4
        with pytest.raises(EvaluatorQuotaError) as caught:
            small.token(Kind.PHONE, "+31612345678")
    assert caught.value.retry_after_seconds is not None
    assert caught.value.retry_after_seconds > 0
    assert "quota" in caught.value.diagnostics()


def test_unpinned_kind_or_epoch_is_refused(
    evaluators: list[RunningEvaluator], issuer: GatewayTokenIssuer
) -> None:
    with pytest.raises(EvaluatorConfigError, match="epoch 9"):
        _tokeniser(evaluators, issuer, epoch=9)
    with (
        _tokeniser(evaluators, issuer, kinds=[Kind.PHONE]) as phones,
        pytest.raises(KeyMaterialError, match="iban"),
    ):
        phones.tokens([(Kind.IBAN, "NL91ABNA0417164300")])


def test_one_evaluator_is_not_enough(
    evaluators: list[RunningEvaluator], issuer: GatewayTokenIssuer
) -> None:
    with pytest.raises(EvaluatorConfigError, match="at least 2"):
        _tokeniser(evaluators, issuer, pins=[evaluators[0].pin])
    twin = dataclasses.replace(evaluators[0].pin, name="alpha-twin")
    with pytest.raises(EvaluatorConfigError, match="share a public key"):
        _tokeniser(evaluators, issuer, pins=[evaluators[0].pin, twin])


def test_crypto_workers_give_the_same_tokens_and_stop_on_close(
    evaluators: list[RunningEvaluator], issuer: GatewayTokenIssuer
) -> None:
    with _tokeniser(evaluators, issuer, batch_size=2, max_in_flight=3, crypto_workers=2) as pooled:
        assert pooled.token(*ITEMS[0]) == offline_token(evaluators, 1, *ITEMS[0])
        assert pooled.crypto_worker_pids == ()  # one chunk: done in-process
        tokens = pooled.tokens(ITEMS)  # 4 chunks over 2 worker processes
        pids = pooled.crypto_worker_pids
        assert len(pids) == 2
        assert tokens == [offline_token(evaluators, 1, kind, value) for kind, value in ITEMS]
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "Z"


def test_forged_answer_is_refused_in_a_crypto_worker(
    evaluators: list[RunningEvaluator], issuer: GatewayTokenIssuer
) -> None:
    alpha, beta = evaluators
    swapped = dataclasses.replace(alpha.pin, url=beta.server.url)  # alpha's URL answers as beta
    with (
        _tokeniser(
            evaluators, issuer, pins=[swapped, beta.pin], batch_size=2, crypto_workers=2
        ) as forged,
        pytest.raises(EvaluatorProofError) as caught,
    ):
        forged.tokens(ITEMS)
    assert "'alpha'" in caught.value.diagnostics()
