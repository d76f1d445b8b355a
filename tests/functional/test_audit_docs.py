"""docs/audit.md cannot drift: its standalone recipe runs against a live gateway."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from sqlalchemy import select, update

from gateway.audit_trail import checkpoints
from gateway.audit_trail.deps import AuditReader
from gateway.audit_trail.models import AuditEntry, AuditNode
from gateway.db import transaction
from gateway.server import BackgroundServer
from gateway.services import Services
from tests.conftest import REPO_ROOT
from tests.unit.gateway.audit_trail.apps import build_app
from tests.unit.gateway.audit_trail.helpers import event, make_settings

DOC = REPO_ROOT / "docs" / "audit.md"
DPO = AuditReader(partner_id="pps-dpo", user="dpo-anna", all_partners=True)


def _recipe() -> dict[str, Any]:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- recipe:start -->\n```python\n", 1)[1].split(
        "```\n<!-- recipe:end -->"
    )[0]
    namespace: dict[str, Any] = {}
    exec(compile(block, f"{DOC}:recipe", "exec"), namespace)
    return namespace


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Services]]:
    # The readers' half of the recipe runs as the partnership's DPO (reader override).
    app, services = build_app(make_settings(database_url, tmp_path), reader=DPO)
    with transaction(services.session_factory) as session:
        for number in range(13):
            services.audit.record(session, event(number))
    with transaction(services.session_factory) as session:
        services.audit.sign_checkpoint(session)
    with BackgroundServer(app) as server:
        yield server.url, services


def _last_entry(services: Services) -> int:
    """The last entry the newest checkpoint covers."""
    with transaction(services.session_factory) as session:
        published = checkpoints.latest(session)
    assert published is not None
    return published.tree_size - 1


def test_the_recipe_verifies_a_live_log_and_catches_a_change(live: tuple[str, Services]) -> None:
    url, services = live
    recipe = _recipe()
    origin, size = recipe["verify_log"](url, services.audit.verifier_key)
    assert origin == services.audit.origin
    assert size >= 13
    assert recipe["verify_log"](url, services.audit.verifier_key, "reader-token") == (origin, size)
    with pytest.raises(InvalidSignature):  # the text was changed under its signature
        recipe["checkpoint_text"](
            recipe["get"](url, "/v1/audit/sth")["checkpoint"].replace("\n\n", "\nX\n\n"),
            services.audit.verifier_key,
        )
    seq = _last_entry(services)
    with transaction(services.session_factory) as session:
        body = session.scalar(select(AuditEntry.body).where(AuditEntry.seq == seq))
        assert body is not None
        changed = body.replace(b'"bank-a"', b'"bank-b"')
        session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(body=changed))
    recipe["verify_log"](url, services.audit.verifier_key)  # the public tree is unchanged
    with pytest.raises(AssertionError, match=f"entry {seq} was altered"):
        recipe["verify_log"](url, services.audit.verifier_key, "reader-token")


def test_the_recipe_catches_a_changed_leaf_hash(live: tuple[str, Services]) -> None:
    url, services = live
    recipe = _recipe()
    seq = _last_entry(services)
    with transaction(services.session_factory) as session:
        session.execute(
            update(AuditNode)
            .where(AuditNode.level == 0, AuditNode.idx == seq)
            .values(hash=bytes(32))
        )
    with pytest.raises(AssertionError, match="do not match the signed root"):
        recipe["verify_log"](url, services.audit.verifier_key)


def test_the_doc_names_every_audit_route() -> None:
    from gateway.audit_api.routes import router

    text = DOC.read_text(encoding="utf-8")
    for route in router.routes:
        path = getattr(route, "path", "")
        assert f"`{next(iter(getattr(route, 'methods', {'GET'})))} {path}" in text, path


def test_the_doc_lists_exactly_the_audit_tags() -> None:
    from gateway.audit_trail.events import AuditTag

    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- tags:start -->\n", 1)[1].split("\n<!-- tags:end -->", 1)[0]
    listed = set(re.findall(r"`([a-z0-9_-]+(?::[a-z0-9_-]+)+)`", block))
    assert listed == {tag.value for tag in AuditTag}, (
        "docs/audit.md tag table is stale: add or remove "
        f"{sorted(listed ^ {tag.value for tag in AuditTag})}"
    )
