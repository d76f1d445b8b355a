"""The runbook test's ``systemctl``: starts a unit's ExecStart with its EnvironmentFile.

Only what the runbook uses: ``daemon-reload``, ``enable --now``, ``start``, ``stop``,
``restart`` and ``reload``. ``User=`` and the sandboxing lines are ignored (the test runs as
one user); ``nginx`` is Debian's binary with the test's main configuration. Each started
process's id is written to ``<state>/<unit>.pid`` so the test stops exactly what it started.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

from dotenv import dotenv_values

PASSED_THROUGH = ("PATH", "PYTHONPATH", "HOME", "LANG")


def _unit(units: Path, name: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in (units / f"{name}.service").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith(("#", "[")):
            fields[key.strip()] = value.strip()
    return fields


def _start(state: Path, units: Path, name: str) -> None:
    unit = _unit(units, name)
    env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
    if "EnvironmentFile" in unit:
        values = dotenv_values(unit["EnvironmentFile"])
        env.update({key: value for key, value in values.items() if value is not None})
    log = (state / f"{name}.log").open("ab")
    process = subprocess.Popen(
        shlex.split(unit["ExecStart"]),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    (state / f"{name}.pid").write_text(str(process.pid))


def _stop(state: Path, name: str) -> None:
    pid_file = state / f"{name}.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pid_file.unlink()
        return
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.killpg(pid, signal.SIGKILL)
    pid_file.unlink()


def _nginx(state: Path, action: str) -> int:
    command = ["nginx", "-c", str(state / "nginx.conf")]
    if action in {"reload", "restart"} and (state / "nginx.pid").exists():
        checked = subprocess.run([*command, "-t", "-q"], check=False)
        if checked.returncode:
            return checked.returncode
        return subprocess.run([*command, "-s", "reload"], check=False).returncode
    if action == "stop":
        return subprocess.run([*command, "-s", "quit"], check=False).returncode
    return subprocess.run(command, check=False).returncode


def main(argv: list[str], *, state: str, units: str) -> int:
    words = [word for word in argv if word != "--now"]
    if words == ["daemon-reload"] or (words[0] == "enable" and "--now" not in argv):
        return 0
    action, name = words[0], words[1].removesuffix(".service")
    if name == "nginx":
        return _nginx(Path(state), action)
    if action in {"stop", "restart"}:
        _stop(Path(state), name)
    if action in {"enable", "start", "restart"}:
        _start(Path(state), Path(units), name)
    return 0
