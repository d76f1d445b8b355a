"""Domain errors, kept apart from HTTP.

Services raise these; ``gateway.problems`` maps them to RFC 9457 problem+json responses and
the CLI prints :meth:`GatewayError.diagnostics` and exits in exactly one place. Every error
names what was wrong (``field``) and why (``reason``) in words an operator can act on, and
never carries an identifier or token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class GatewayError(Exception):
    """Base of every expected failure; unexpected ones are bugs and surface as 500."""

    status: int = 500
    code: str = "internal-error"
    title: str = "Internal error"
    #: True when the refusal was audited in the request's transaction: the transaction then
    #: commits (the audit entry of a denial must survive) instead of rolling back.
    audited: bool = False

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field

    def diagnostics(self) -> str:
        """One human line for logs and the CLI."""
        where = f"{self.field}: " if self.field else ""
        return f"{self.title}: {where}{self.reason}"


class ConfigurationError(GatewayError):
    """A setting is missing or malformed; the process must not start."""

    code = "configuration"
    title = "Configuration error"


class StorageUnavailableError(GatewayError):
    """The database cannot be reached or migrated; requests fail fast instead of hanging.

    ``retry_after`` (seconds) is set for an outage a client may retry (``Retry-After``).
    """

    status = 503
    code = "storage-unavailable"
    title = "Storage unavailable"

    def __init__(
        self, reason: str, *, field: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(reason, field=field)
        self.retry_after = retry_after


class InvalidRequestError(GatewayError):
    """Input that cannot be processed; ``field`` names the offending part."""

    status = 422
    code = "invalid-request"
    title = "Invalid request"


class AuthenticationError(GatewayError):
    """The caller could not be authenticated."""

    status = 401
    code = "unauthenticated"
    title = "Authentication failed"


class PermissionDeniedError(GatewayError):
    """The caller is known but not allowed; ``reasons`` carry the policy's reason codes.

    ``references`` maps a policy reason code to the legal references (GDPR articles,
    national law, agreements) its METADATA cites, so every refusal shows what it rests on.
    """

    status = 403
    code = "forbidden"
    title = "Not allowed"

    def __init__(
        self,
        reason: str,
        *,
        field: str | None = None,
        reasons: tuple[str, ...] = (),
        audited: bool = False,
        references: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        super().__init__(reason, field=field)
        self.reasons = reasons
        self.audited = audited
        self.references = {code: tuple(refs) for code, refs in (references or {}).items()}

    def cited(self) -> list[tuple[str, tuple[str, ...]]]:
        """(code, references) in the order of ``reasons``, for codes that cite any."""
        ordered = list(self.reasons) + [c for c in self.references if c not in self.reasons]
        return [(code, self.references[code]) for code in ordered if self.references.get(code)]

    def legal_references(self) -> list[dict[str, object]]:
        """The problem+json member: ``[{"code": ..., "references": [...]}]``."""
        return [{"code": code, "references": list(refs)} for code, refs in self.cited()]

    def diagnostics(self) -> str:
        line = super().diagnostics()
        cited = "; ".join(f"{code}: {', '.join(refs)}" for code, refs in self.cited())
        return f"{line} (rests on {cited})" if cited else line


class NotFoundError(GatewayError):
    """The resource does not exist or is not the caller's to see."""

    status = 404
    code = "not-found"
    title = "Not found"


class ConflictError(GatewayError):
    """The request conflicts with the current state (e.g. an idempotency key reused)."""

    status = 409
    code = "conflict"
    title = "Conflict"


class TooManyRequestsError(GatewayError):
    """A quota is exhausted; ``retry_after`` seconds until it refills."""

    status = 429
    code = "quota-exceeded"
    title = "Too many requests"

    def __init__(self, reason: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(reason, field=field)
        self.retry_after = retry_after


class PayloadTooLargeError(GatewayError):
    """The body exceeds the configured limit; refused before parsing."""

    status = 413
    code = "payload-too-large"
    title = "Payload too large"
