"""The v2 test vectors published in docs/hashing.md are what the code computes.

Computed three ways: the evaluators' keys by both implementations (the binding's and the
connector's ``DeriveKeyPair``), offline with the product of both keys (RFC 9497 Evaluate),
and through the chain as a connector runs it (blind, evaluator A, proof, evaluator B, proof,
finalise) against the published public keys.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from voprf import ristretto

from connectors.canonical import Kind
from connectors.oprf import group, protocol
from connectors.oprf.chunks import LocalCrypto
from connectors.oprf.suite import key_info, oprf_input, token_from_output
from tests.support.oprf import answer

DOC = Path(__file__).resolve().parents[4] / "docs" / "hashing.md"
MODE = protocol.Mode.VOPRF


def _vectors() -> tuple[dict[str, str], list[dict[str, str]]]:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```v2-vectors\n(.*?)```", text, re.DOTALL)
    assert block is not None, "docs/hashing.md lacks the v2-vectors block"
    groups = [
        dict(line.split(": ", 1) for line in part.strip().splitlines())
        for part in block.group(1).split("\n\n")
    ]
    return groups[0], groups[1:]


COMMON, CASES = _vectors()


@pytest.mark.parametrize("case", CASES, ids=[case["type"] for case in CASES])
def test_published_vector(case: dict[str, str]) -> None:
    epoch, kind = int(COMMON["epoch"]), Kind(case["type"])
    message = oprf_input(kind, case["canonical"])
    seeds = [bytes.fromhex(COMMON[name]) for name in ("seed_a", "seed_b")]
    evaluators = [ristretto.Evaluator.from_seed(seed, key_info(epoch, kind)) for seed in seeds]
    assert [ev.public_key.serialize().hex() for ev in evaluators] == [case["pk_a"], case["pk_b"]]
    derived = [protocol.derive_key_pair(seed, key_info(epoch, kind), MODE) for seed in seeds]
    assert [(sk.hex(), pk.hex()) for sk, pk in derived] == [
        (case["sk_a"], case["pk_a"]),
        (case["sk_b"], case["pk_b"]),
    ]
    product = group.scalar_mul(derived[0][0], derived[1][0])
    assert product.hex() == case["sk_ab"]
    offline = protocol.evaluate(product, message, MODE)
    assert offline.hex() == case["y"]
    assert token_from_output(offline) == case["token"]

    crypto = LocalCrypto()
    handle, sent = crypto.blind([message])
    for evaluator, pk in zip(evaluators, ("pk_a", "pk_b"), strict=True):
        evaluated, proof = answer(evaluator, sent)
        crypto.verify(sent, evaluated, proof, bytes.fromhex(case[pk]))
        sent = evaluated
    assert crypto.finalize(handle, sent) == [case["token"]]


def test_one_key_alone_gives_other_tokens() -> None:
    case = CASES[0]
    message = oprf_input(Kind(case["type"]), case["canonical"])
    for alone in ("sk_a", "sk_b"):
        single = protocol.evaluate(bytes.fromhex(case[alone]), message, MODE)
        assert token_from_output(single) != case["token"]
