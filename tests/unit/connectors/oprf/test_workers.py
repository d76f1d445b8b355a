"""Crypto worker processes: the same answers as in-process, refusals by index, death noticed."""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import Iterator

import pytest
from voprf import ristretto

from connectors.oprf.chunks import AnswerRefused, LocalCrypto
from connectors.oprf.suite import ELEMENT_BYTES, combine_outputs, split_binding_batch
from connectors.oprf.workers import CryptoWorkerError, WorkerCrypto, main

INPUTS = [f"ppsgate:v2:phone:+3161234567{digit}".encode() for digit in range(5)]


def _answer(evaluator: ristretto.Evaluator, packed: bytes) -> tuple[bytes, bytes]:
    elements = [
        ristretto.BlindedInput.deserialize(packed[offset : offset + ELEMENT_BYTES])
        for offset in range(0, len(packed), ELEMENT_BYTES)
    ]
    return split_binding_batch(evaluator.evaluate_batch(elements).serialize())


@pytest.fixture(scope="module")
def worker() -> Iterator[WorkerCrypto]:
    made = WorkerCrypto()
    yield made
    made.close()


def test_worker_and_local_give_the_tokens_of_both_keys(worker: WorkerCrypto) -> None:
    first, second = (ristretto.Evaluator(secrets.token_bytes(32)) for _ in range(2))
    keys = [first.public_key.serialize(), second.public_key.serialize()]
    expected = [
        combine_outputs([first.evaluate_known_input(x), second.evaluate_known_input(x)])
        for x in INPUTS
    ]
    for crypto in (worker, LocalCrypto()):
        handle, packed = crypto.blind(INPUTS)
        assert len(packed) == len(INPUTS) * ELEMENT_BYTES
        answers = [_answer(first, packed), _answer(second, packed)]
        assert crypto.finalize(handle, answers, keys) == expected


def test_a_wrong_key_is_refused_with_the_evaluator_index(worker: WorkerCrypto) -> None:
    honest, impostor = (ristretto.Evaluator(secrets.token_bytes(32)) for _ in range(2))
    handle, packed = worker.blind(INPUTS)
    answers = [_answer(honest, packed), _answer(impostor, packed)]
    with pytest.raises(AnswerRefused) as caught:
        worker.finalize(handle, answers, [honest.public_key.serialize()] * 2)
    assert caught.value.index == 1
    assert not caught.value.malformed


def test_blinds_are_single_use(worker: WorkerCrypto) -> None:
    evaluator = ristretto.Evaluator(secrets.token_bytes(32))
    handle, packed = worker.blind(INPUTS[:1])
    worker.discard(handle)
    with pytest.raises(CryptoWorkerError, match="finalize failed"):
        worker.finalize(handle, [_answer(evaluator, packed)], [evaluator.public_key.serialize()])


def test_a_dead_worker_is_reported() -> None:
    doomed = WorkerCrypto()
    os.kill(doomed.pid, signal.SIGKILL)
    with pytest.raises(CryptoWorkerError, match="stopped"):
        doomed.blind(INPUTS)
    doomed.close()
    with pytest.raises(CryptoWorkerError, match="closed"):
        doomed.blind(INPUTS)


def test_worker_entry_point_needs_its_socket() -> None:
    assert main([]) == 2
    assert main(["not-a-descriptor"]) == 2
