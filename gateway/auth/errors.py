"""Authentication refusals with stable reason codes.

Every refusal names *why* with a short code (``assertion-expired``, ``token-audience``,
``partner-suspended``) that lands in the problem+json body (``reasons``), in the audit entry
and in ``docs/security.md``; the human text says what to fix. Inside Authlib's flow the same
codes ride on :class:`AssertionRefused` (an Authlib ``OAuth2Error``) so that the token
endpoint can answer with both the RFC 6749 ``error`` and our problem details.
"""

from __future__ import annotations

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)

from gateway.errors import AuthenticationError, PermissionDeniedError


class CredentialRefusedError(AuthenticationError):
    """A credential (assertion, access token, session) was not accepted: 401."""

    def __init__(
        self, reason_code: str, reason: str, *, field: str | None = None, audited: bool = False
    ) -> None:
        super().__init__(reason, field=field)
        self.reason_code = reason_code
        self.reasons = (reason_code,)
        self.audited = audited


class ScopeRefusedError(PermissionDeniedError):
    """The caller is authenticated but lacks a scope or permission: 403."""

    def __init__(
        self, reason_code: str, reason: str, *, field: str | None = None, audited: bool = False
    ) -> None:
        super().__init__(reason, field=field, reasons=(reason_code,), audited=audited)
        self.reason_code = reason_code


class AssertionRefused(InvalidClientError):  # type: ignore[misc]  # noqa: N818 (Authlib naming)
    """Client authentication failed at the token endpoint (RFC 6749 ``invalid_client``)."""

    status_code = 401

    def __init__(self, reason_code: str, description: str, *, field: str | None = None) -> None:
        super().__init__(description=description, status_code=401)
        self.reason_code = reason_code
        self.field = field


class ScopeRefused(InvalidScopeError):  # type: ignore[misc]  # noqa: N818 (Authlib naming)
    """A requested scope is not registered for the client (``invalid_scope``), answered 403."""

    def __init__(self, reason_code: str, description: str) -> None:
        super().__init__(description=description, status_code=403)
        self.reason_code = reason_code
        self.field = "scope"


class TargetRefused(OAuth2Error):  # type: ignore[misc]  # noqa: N818 (Authlib naming)
    """RFC 8707 ``invalid_target``: a ``resource`` the gateway does not issue tokens for."""

    error = "invalid_target"

    def __init__(self, reason_code: str, description: str) -> None:
        super().__init__(description=description, status_code=400)
        self.reason_code = reason_code
        self.field = "resource"


def describe_oauth_error(error: Exception) -> tuple[int, str, str | None]:
    """Status, reason code and field for any Authlib error the token endpoint can raise."""
    if isinstance(error, AssertionRefused | ScopeRefused | TargetRefused):
        return int(error.status_code), error.reason_code, error.field
    if isinstance(error, UnsupportedGrantTypeError):
        return 400, "grant-type-unsupported", "grant_type"
    if isinstance(error, UnauthorizedClientError):
        return 403, "grant-type-not-allowed", "grant_type"
    if isinstance(error, InvalidClientError):
        return 401, "client-authentication", "client_assertion"
    if isinstance(error, InvalidScopeError):
        return 403, "scope-not-registered", "scope"
    if isinstance(error, InvalidRequestError):
        return 400, "invalid-request", None
    return 400, "invalid-request", None
