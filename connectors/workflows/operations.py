"""Submit, match, watch and alerts against the gateway, batch by batch.

Idempotency keys are derived from the batch content, so re-running a command after a crash
or a network error replays the gateway's first answer instead of acting twice.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from connectors.errors import UsageError
from connectors.workflows.api import GatewayApi
from connectors.workflows.rows import HashedRow, RejectedRow

SUBMIT_FIELDS = (
    "category",
    "role",
    "observed_at",
    "expires_at",
    "confidence",
    "reference",
    "evidence",
    "retention_reason",
)


@dataclass(slots=True)
class Summary:
    """Counts for the end-of-run table."""

    sent: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    sectors: Counter[str] = field(default_factory=Counter)
    hits: int = 0


def _victim_reference(victims: Callable[[str], str] | None, value: str) -> str:
    if victims is None:
        raise UsageError(
            "the input has a victim column; give --victim-key (ppsgate-connector keys "
            "victim-key creates one) so the ids are sent as keyed references",
            field="victim",
        )
    return victims(value)


def batched(
    rows: Iterable[HashedRow | RejectedRow], size: int
) -> Iterator[list[HashedRow | RejectedRow]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def batched_by_row(
    rows: Iterable[HashedRow | RejectedRow], size: int
) -> Iterator[list[HashedRow | RejectedRow]]:
    """Like :func:`batched`, but never splits the tokens of one input row (several epochs)."""
    chunk: list[HashedRow | RejectedRow] = []
    for row in rows:
        if len(chunk) >= size and chunk[-1].row != row.row:
            yield chunk
            chunk = []
        chunk.append(row)
    if chunk:
        yield chunk


_UNION_FIELDS = ("categories", "roles", "sectors", "reporting_partners", "evidence", "obligations")


def merge_disclosed(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """One row's answers under several epochs (an overlap window) as one answer.

    A hit under any epoch is a hit; lists are united; counts take the largest, because a
    partner that re-hashed reports the same case under both epochs (a sum would count it
    twice); first and last seen span both.
    """
    if len(answers) == 1:
        return answers[0]
    merged: dict[str, Any] = {"hit": any(bool(a.get("hit")) for a in answers)}
    for answer in answers:
        for name, value in answer.items():
            if name == "hit" or value is None:
                continue
            if name in _UNION_FIELDS:
                merged[name] = sorted(set(merged.get(name, [])) | set(value))
            elif name in {"reports", "reporters", "victims"}:
                merged[name] = max(int(value), int(merged.get(name, 0)))
            elif name == "first_seen":
                merged[name] = min(value, merged.get(name, value))
            elif name == "last_seen":
                merged[name] = max(value, merged.get(name, value))
            elif isinstance(value, bool):
                merged[name] = bool(merged.get(name)) or value
            else:
                merged.setdefault(name, value)
    return merged


def idempotency_key(action: str, body: Any) -> str:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return f"{action}-{digest[:48]}"


def token_item(row: HashedRow) -> dict[str, Any]:
    """The gateway item naming a token; ``spec`` only when not v1 (the gateway's default),
    so v1 requests stay exactly what gateways without the field accept."""
    item: dict[str, Any] = {"kind": row.kind, "epoch": row.epoch, "token": row.token}
    if row.spec != "v1":
        item["spec"] = row.spec
    return item


def _base(row: HashedRow) -> dict[str, Any]:
    record: dict[str, Any] = {"row": row.row, "type": row.kind, "epoch": row.epoch}
    if row.spec != "v1":
        record["spec"] = row.spec
    if row.value is not None:
        record["value"] = row.value
    return record


def _rejected(row: RejectedRow, summary: Summary) -> dict[str, Any]:
    summary.rejected[row.reason] += 1
    return {"row": row.row, "status": "rejected", "reason": row.reason, **row.carried}


def submit(
    api: GatewayApi,
    rows: Iterable[HashedRow | RejectedRow],
    *,
    purpose: str,
    legal_basis: str,
    defaults: dict[str, Any],
    batch_size: int,
    emit: Callable[[list[dict[str, Any]]], None],
    victims: Callable[[str], str] | None = None,
) -> Summary:
    """Send indicators; carried columns named like item fields override ``defaults``.

    A ``victim`` column holds the partner's own customer or case id; ``victims`` turns it
    into the keyed reference the gateway counts (the id itself is never sent).
    """
    summary = Summary()
    for chunk in batched(rows, batch_size):
        out: list[dict[str, Any]] = []
        items, sent_rows = [], []
        for row in chunk:
            if isinstance(row, RejectedRow):
                out.append(_rejected(row, summary))
                continue
            item = token_item(row)
            for name in SUBMIT_FIELDS:
                value = row.carried.get(name, defaults.get(name))
                if value not in (None, ""):
                    item[name] = int(value) if name == "confidence" else value
            if row.carried.get("victim"):
                item["victim"] = _victim_reference(victims, str(row.carried["victim"]))
            item.setdefault("observed_at", datetime.now(tz=UTC).isoformat())
            items.append(item)
            sent_rows.append(row)
        if items:
            body = {"purpose": purpose, "legal_basis": legal_basis, "items": items}
            answer = api.call(
                "POST", "/v1/indicators", json=body, idempotency_key=idempotency_key("submit", body)
            )
            summary.sent += len(items)
            for row, result in zip(sent_rows, answer["results"], strict=True):
                summary.statuses[result["status"]] += 1
                if result["status"] == "rejected":
                    summary.rejected[f"{result.get('field')}: {result.get('reason')}"] += 1
                extra = {k: result[k] for k in ("field", "reason") if result.get(k)}
                out.append({**_base(row), "status": result["status"], **extra, **row.carried})
        emit(sorted(out, key=lambda record: int(record["row"])))
    return summary


def match(
    api: GatewayApi,
    rows: Iterable[HashedRow | RejectedRow],
    *,
    purpose: str,
    legal_basis: str,
    batch_size: int,
    emit: Callable[[list[dict[str, Any]]], None],
) -> Summary:
    """Ask the gateway about each row; results hold exactly what the policy disclosed.

    Rows tokenised under two epochs (during an overlap window) are asked under both in the
    same request and their answers merged into one result per row
    (:func:`merge_disclosed`), with ``epochs`` listing the epochs asked.
    """
    summary = Summary()
    for chunk in batched_by_row(rows, batch_size):
        out: list[dict[str, Any]] = []
        sent: list[HashedRow] = []
        for row in chunk:
            if isinstance(row, RejectedRow):
                out.append(_rejected(row, summary))
            else:
                sent.append(row)
        if sent:
            body = {
                "purpose": purpose,
                "legal_basis": legal_basis,
                "items": [token_item(r) for r in sent],
            }
            answer = api.call("POST", "/v1/match", json=body)
            summary.sent += len(sent)
            grouped: dict[int, list[tuple[HashedRow, dict[str, Any]]]] = {}
            for row, result in zip(sent, answer["results"], strict=True):
                grouped.setdefault(row.row, []).append(
                    (row, {k: v for k, v in result.items() if k != "row"})
                )
            for group in grouped.values():
                row = group[0][0]
                disclosed = merge_disclosed([answer_ for _, answer_ in group])
                if len(group) > 1:
                    disclosed["epochs"] = [member.epoch for member, _ in group]
                if disclosed.get("hit"):
                    summary.hits += 1
                    summary.categories.update(disclosed.get("categories", []))
                    summary.sectors.update(disclosed.get("sectors", []))
                    disclosed["obligations"] = _duties(disclosed, answer)
                levels = sorted(k for k in disclosed if k not in {"hit", "epochs", "obligations"})
                out.append(
                    {
                        **_base(row),
                        **disclosed,
                        "disclosed_levels": levels,
                        "request_id": answer["request_id"],
                        **row.carried,
                    }
                )
        emit(sorted(out, key=lambda record: int(record["row"])))
    return summary


def _duties(disclosed: dict[str, Any], answer: dict[str, Any]) -> list[str]:
    """The obligations of a hit: the answer's (for every hit) and the item's own."""
    codes = set(disclosed.get("obligations") or ())
    codes.update(str(duty["code"]) for duty in answer.get("obligations") or ())
    return sorted(codes)


def watch_add(
    api: GatewayApi,
    rows: Iterable[HashedRow | RejectedRow],
    *,
    purpose: str,
    legal_basis: str,
    batch_size: int,
    emit: Callable[[list[dict[str, Any]]], None],
) -> Summary:
    """Add rows to the watch list; the output maps each row to its ``watch_id``."""
    summary = Summary()
    for chunk in batched(rows, batch_size):
        out: list[dict[str, Any]] = []
        sent: list[HashedRow] = []
        for row in chunk:
            if isinstance(row, RejectedRow):
                out.append(_rejected(row, summary))
            else:
                sent.append(row)
        if sent:
            body = {
                "purpose": purpose,
                "legal_basis": legal_basis,
                "items": [token_item(r) for r in sent],
            }
            answer = api.call("PUT", "/v1/watchlist", json=body)
            summary.sent += len(sent)
            for row, result in zip(sent, answer["results"], strict=True):
                summary.statuses[result["status"]] += 1
                extra = {k: result[k] for k in ("watch_id", "field", "reason") if result.get(k)}
                out.append({**_base(row), "status": result["status"], **extra, **row.carried})
        emit(sorted(out, key=lambda record: int(record["row"])))
    return summary


def watch_remove(api: GatewayApi, watch_ids: list[int], *, batch_size: int) -> int:
    removed = 0
    for start in range(0, len(watch_ids), batch_size):
        answer = api.call(
            "DELETE", "/v1/watchlist", json={"watch_ids": watch_ids[start : start + batch_size]}
        )
        removed += int(answer["removed"])
    return removed


def fetch_alerts(
    api: GatewayApi,
    *,
    after: int | None,
    watch_map: dict[int, dict[str, Any]],
    limit: int = 500,
) -> tuple[list[dict[str, Any]], int]:
    """One page of alerts, each joined to the partner's own watch-list row if known."""
    params: dict[str, Any] = {"limit": limit}
    if after is not None:
        params["after"] = after
    page = api.call("GET", "/v1/alerts", params=params)
    records = []
    for alert in page["alerts"]:
        own = watch_map.get(alert.get("watch_id") or -1, {})
        # The alert's own fields win: its ``type`` is alert/update/retraction, not the kind.
        records.append({**{k: v for k, v in own.items() if k != "type"}, **alert})
    return records, int(page["next_cursor"])
