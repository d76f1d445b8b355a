"""Object-level authorisation rules of areas beyond indicators and matching.

Each area adds its operations here with "public" or a probe (a callable taking the running
``Gateway``) showing that partner A cannot reach partner B's objects; the OpenAPI-walking
test in tests/functional/test_object_authorisation.py fails for any operation missing here
or there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

RULES: dict[tuple[str, str], str | Callable[[Any], None]] = {}
