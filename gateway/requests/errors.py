"""Refusals of the requests area, as the gateway's problem types."""

from __future__ import annotations

from gateway.errors import ConflictError, GatewayError, NotFoundError

NO_REPORTER = "no other partner holds an active report of this token, so there is no one to ask"
UNKNOWN_REQUEST = "no request with this id is addressed to this partner"
EXPIRED = "the request's deadline has passed; it can no longer be answered"
ALREADY_ANSWERED = "this partner has already answered the request"


def _audited(error: GatewayError) -> GatewayError:
    """The refusal was recorded in the request's transaction, which must therefore commit."""
    error.audited = True
    return error


def no_reporter() -> GatewayError:
    return _audited(ConflictError(NO_REPORTER, field="token"))


def unknown_request() -> NotFoundError:
    return NotFoundError(UNKNOWN_REQUEST, field="request_id")


def expired() -> GatewayError:
    return _audited(ConflictError(EXPIRED, field="request_id"))


def already_answered() -> GatewayError:
    return _audited(ConflictError(ALREADY_ANSWERED, field="request_id"))
