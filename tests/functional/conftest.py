from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.gateway import Gateway, running_gateway


@pytest.fixture
def gateway(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    """A gateway served on loopback over a fresh database of the parametrised backend."""
    with running_gateway(database_url, tmp_path / "data") as running:
        yield running
