"""The inputs of the partnership's joint DPIA, generated from the live policy data.

A DPIA (GDPR Art. 35) describes the processing: per purpose which identifier kinds, which
sectors and partners, on which legal basis, with which thresholds before anything beyond a
hit is shared, what each sector learns, how long data are kept (per category and per role),
and which obligations bind the recipients. Written by hand it drifts from what the gateway
enforces; generated here from the same data the policy engine decides with (the version is
named by its bundle digest), it cannot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _thresholds(corroboration: Mapping[str, Any] | None) -> str:
    if not corroboration:
        return "none (no disclosure beyond the action itself)"
    parts = [
        f"{corroboration.get('min_reports', 0)} reports",
        f"{corroboration.get('min_reporters', 0)} reporting partner(s)",
    ]
    if corroboration.get("min_victims"):
        parts.append(f"{corroboration['min_victims']} distinct victims")
    if corroboration.get("min_victims_one_reporter"):
        parts.append(
            f"{corroboration['min_victims_one_reporter']} distinct victims at one reporter"
        )
    if corroboration.get("min_evidence"):
        parts.append(f"evidence at least {corroboration['min_evidence']}")
    if corroboration.get("reporter_sectors"):
        parts.append("victims counted from " + ", ".join(corroboration["reporter_sectors"]))
    return "; ".join(parts)


def _retention(retention: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "default_days": retention.get("default"),
        "by_category_days": dict(retention.get("by_category", {})),
        "by_role_days": dict(retention.get("by_role", {})),
    }


def _registered(data: Mapping[str, Any], purpose: str) -> list[dict[str, str]]:
    partners: Mapping[str, Any] = data.get("partners", {})
    return [
        {"partner": pid, "sector": str(p.get("sector")), "legal_basis": str(r.get("legal_basis"))}
        for pid, p in sorted(partners.items())
        if (r := p.get("registrations", {}).get(purpose)) is not None
    ]


def _purpose(
    data: Mapping[str, Any], purpose_id: str, purpose: Mapping[str, Any]
) -> dict[str, Any]:
    obligations: Mapping[str, Any] = data.get("obligations", {})
    return {
        "purpose": purpose_id,
        "label": purpose.get("label_en"),
        "profile": purpose.get("profile", "base"),
        "actions": list(purpose.get("actions", [])),
        "sectors": list(purpose.get("sectors", [])),
        "identifier_kinds": list(purpose.get("kinds", [])),
        "categories": purpose.get("categories"),
        "criminal_offence_data": bool(purpose.get("criminal_data")),
        "max_per_request": purpose.get("max_batch"),
        "thresholds": _thresholds(purpose.get("corroboration")),
        "disclosure_per_sector": dict(purpose.get("disclosure", {})),
        "retention": _retention(purpose.get("retention_days", {})),
        "obligations": [
            {"code": code, "text": obligations.get(code, {}).get("text_en", code)}
            for code in purpose.get("obligations", [])
        ],
        "registered_partners": _registered(data, purpose_id),
        "data_subjects": purpose.get("data_subjects_en"),
    }


def dpia_inputs(data: Mapping[str, Any], *, digest: str) -> dict[str, Any]:
    """Everything the joint DPIA must describe, per purpose, from ``data`` (a bundle's)."""
    profiles = data.get("profiles", {})
    evidence = data.get("evidence", {})
    return {
        "policy_digest": digest,
        "taxonomy_version": data.get("taxonomy", {}).get("version"),
        "profiles_enabled": list(profiles.get("enabled", [])),
        "evidence_levels": {
            level: {"rank": info.get("rank"), "label": info.get("label_en")}
            for level, info in evidence.get("levels", {}).items()
        },
        "retention_extension_reasons": sorted(evidence.get("retention_extension_reasons", {})),
        "roles": {
            role: info.get("label_en")
            for role, info in data.get("taxonomy", {}).get("roles", {}).items()
        },
        "purposes": [
            _purpose(data, purpose_id, purpose)
            for purpose_id, purpose in data.get("purposes", {}).items()
            if profile_enabled(profiles, purpose)
        ],
    }


def profile_enabled(profiles: Mapping[str, Any], purpose: Mapping[str, Any]) -> bool:
    """Whether the purpose's profile is switched on (a switched-off one is not processing)."""
    return purpose.get("profile", "base") in profiles.get("enabled", ["base"])


def render_markdown(inputs: Mapping[str, Any]) -> str:
    """The DPIA inputs as a Markdown chapter to paste into the DPIA document."""
    lines = [
        "# DPIA inputs generated from the live policy",
        "",
        f"Policy bundle `{inputs['policy_digest']}`, taxonomy {inputs['taxonomy_version']}, "
        f"profiles enabled: {', '.join(inputs['profiles_enabled'])}.",
        "",
    ]
    for p in inputs["purposes"]:
        retention = p["retention"]
        lines += [
            f"## {p['label']} (`{p['purpose']}`, profile `{p['profile']}`)",
            "",
            f"- **Sectors:** {', '.join(p['sectors'])}; **registered:** "
            + (
                ", ".join(f"{r['partner']} ({r['legal_basis']})" for r in p["registered_partners"])
                or "none"
            ),
            f"- **Identifier kinds:** {', '.join(p['identifier_kinds']) or 'none'}; "
            f"**criminal-offence data:** {'yes' if p['criminal_offence_data'] else 'no'}; "
            f"**max per request:** {p['max_per_request']}",
            f"- **Thresholds before more than a hit:** {p['thresholds']}",
            "- **Disclosure per sector:** "
            + (
                "; ".join(
                    f"{s}: {', '.join(levels)}" for s, levels in p["disclosure_per_sector"].items()
                )
                or "none"
            ),
            f"- **Retention:** {retention['default_days']} days by default"
            + "".join(f"; {c} {d}" for c, d in retention["by_category_days"].items())
            + "".join(f"; role {r} {d}" for r, d in retention["by_role_days"].items()),
            "- **Obligations:** " + ("; ".join(o["text"] for o in p["obligations"]) or "none"),
            f"- **Data subjects:** {p['data_subjects'] or '-'}",
            "",
        ]
    return "\n".join(lines)
