from __future__ import annotations

from pathlib import Path

import pytest

from gateway.auth.permissions import (
    PERMISSION_DESCRIPTIONS,
    ROLE_DESCRIPTIONS,
    ROLE_PERMISSIONS,
    WRITE_PERMISSIONS,
    Permission,
    Role,
    permissions_for,
    render_role_table,
)
from gateway.auth.principal import Principal
from gateway.errors import InvalidRequestError
from gateway.scopes import SCOPE_DESCRIPTIONS, Scope, parse_scopes, render_scope_table, scope_string

SECURITY_DOC = Path(__file__).resolve().parents[4] / "docs" / "security.md"


def _block(text: str, name: str) -> str:
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    assert start in text, f"docs/security.md lacks the {name} start marker"
    assert end in text, f"docs/security.md lacks the {name} end marker"
    return text.split(start, 1)[1].split(end, 1)[0]


@pytest.mark.parametrize(
    ("name", "render"), [("role-table", render_role_table), ("scope-table", render_scope_table)]
)
def test_security_doc_tables_are_generated_from_the_enums(name: str, render: object) -> None:
    expected = render()  # type: ignore[operator]
    actual = _block(SECURITY_DOC.read_text(encoding="utf-8"), name)
    assert actual == expected, (
        f"docs/security.md {name} is stale; replace the block with:\n{expected}"
    )


def test_every_member_is_described() -> None:
    assert set(SCOPE_DESCRIPTIONS) == set(Scope)
    assert set(ROLE_DESCRIPTIONS) == set(Role)
    assert set(PERMISSION_DESCRIPTIONS) == set(Permission)
    assert set(ROLE_PERMISSIONS) == set(Role)


def test_the_scopes_of_the_issue_exist() -> None:
    assert {str(s) for s in Scope} >= {
        "indicators:write",
        "match:query",
        "watchlist:write",
        "alerts:read",
        "audit:read",
        "policy:read",
        "policy:simulate",
        "admin",
    }


def test_partnership_dpo_reads_everything_and_changes_nothing() -> None:
    dpo = ROLE_PERMISSIONS[Role.PARTNERSHIP_DPO]
    assert not dpo & WRITE_PERMISSIONS
    readable = {p for p in Permission if p not in WRITE_PERMISSIONS and not p.endswith(":own")}
    assert readable <= dpo


def test_helpdesk_simulates_but_sees_no_audit_details() -> None:
    helpdesk = ROLE_PERMISSIONS[Role.HELPDESK]
    assert Permission.POLICY_SIMULATE in helpdesk
    assert Permission.HELPDESK_ANSWER_WRITE in helpdesk
    assert not {p for p in helpdesk if p.startswith(("audit:read", "audit:export"))}


def test_privacy_officer_reads_only_own_audit_entries() -> None:
    officer = ROLE_PERMISSIONS[Role.PRIVACY_OFFICER]
    assert Permission.AUDIT_READ_OWN in officer
    assert Permission.AUDIT_READ_ALL not in officer
    assert Permission.AUDIT_EXPORT_ALL not in officer


def test_permissions_for_ignores_unknown_roles() -> None:
    assert permissions_for(["no-such-role"]) == frozenset()
    assert permissions_for(["helpdesk", "privacy_officer"]) == (
        ROLE_PERMISSIONS[Role.HELPDESK] | ROLE_PERMISSIONS[Role.PRIVACY_OFFICER]
    )


def test_parse_scopes_names_unknown_scopes() -> None:
    assert parse_scopes("match:query indicators:write") == {
        Scope.MATCH_QUERY,
        Scope.INDICATORS_WRITE,
    }
    with pytest.raises(InvalidRequestError) as caught:
        parse_scopes("match:query indicators:delete")
    assert caught.value.field == "scopes"
    assert "indicators:delete" in caught.value.reason


def test_scope_string_is_sorted_and_unique() -> None:
    assert scope_string(["b", "a", "b"]) == "a b"


def test_principal_permissions_come_from_roles() -> None:
    principal = Principal(
        partner_id="pps-helpdesk",
        client_id=None,
        user="anna",
        sector="helpdesk",
        scopes=frozenset(),
        roles=frozenset({"helpdesk"}),
    )
    assert principal.permissions == ROLE_PERMISSIONS[Role.HELPDESK]
    assert principal.is_console_user
    assert principal.policy_input()["roles"] == ["helpdesk"]
