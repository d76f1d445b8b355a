"""``ppsgate init``: create the gateway's key files on a new machine, before anything else.

It reads no database and no other setting, so it works before PostgreSQL is reachable and
before ``PPSGATE_*`` names the files it is about to create.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gateway.keys.bootstrap import InitReport, initialise

out = Console(highlight=False, soft_wrap=True)


def init(
    keys_dir: Annotated[
        Path,
        typer.Option(
            "--keys-dir",
            help="Directory to create the key files in (made 0700; "
            "e.g. /etc/ppsgate/keys). Existing key files are never overwritten.",
        ),
    ],
    audit_origin: Annotated[
        str,
        typer.Option(
            "--audit-origin",
            help="The audit log's origin, as PPSGATE_AUDIT_ORIGIN "
            "will name it (e.g. gateway.example.nl/audit).",
        ),
    ],
) -> None:
    """Create K_gw, the audit signing key and the token signing key (mode 0600)."""
    report = initialise(keys_dir.expanduser().absolute(), audit_origin=audit_origin)
    _print(report, audit_origin)


def _print(report: InitReport, audit_origin: str) -> None:
    out.print("Created (mode 0600, never overwritten):")
    for made in report.files:
        out.print(f"  {made.path}  ({made.purpose})")
    out.print("\nSet these in the gateway's environment:")
    for made in report.files:
        out.print(f"{made.setting}={made.path}")
    out.print(f"PPSGATE_AUDIT_ORIGIN={audit_origin}")
    out.print("\nPublish to privacy officers and witnesses (public):")
    out.print(f"  audit log verifier key: {report.audit_verifier_key}")
    out.print(f"  token signing key id:   {report.token_key_id} (served at /.well-known/jwks.json)")
    out.print(
        "\nBack up the three files now, together, encrypted and apart from database backups "
        "(a database dump with the pepper is what an attacker needs to test guesses): "
        f"pepper key id {report.pepper_key_id}. Losing the pepper makes every stored "
        "indicator unmatchable; losing the audit key ends the log's origin."
    )
