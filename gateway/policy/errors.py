"""Errors of the policy layer that an operator must act on (never raised by ``decide``)."""

from __future__ import annotations

from gateway.errors import GatewayError


class PolicyBundleError(GatewayError):
    """A bundle cannot be read, is inconsistent, or its reason catalog is incomplete.

    Engines do not raise this from ``decide``: a broken bundle makes them deny everything.
    It is raised by the tools that read bundles directly (CLI, bundle writer, linter).
    """

    code = "policy-bundle"
    title = "Policy bundle error"


class PolicyEngineError(GatewayError):
    """The configured engine cannot be reached or used by an operator command."""

    status = 503
    code = "policy-engine"
    title = "Policy engine unavailable"
