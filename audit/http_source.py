"""Reads a log through the gateway's transparency API (modelled on RFC 6962 §4).

Nothing it returns is trusted: :class:`audit.verify.LogVerifier` recomputes and checks
everything against signatures. The client is injected so tests can hand in an in-process
client and operators can configure TLS, proxies, timeouts and credentials as they need.

Anyone reads checkpoints, proofs and leaf hashes (``/v1/audit/leaves``): enough to check the
hash-level tree. Entry contents (``/v1/audit/entries``) need an audit reader's credentials on
the client: a partner's reader gets its own partner's entries (the others as leaf hashes),
the partnership's DPO all of them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any

import httpx

from audit.errors import AuditError
from audit.verify import SourceEntry

PAGE = 1000


class HttpLogSource:
    """A :class:`audit.verify.LogSource` over ``/v1/audit/...``."""

    def __init__(
        self, client: httpx.Client, *, page_size: int = PAGE, contents: bool = False
    ) -> None:
        self.client = client
        self.page_size = page_size
        self.contents = contents

    def _get(self, path: str, **params: int) -> Any:
        try:
            response = self.client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise AuditError(f"cannot reach the log at {path}: {exc}") from None
        if response.status_code != 200:
            detail = response.text[:300].strip()
            raise AuditError(f"GET {path} answered {response.status_code}: {detail}")
        try:
            return response.json()
        except ValueError:
            raise AuditError(f"GET {path} did not answer JSON") from None

    @staticmethod
    def _hash(value: Any, what: str) -> bytes:
        try:
            return base64.b64decode(str(value).encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise AuditError(f"the log sent a {what} that is not base64") from None

    def latest_checkpoint(self) -> str:
        return str(self._get("/v1/audit/sth")["checkpoint"])

    def checkpoint_history(self) -> list[str]:
        notes: list[str] = []
        start = 0
        while True:
            page = self._get("/v1/audit/checkpoints", start=start, limit=self.page_size)
            items = page["checkpoints"]
            notes.extend(str(item["checkpoint"]) for item in items)
            if len(items) < self.page_size:
                return notes
            start = int(items[-1]["tree_size"]) + 1

    def entries(self, start: int, end: int) -> Iterable[SourceEntry]:
        path, key = (
            ("/v1/audit/entries", "entries") if self.contents else ("/v1/audit/leaves", "leaves")
        )
        position = start
        while position < end:
            last = min(end, position + self.page_size) - 1
            page = self._get(path, start=position, end=last)[key]
            if not page:
                return
            for item in page:
                entry = item.get("entry")
                yield SourceEntry(
                    index=int(item["leaf_index"]),
                    data=None if entry is None else str(entry).encode("utf-8"),
                    leaf_hash=self._hash(item["leaf_hash"], "leaf hash")
                    if item.get("leaf_hash")
                    else None,
                )
            position = max(position + 1, int(page[-1]["leaf_index"]) + 1)

    def consistency_proof(self, first: int, second: int) -> list[bytes] | None:
        body = self._get("/v1/audit/sth/consistency", first=first, second=second)
        return [self._hash(value, "proof hash") for value in body["consistency"]]

    def inclusion_proof(self, leaf_index: int, tree_size: int) -> list[bytes]:
        body = self._get("/v1/audit/proof/inclusion", leaf_index=leaf_index, tree_size=tree_size)
        return [self._hash(value, "proof hash") for value in body["audit_path"]]

    def public_key(self) -> dict[str, Any]:
        value = self._get("/v1/audit/public-key")
        if not isinstance(value, dict):
            raise AuditError("the log's public-key answer is not an object")
        return value
