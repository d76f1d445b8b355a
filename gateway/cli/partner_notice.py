"""``ppsgate partner notice``: the notice to the competent authorities of a joining or leaving.

Generated from the registry, the live policy data and the audit log
(:mod:`gateway.partners.notices`); writing one is itself audited (``partner:notice:export``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gateway.audit_trail.events import AuditTag
from gateway.cli.partner import out, registry_context
from gateway.errors import InvalidRequestError
from gateway.partners.notices import MembershipEvent, build_notice, notice_csv, notice_pdf
from gateway.policy.bundle import load_bundle


class NoticeFormat(StrEnum):
    CSV = "csv"
    PDF = "pdf"


def notice_command(
    partner_id: Annotated[str, typer.Argument(help="Partner id.")],
    event: Annotated[
        MembershipEvent, typer.Option(help="joined (after partner add) or left (after offboard).")
    ],
    out_file: Annotated[Path, typer.Option("--out", help="File to write.")],
    fmt: Annotated[NoticeFormat, typer.Option("--format", help="csv or pdf.")] = NoticeFormat.PDF,
) -> None:
    """Write the notice for the competent authorities that a partner joined or left."""
    with registry_context() as (registry, settings):
        loaded = load_bundle(settings.policy_dir)
        notice = build_notice(
            registry.session,
            loaded.data,
            partner_id=partner_id,
            event=event,
            policy_digest=loaded.digest,
            now=datetime.now(UTC),
        )
        registry.record(
            AuditTag.PARTNER_NOTICE_EXPORT, partner_id, {"event": event.value, "format": fmt.value}
        )
        content = notice_pdf(notice) if fmt is NoticeFormat.PDF else notice_csv(notice).encode()
    try:
        out_file.write_bytes(content)
    except OSError as exc:
        raise InvalidRequestError(f"cannot write: {exc.strerror}", field="--out") from None
    out.print(f"notice written to {out_file}; notify: {'; '.join(notice.notify) or '-'}")
