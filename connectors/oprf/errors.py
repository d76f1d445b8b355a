"""Failures of v2 tokenisation, each naming the evaluator involved and what to do.

They are :class:`~connectors.errors.ConnectorError` subclasses, so the connector's command
line reports them in its one place. None carries an identifier: only counts, evaluator
names, epochs and types.
"""

from __future__ import annotations

from connectors.errors import ConnectorError


class EvaluatorError(ConnectorError):
    """An evaluator could not give a usable answer; nothing of the batch is tokenised."""

    title = "Evaluator error"

    def __init__(self, evaluator: str, reason: str, *, field: str | None = None) -> None:
        super().__init__(f"evaluator {evaluator!r}: {reason}", field=field)
        self.evaluator = evaluator


class EvaluatorProofError(EvaluatorError):
    """The DLEQ proof does not verify against the evaluator's pinned public key.

    The answer was not computed with the key the partnership published (a forged or
    misconfigured evaluator, or a key that was swapped to tag this partner's tokens); its
    elements are discarded, never unblinded into tokens.
    """

    title = "Evaluator proof refused"


class EvaluatorQuotaError(EvaluatorError):
    """The evaluator answered 429: this partner's quota for the current window is used up."""

    title = "Evaluator quota exhausted"

    def __init__(self, evaluator: str, reason: str, *, retry_after_seconds: int | None) -> None:
        hint = f"; try again in {retry_after_seconds} s" if retry_after_seconds is not None else ""
        super().__init__(evaluator, reason + hint)
        self.retry_after_seconds = retry_after_seconds


class EvaluatorRefusedError(EvaluatorError):
    """The evaluator refused the request (authentication, scope, unknown epoch or type)."""

    title = "Evaluator refused the request"

    def __init__(
        self, evaluator: str, status: int, reason: str, *, code: str | None, field: str | None
    ) -> None:
        super().__init__(evaluator, f"HTTP {status}: {reason}", field=field)
        self.status = status
        self.code = code


class EvaluatorUnavailableError(EvaluatorError):
    """The evaluator could not be reached or stayed unavailable through every retry."""

    title = "Evaluator unavailable"


class EvaluatorConfigError(ConnectorError):
    """The pinned evaluator list is missing, malformed or unsafe (fewer than two evaluators)."""

    title = "Evaluator configuration error"
