"""Refusals of the requests area, as the gateway's problem types."""

from __future__ import annotations

from gateway.errors import ConflictError, NotFoundError

NO_REPORTER = "no other partner holds an active report of this token, so there is no one to ask"
UNKNOWN_REQUEST = "no request with this id is addressed to this partner"
EXPIRED = "the request's deadline has passed; it can no longer be answered"
ALREADY_ANSWERED = "this partner has already answered the request"


def no_reporter() -> ConflictError:
    return ConflictError(NO_REPORTER, field="token")


def unknown_request() -> NotFoundError:
    return NotFoundError(UNKNOWN_REQUEST, field="request_id")


def expired() -> ConflictError:
    return ConflictError(EXPIRED, field="request_id")


def already_answered() -> ConflictError:
    return ConflictError(ALREADY_ANSWERED, field="request_id")
