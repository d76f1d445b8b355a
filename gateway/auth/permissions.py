"""What people may do: permissions for console roles (API scopes are in ``gateway.scopes``).

Console roles bundle permissions for people. Roles and permissions are enums so that
routes, the policy data, the CLI and ``docs/security.md`` use one vocabulary; the role table
in the docs is generated from :data:`ROLE_PERMISSIONS` by :func:`render_role_table` and a
test keeps the two equal.

These sets say what a role *can ever* do; which partner's objects it may touch (a privacy
officer only reads its own partner's audit entries) is decided per request by the policy
engine, with the principal's partner and roles as input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    """Console roles; every console user has exactly one."""

    ADMIN = "admin"
    HELPDESK = "helpdesk"
    PARTNERSHIP_DPO = "partnership_dpo"
    PRIVACY_OFFICER = "privacy_officer"


ROLE_DESCRIPTIONS: Mapping[Role, str] = MappingProxyType(
    {
        Role.ADMIN: "Gateway operator: manages partners, clients and console users.",
        Role.HELPDESK: "PPS legal help desk: simulates decisions and registers answers; "
        "sees no audit details.",
        Role.PARTNERSHIP_DPO: "Data protection officer of the partnership: reads everything, "
        "changes nothing.",
        Role.PRIVACY_OFFICER: "A partner's privacy officer (FG/DPO): reviews policies and that "
        "partner's own audit entries.",
    }
)


class Permission(StrEnum):
    """What a console role may do; ``:own`` means limited to the user's partner."""

    AUDIT_EXPORT_ALL = "audit:export:all"
    AUDIT_EXPORT_OWN = "audit:export:own"
    AUDIT_INTEGRITY_READ = "audit:integrity:read"
    AUDIT_READ_ALL = "audit:read:all"
    AUDIT_READ_OWN = "audit:read:own"
    HELPDESK_ANSWER_READ = "helpdesk:answer:read"
    HELPDESK_ANSWER_WRITE = "helpdesk:answer:write"
    PARTNERS_MANAGE = "partners:manage"
    PARTNERS_READ = "partners:read"
    POLICY_READ = "policy:read"
    POLICY_SIMULATE = "policy:simulate"
    REGISTER_EXPORT = "register:export"
    USERS_MANAGE = "users:manage"


PERMISSION_DESCRIPTIONS: Mapping[Permission, str] = MappingProxyType(
    {
        Permission.AUDIT_EXPORT_ALL: "Export audit entries of every partner.",
        Permission.AUDIT_EXPORT_OWN: "Export the audit entries of the user's own partner.",
        Permission.AUDIT_INTEGRITY_READ: "See the audit log's integrity status and checkpoints.",
        Permission.AUDIT_READ_ALL: "Search audit entries of every partner.",
        Permission.AUDIT_READ_OWN: "Search the audit entries of the user's own partner.",
        Permission.HELPDESK_ANSWER_READ: "Read the help desk's register of answers.",
        Permission.HELPDESK_ANSWER_WRITE: "Add answers to the help desk's register.",
        Permission.PARTNERS_MANAGE: "Onboard, suspend and reinstate partners and their clients.",
        Permission.PARTNERS_READ: "See partners, their status and their clients.",
        Permission.POLICY_READ: "Review policies, legal bases, history and test cases.",
        Permission.POLICY_SIMULATE: "Run the policy simulator.",
        Permission.REGISTER_EXPORT: "Export the GDPR Art. 30 register.",
        Permission.USERS_MANAGE: "Create and disable console users.",
    }
)

_READ_EVERYTHING = frozenset(
    {
        Permission.AUDIT_EXPORT_ALL,
        Permission.AUDIT_INTEGRITY_READ,
        Permission.AUDIT_READ_ALL,
        Permission.HELPDESK_ANSWER_READ,
        Permission.PARTNERS_READ,
        Permission.POLICY_READ,
        Permission.POLICY_SIMULATE,
        Permission.REGISTER_EXPORT,
    }
)

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        # Operations, not oversight: the operator sees that the log is intact but does not
        # read partners' audit entries (separation of duties with the partnership DPO).
        Role.ADMIN: frozenset(
            {
                Permission.AUDIT_INTEGRITY_READ,
                Permission.PARTNERS_MANAGE,
                Permission.PARTNERS_READ,
                Permission.POLICY_READ,
                Permission.REGISTER_EXPORT,
                Permission.USERS_MANAGE,
            }
        ),
        Role.HELPDESK: frozenset(
            {
                Permission.AUDIT_INTEGRITY_READ,
                Permission.HELPDESK_ANSWER_READ,
                Permission.HELPDESK_ANSWER_WRITE,
                Permission.PARTNERS_READ,
                Permission.POLICY_READ,
                Permission.POLICY_SIMULATE,
            }
        ),
        Role.PARTNERSHIP_DPO: _READ_EVERYTHING,
        Role.PRIVACY_OFFICER: frozenset(
            {
                Permission.AUDIT_EXPORT_OWN,
                Permission.AUDIT_INTEGRITY_READ,
                Permission.AUDIT_READ_OWN,
                Permission.POLICY_READ,
                Permission.REGISTER_EXPORT,
            }
        ),
    }
)

# Permissions that change state; a role holding none of them is read-only.
WRITE_PERMISSIONS = frozenset(
    {Permission.HELPDESK_ANSWER_WRITE, Permission.PARTNERS_MANAGE, Permission.USERS_MANAGE}
)


def permissions_for(roles: Iterable[str]) -> frozenset[Permission]:
    """The union of the permissions of the given roles; unknown role names grant nothing."""
    granted: set[Permission] = set()
    for name in roles:
        try:
            granted |= ROLE_PERMISSIONS[Role(name)]
        except ValueError:
            continue
    return frozenset(granted)


def render_role_table() -> str:
    """The Markdown table of roles and permissions published in ``docs/security.md``."""
    roles = sorted(Role)
    header = "| Permission | " + " | ".join(f"`{role}`" for role in roles) + " | What it allows |"
    rule = "|---|" + "|".join(":-:" for _ in roles) + "|---|"
    lines = [header, rule]
    for permission in sorted(Permission):
        marks = " | ".join("yes" if permission in ROLE_PERMISSIONS[role] else "-" for role in roles)
        lines.append(f"| `{permission}` | {marks} | {PERMISSION_DESCRIPTIONS[permission]} |")
    return "\n".join(lines) + "\n"
