"""The v2 test vectors published in docs/hashing.md are what the code computes.

Computed two ways: offline with both seeds (RFC 9497 Evaluate), and through the online
protocol (blind, batch-evaluate, verify, finalise) against the published public keys.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from voprf import ristretto

from connectors.canonical import Kind
from connectors.oprf.binding import verify_batch
from connectors.oprf.suite import combine_outputs, key_info, oprf_input, split_binding_batch

DOC = Path(__file__).resolve().parents[4] / "docs" / "hashing.md"


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
    evaluators = [
        ristretto.Evaluator.from_seed(bytes.fromhex(COMMON[name]), key_info(epoch, kind))
        for name in ("seed_a", "seed_b")
    ]
    assert [ev.public_key.serialize().hex() for ev in evaluators] == [case["pk_a"], case["pk_b"]]
    offline = [ev.evaluate_known_input(message) for ev in evaluators]
    assert [y.hex() for y in offline] == [case["y_a"], case["y_b"]]
    assert combine_outputs(offline) == case["token"]

    client, blinded = ristretto.Client.blind(message)
    online = []
    for evaluator, pk in zip(evaluators, ("pk_a", "pk_b"), strict=True):
        evaluated, proof = split_binding_batch(evaluator.evaluate_batch([blinded]).serialize())
        pinned = ristretto.PublicKey.deserialize(bytes.fromhex(case[pk]))
        online.extend(verify_batch([client], evaluated, proof, pinned))
    assert combine_outputs(online) == case["token"]
