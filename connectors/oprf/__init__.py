"""Hashing specification v2: oblivious tokenisation with RFC 9497 VOPRF evaluators.

A partner's connector holds no key that produces tokens: it blinds each canonical
identifier and sends it down a chain of pinned evaluators (operated by different parties),
each evaluating the previous one's answer after its DLEQ proof is checked against that
evaluator's pinned public key; the last answer unblinds to the PRF output under the product
of their keys, from which the token is derived. See docs/oprf.md and docs/hashing.md
("Specification v2").
"""

from connectors.oprf.client import AccessTokenSource, EvaluatedBatch, EvaluatorClient
from connectors.oprf.errors import (
    EvaluatorConfigError,
    EvaluatorError,
    EvaluatorProofError,
    EvaluatorQuotaError,
    EvaluatorRefusedError,
    EvaluatorUnavailableError,
)
from connectors.oprf.pins import EvaluatorPin, load_pins, parse_pins, pins_document
from connectors.oprf.suite import SPEC_VERSION, key_info, oprf_input, token_from_output
from connectors.oprf.tokeniser import VoprfTokeniserV2, default_crypto_workers
from connectors.oprf.workers import CryptoWorkerError

__all__ = [
    "SPEC_VERSION",
    "AccessTokenSource",
    "CryptoWorkerError",
    "EvaluatedBatch",
    "EvaluatorClient",
    "EvaluatorConfigError",
    "EvaluatorError",
    "EvaluatorPin",
    "EvaluatorProofError",
    "EvaluatorQuotaError",
    "EvaluatorRefusedError",
    "EvaluatorUnavailableError",
    "VoprfTokeniserV2",
    "default_crypto_workers",
    "key_info",
    "load_pins",
    "oprf_input",
    "parse_pins",
    "pins_document",
    "token_from_output",
]
