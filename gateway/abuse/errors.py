"""Refusals of the abuse area, mapped to problem+json by ``gateway.problems``."""

from __future__ import annotations

from gateway.errors import TooManyRequestsError


class QuotaExceededError(TooManyRequestsError):
    """A partner's or client's quota for the window is used up (429 with Retry-After).

    The refusal is audited in the request's transaction, so that transaction commits (only
    the audit entry) instead of rolling back.
    """

    audited = True
