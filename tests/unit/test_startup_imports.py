"""What starting a command or a gateway process imports (each test in a fresh interpreter).

Every ``ppsgate`` command used to import the HTTP app, its routes, the demo, the PDF library
and the OPA client before doing anything: 3.5-5.6 s per command on the 2-core machine,
paid by operators, the runbook and every test that runs the command line. Libraries that
only one command or one deployment needs are imported where they are used.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Imported by a command only when it needs them.
NOT_FOR_EVERY_COMMAND = (
    "fastapi",  # the HTTP apps (ppsgate demo, serve, evaluator serve)
    "gateway.app",
    "gateway.demo.run",
    "evaluator.app",
    "fpdf",  # PDF notices (ppsgate partner notice)
    "opa_client",  # an OPA server deployment (PPSGATE_OPA_URL)
    "stix2",  # the connector's exchange formats
    "openpyxl",
    "pymisp",
)


def _loaded(statement: str, names: tuple[str, ...]) -> list[str]:
    probe = (
        f"import sys\n{statement}\n"
        f"import json\nprint(json.dumps([n for n in {list(names)!r} if n in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=True,
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_a_command_starts_without_the_app_and_optional_libraries() -> None:
    assert _loaded("import gateway.cli", NOT_FOR_EVERY_COMMAND) == []


def test_a_gateway_process_starts_without_the_opa_client() -> None:
    assert _loaded("import gateway.asgi", ("opa_client", "stix2", "openpyxl", "pymisp")) == []


@pytest.mark.parametrize(
    ("module", "brings", "leaves"),
    [
        # The demo's run needs the app: it is what the command imports lazily.
        ("gateway.demo.run", ("gateway.demo.run", "gateway.app"), ()),
        # The OPA engine imports its client only when it builds one (an OPA deployment).
        ("gateway.policy.opa_engine", ("gateway.policy.opa_engine",), ("opa_client",)),
        # A membership notice's module; fpdf only when a PDF is written.
        ("gateway.partners.notices", ("gateway.partners.notices",), ("fpdf",)),
    ],
)
def test_the_modules_that_need_them_import_them_when_used(
    module: str, brings: tuple[str, ...], leaves: tuple[str, ...]
) -> None:
    assert _loaded(f"import {module}", brings + leaves) == list(brings)
