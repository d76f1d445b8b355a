"""A policy refusal as an error: its reason codes, its text and what each code rests on.

The legal references come from the reasons' METADATA (``custom.gdpr``) plus any the
decision added, so a partner refused over HTTP, on the command line or in the console sees
the same articles ``ppsgate policy explain`` shows for the same question.
"""

from __future__ import annotations

from gateway.errors import PermissionDeniedError
from gateway.policy.catalog import ReasonCatalog
from gateway.policy.decision import Decision, PolicyEngine


def denial_text(decision: Decision) -> str:
    """The reasons of a refusal as one line: codes and their texts from the policy."""
    return "; ".join(f"{r.code}: {r.text_en}" for r in decision.reasons) or "denied by policy"


def legal_references(*decisions: Decision) -> dict[str, tuple[str, ...]]:
    """Reason code -> the legal references its METADATA (and the decision) cite."""
    found: dict[str, tuple[str, ...]] = {}
    for decision in decisions:
        for reason in decision.reasons:
            known = found.get(reason.code, ())
            found[reason.code] = known + tuple(r for r in reason.basis if r not in known)
    return found


def refusal(
    decisions: Decision | tuple[Decision, ...],
    text: str,
    *,
    field: str,
    reasons: tuple[str, ...] | None = None,
    audited: bool = True,
) -> PermissionDeniedError:
    """The 403 for a policy refusal: its codes, its text and the references they rest on."""
    group = decisions if isinstance(decisions, tuple) else (decisions,)
    codes = reasons if reasons is not None else tuple(c for d in group for c in d.reason_codes)
    return PermissionDeniedError(
        text, field=field, reasons=codes, audited=audited, references=legal_references(*group)
    )


def catalog_of(engine: PolicyEngine) -> ReasonCatalog | None:
    """The reason catalog of the engine in force, when it has one loaded."""
    current = getattr(engine, "current", engine)
    catalog = getattr(current, "catalog", None)
    return catalog if isinstance(catalog, ReasonCatalog) else None


def gateway_refusal(
    engine: PolicyEngine, code: str, text: str, *, field: str, audited: bool = True
) -> PermissionDeniedError:
    """A refusal the gateway itself decides under a policy code (e.g. ``quota-undefined``)."""
    catalog = catalog_of(engine)
    basis = catalog.entries[code].reason.basis if catalog and code in catalog else ()
    return PermissionDeniedError(
        text, field=field, reasons=(code,), audited=audited, references={code: basis}
    )
