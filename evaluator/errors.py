"""The evaluator's expected failures; each maps to one RFC 9457 problem+json answer."""

from __future__ import annotations


class EvaluatorServiceError(Exception):
    """Base of every expected failure: an HTTP status, a stable code and a reason."""

    status = 500
    code = "evaluator-error"
    title = "Evaluator error"

    def __init__(self, reason: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        if code is not None:
            self.code = code

    def diagnostics(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.title}: {where}{self.reason}"


class EvaluatorConfigurationError(EvaluatorServiceError):
    """Settings, seed file or token keys are missing or unsafe; the service does not start."""

    code = "configuration"
    title = "Evaluator configuration error"


class BadRequestError(EvaluatorServiceError):
    status = 400
    code = "invalid-request"
    title = "Invalid request"


class PayloadTooLargeError(EvaluatorServiceError):
    status = 413
    code = "payload-too-large"
    title = "Request too large"


class UnauthenticatedError(EvaluatorServiceError):
    status = 401
    code = "token-invalid"
    title = "Authentication failed"


class ForbiddenError(EvaluatorServiceError):
    status = 403
    code = "scope-missing"
    title = "Not allowed"


class UnknownKeyError(EvaluatorServiceError):
    """The epoch (or type) has no key here: never created, or destroyed after its overlap."""

    status = 404
    code = "epoch-unknown"
    title = "No key for this epoch"


class QuotaExceededError(EvaluatorServiceError):
    status = 429
    code = "quota-exceeded"
    title = "Quota exceeded"

    def __init__(self, reason: str, *, retry_after_seconds: int) -> None:
        super().__init__(reason)
        self.retry_after_seconds = retry_after_seconds


class ClientKeysUnavailableError(EvaluatorServiceError):
    """The pinned client keys file is missing, unsafe or broken: nobody is answered."""

    status = 503
    code = "client-keys-unavailable"
    title = "Client keys unavailable"


class StorageError(EvaluatorServiceError):
    status = 503
    code = "storage-unavailable"
    title = "Storage unavailable"
