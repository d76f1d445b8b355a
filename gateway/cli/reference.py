"""docs/cli-reference.md, generated from the commands themselves so it cannot drift.

``python -m gateway.cli.reference > docs/cli-reference.md`` regenerates it; a test compares.
"""

from __future__ import annotations

import typer
import typer.cli

import connectors.cli
import gateway.cli

HEADER = (
    "# Command-line reference\n\n"
    "Generated from the commands' own help (`python -m gateway.cli.reference`); a test fails "
    "when it is stale.\n\n"
)


def _docs(app: typer.Typer, name: str) -> str:
    command = gateway.cli.command() if app is gateway.cli.app else typer.main.get_command(app)
    context = typer.Context(command, info_name=name)
    return typer.cli.get_docs_for_click(obj=command, ctx=context, name=name)


def render() -> str:
    parts = [_docs(gateway.cli.app, "ppsgate"), _docs(connectors.cli.app, "ppsgate-connector")]
    text = HEADER + "\n".join(part.replace("# `", "## `", 1) for part in parts)
    # Typer titles nested commands with one more '#' per level; keep them under level 2.
    return "\n".join(line.rstrip() for line in text.splitlines()).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")  # noqa: T201 - the module's job is to print the document
