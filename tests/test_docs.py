"""Documentation that cannot drift: generated tables must match the code."""

from __future__ import annotations

from pathlib import Path

from gateway.config import settings_table

ROOT = Path(__file__).resolve().parent.parent


def _block(text: str, name: str) -> str:
    start = f"<!-- {name}:start -->\n"
    end = f"\n<!-- {name}:end -->"
    return text.split(start, 1)[1].split(end, 1)[0]


def test_readme_settings_table_matches_settings() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _block(readme, "settings-table") == settings_table(), (
        "README configuration table is stale; regenerate it with "
        "`python -c 'from gateway.config import settings_table; print(settings_table())'`"
    )


def test_docs_pages_exist_and_are_linked() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in (
        "architecture",
        "hashing",
        "policies",
        "audit",
        "security",
        "threat-model",
        "operations",
    ):
        assert (ROOT / "docs" / f"{page}.md").is_file(), page
        assert f"docs/{page}.md" in readme, page


def test_cli_reference_is_generated_from_the_commands() -> None:
    from gateway.cli.reference import render

    current = (ROOT / "docs" / "cli-reference.md").read_text(encoding="utf-8")
    assert current == render(), (
        "docs/cli-reference.md is stale; regenerate it with "
        "`python -m gateway.cli.reference > docs/cli-reference.md` (or `make docs`)"
    )
