"""Crypto worker processes: the same answers as in-process, refusals kept apart, death noticed."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from voprf import ristretto

from connectors.canonical import Kind
from connectors.oprf import workers
from connectors.oprf.answers import MalformedEvaluation, ProofRejected
from connectors.oprf.chunks import LocalCrypto
from connectors.oprf.suite import ELEMENT_BYTES
from connectors.oprf.workers import CryptoWorkerError, WorkerCrypto, main
from tests.support.oprf import answer, seeded_token

EPOCH = 1
NUMBERS = [f"+3161234567{digit}" for digit in range(5)]
INPUTS = [f"ppsgate:v2:phone:{number}".encode() for number in NUMBERS]


def _evaluator(seed: bytes) -> ristretto.Evaluator:
    return ristretto.Evaluator.from_seed(seed, f"ppsgate:v2:evaluator:{EPOCH}:phone".encode())


@pytest.fixture(scope="module")
def worker() -> Iterator[WorkerCrypto]:
    made = WorkerCrypto()
    yield made
    made.close()


def test_worker_and_local_walk_the_chain_to_the_product_key_tokens(worker: WorkerCrypto) -> None:
    seeds = [secrets.token_bytes(32) for _ in range(2)]
    first, second = (_evaluator(seed) for seed in seeds)
    expected = [seeded_token(seeds, EPOCH, Kind.PHONE, number) for number in NUMBERS]
    for crypto in (worker, LocalCrypto()):
        handle, packed = crypto.blind(INPUTS)
        assert len(packed) == len(INPUTS) * ELEMENT_BYTES
        from_first = answer(first, packed)
        crypto.verify(packed, *from_first, first.public_key.serialize())
        from_second = answer(second, from_first[0])
        crypto.verify(from_first[0], *from_second, second.public_key.serialize())
        assert crypto.finalize(handle, from_second[0]) == expected


def test_a_wrong_key_and_a_malformed_answer_are_refused_apart(worker: WorkerCrypto) -> None:
    honest, impostor = (_evaluator(secrets.token_bytes(32)) for _ in range(2))
    handle, packed = worker.blind(INPUTS)
    evaluated, proof = answer(impostor, packed)
    with pytest.raises(ProofRejected):
        worker.verify(packed, evaluated, proof, honest.public_key.serialize())
    with pytest.raises(MalformedEvaluation, match="element"):
        worker.verify(packed, evaluated[:-ELEMENT_BYTES], proof, honest.public_key.serialize())
    with pytest.raises(MalformedEvaluation, match="not group elements"):
        worker.verify(packed, b"\xff" * len(packed), proof, honest.public_key.serialize())
    worker.discard(handle)


def test_blinds_are_single_use(worker: WorkerCrypto) -> None:
    evaluator = _evaluator(secrets.token_bytes(32))
    handle, packed = worker.blind(INPUTS[:1])
    worker.discard(handle)
    with pytest.raises(CryptoWorkerError, match="finalize failed"):
        worker.finalize(handle, answer(evaluator, packed)[0])


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


def test_a_worker_boots_without_the_connector_packages_init() -> None:
    """The boot program skips the packages' ``__init__`` (HTTP, JOSE, canonicalisation)."""
    probe = (
        "import sys\n"
        "try:\n"
        f"    exec({workers._BOOT!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = [name for name in ('httpx', 'joserfc', 'connectors.canonical') "
        "if name in sys.modules]\n"
        "print(','.join(loaded) or 'lean', 'connectors.oprf.chunks' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(workers._SOURCE_ROOT), "not-a-descriptor"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.stdout.split() == ["lean", "True"], result.stderr
