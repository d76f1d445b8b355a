"""Operator commands find the gateway's data where they are told, and never invent it.

Each command is run through ``gateway.cli.main`` (the real entry point) pointed at a
directory that holds no gateway: it must refuse with the path it looked at and how to point
it, and leave nothing behind. ``--data-dir`` is the same option on every such command.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from gateway.cli import NO_DATA_DIR, command, main

REFUSING = [
    ["partner", "list"],
    ["partner", "add", "--name", "Example Bank", "--sector", "bank"],
    ["partner", "show", "bank-a"],
    ["user", "add", "--username", "fg.example", "--role", "privacy_officer", "--partner",
     "bank-a", "--password-stdin"],
    ["user", "disable", "fg.example"],
    ["keys", "list"],
    ["pepper", "status"],
    ["purge"],
    ["audit", "checkpoint"],
    ["audit", "public-key"],
    ["audit", "proof", "--entry", "0"],
    ["abuse", "usage"],
    ["policy", "history"],
]  # fmt: skip


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    monkeypatch.setattr(sys, "argv", ["ppsgate", *argv])
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    return capsys.readouterr().err


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("PPSGATE_ENV", "test")
    monkeypatch.setenv("PPSGATE_DATABASE_URL", "")
    monkeypatch.setenv("PPSGATE_PUBLIC_URL", "http://127.0.0.1:8000")
    monkeypatch.delenv("PPSGATE_DATA_DIR", raising=False)
    return tmp_path


@pytest.mark.parametrize("argv", REFUSING, ids=[" ".join(a[:2]) for a in REFUSING])
def test_a_command_pointed_nowhere_refuses_and_creates_nothing(
    argv: list[str],
    environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    nowhere = environment / "typo"
    error = run(monkeypatch, capsys, *argv, "--data-dir", str(nowhere))
    assert f"no gateway database at {nowhere / 'ppsgate.sqlite3'} (from --data-dir)" in error
    assert "--data-dir DIR or PPSGATE_DATA_DIR=DIR" in error
    assert not nowhere.exists()

    monkeypatch.setenv("PPSGATE_DATA_DIR", str(nowhere))
    error = run(monkeypatch, capsys, *argv)
    assert "(from PPSGATE_DATA_DIR)" in error
    assert not nowhere.exists()


def test_db_upgrade_creates_the_database_the_others_then_use(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = environment / "gateway"
    for argv in (["db", "upgrade"], ["partner", "add", "--name", "Example Bank", "--sector",
                                     "bank"], ["partner", "list", "--json"]):  # fmt: skip
        monkeypatch.setattr(sys, "argv", ["ppsgate", *argv, "--data-dir", str(data)])
        main()
    assert '"id": "example-bank"' in capsys.readouterr().out
    assert (data / "ppsgate.sqlite3").is_file()


def test_every_command_on_a_gateway_s_data_takes_the_same_option() -> None:
    def leaves(group: object, prefix: str = "") -> dict[str, object]:
        found: dict[str, object] = {}
        for name, sub in getattr(group, "commands", {}).items():
            path = f"{prefix}{name}"
            found.update(leaves(sub, f"{path} ") if hasattr(sub, "commands") else {path: sub})
        return found

    tree = leaves(command())
    with_option = {
        path
        for path, sub in tree.items()
        if any("--data-dir" in getattr(p, "opts", ()) for p in getattr(sub, "params", ()))
    }
    skipped = {p for p in tree if any(p == s or p.startswith(f"{s} ") for s in NO_DATA_DIR)}
    assert with_option == set(tree) - skipped | {"demo"}
    assert {"partner list", "user add", "audit checkpoint", "db upgrade"} <= with_option
