"""Hashing specification v2: oblivious tokenisation with RFC 9497 VOPRF evaluators.

A partner's connector holds no key that produces tokens: it blinds each canonical
identifier, asks every pinned evaluator (operated by different parties) to evaluate it,
checks each evaluator's DLEQ proof against the evaluator's pinned public key, and derives
the token from their outputs. See docs/oprf.md and docs/hashing.md ("Specification v2").
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
from connectors.oprf.suite import SPEC_VERSION, combine_outputs, key_info, oprf_input
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
    "combine_outputs",
    "default_crypto_workers",
    "key_info",
    "load_pins",
    "oprf_input",
    "parse_pins",
    "pins_document",
]
