"""Writable copies of the shipped policies with changed data, for gateways under test.

A gateway started with ``policy_dir`` pointing at such a copy runs exactly the shipped Rego
with, say, tiny quotas, so a test can reach a limit in a handful of requests.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from gateway.policy.bundle import default_policy_dir


def copy_policies(target: Path) -> Path:
    """Copy the shipped ``gateway/`` (Rego) and ``data/`` (JSON) trees into ``target``."""
    source = default_policy_dir()
    for part in ("gateway", "data"):
        shutil.copytree(source / part, target / part)
    return target


def with_quotas(target: Path, purposes: dict[str, dict[str, Any]]) -> Path:
    """A policy copy whose quotas for ``purposes`` are replaced (fields merged per purpose)."""
    root = copy_policies(target)
    path = root / "data" / "quotas.json"
    quotas = json.loads(path.read_text(encoding="utf-8"))
    for purpose, fields in purposes.items():
        quotas["purposes"][purpose] = {**quotas["purposes"][purpose], **fields}
    path.write_text(json.dumps(quotas, indent=2), encoding="utf-8")
    return root
