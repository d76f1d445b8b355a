"""The demo's own privacy check: no identifier of the cast appears in the gateway's files.

The serving demo must not open its own SQLite files: closing any descriptor of a database
file drops every POSIX lock the process holds on it (SQLite's locks included), so the next
process to close the database (``ppsgate user add``, say) believes it is the last, folds the
write-ahead log into the file and deletes it under the serving demo, whose later writes are
lost and whose sequence numbers collide with the file's. The demo therefore scans in a
child process (:func:`scan_in_child`), whose descriptors are its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from connectors.canonical import Kind, canonicalize
from gateway.demo import cast


def cast_identifiers() -> list[str]:
    """Every demo identifier in its raw and canonical form (the strings that must not leak)."""
    raw: list[tuple[Kind, str]] = [
        (Kind.IBAN, cast.SELLER_IBAN),
        (Kind.IBAN, cast.HONEST_IBAN),
        *((Kind.IBAN, iban) for iban in cast.BANK_A_CUSTOMERS),
        (Kind.PHONE, cast.BANK_A_HELPDESK),
        *((Kind.PHONE, number) for number in cast.CALLER_IDS),
        (Kind.URL, cast.PHISHING_PAGE),
        (Kind.CRYPTO_ADDRESS, cast.CASH_OUT_ADDRESS),
        (Kind.SOCIAL_ACCOUNT, cast.RECRUITER_ACCOUNT),
        (Kind.IBAN, cast.MULE_IBAN),
    ]
    forms = set()
    for kind, value in raw:
        forms.add(value)
        forms.add(canonicalize(kind, value))
    return sorted(forms)


def leaked(files: Iterable[Path], needles: Iterable[str]) -> list[tuple[Path, str]]:
    """(file, needle) for every needle found in a file, as UTF-8 or UTF-16 bytes."""
    patterns = [(n, n.encode("utf-8")) for n in needles] + [
        (n, n.encode("utf-16-le")) for n in needles
    ]
    found: list[tuple[Path, str]] = []
    for path in files:
        data = path.read_bytes()
        found.extend((path, needle) for needle, pattern in patterns if pattern in data)
    return found


def database_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("ppsgate.sqlite3*") if p.is_file())


def scan_in_child(directory: Path) -> list[str]:
    """Names of the database files that hold a cast identifier, scanned by a child process."""
    result = subprocess.run(  # noqa: S603 - this interpreter and module, a path argument
        [sys.executable, "-m", "gateway.demo.privacy", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [str(name) for name in json.loads(result.stdout)]


def main(argv: list[str]) -> None:
    found = leaked(database_files(Path(argv[0])), cast_identifiers())
    print(json.dumps(sorted({path.name for path, _ in found})))  # noqa: T201 - to the parent


if __name__ == "__main__":
    main(sys.argv[1:])
