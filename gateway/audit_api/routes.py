"""HTTP API of the audit log, modelled on RFC 6962 §4.

Public (no authentication, like a Certificate Transparency log): the signed tree head,
consistency and inclusion proofs, leaf hashes, checkpoint history, the public key, and
cosignature submission by configured witnesses. Anyone can check from these alone that the
log only grows; none of them says who did what, when or how often (entries are v2 with a
random commitment nonce, so a leaf hash reveals nothing about its entry).

For audit readers (an :class:`~gateway.audit_trail.deps.AuditReader` is required): entry
contents (a partner's readers their own partner's entries, the partnership's DPO all),
receipts, search, export (JSONL verifiable offline, or CSV) and subject access. Every such
read is itself an audit entry, so the log also shows who watched the watchers.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal, NoReturn

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from gateway.audit_api.readers import AuditReaderDep
from gateway.audit_trail import checkpoints, queries, store
from gateway.audit_trail.deps import AuditReader
from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.audit_trail.schemas import (
    CheckpointItem,
    CheckpointList,
    ConsistencyProof,
    CosignaturesAccepted,
    InclusionProof,
    LeafHash,
    LeafHashes,
    LogEntries,
    LogEntry,
    PublicKey,
    SearchResult,
    SignedTreeHead,
    SubjectAccessReport,
    SubjectDisclosure,
    SubjectReport,
)
from gateway.audit_trail.store import as_utc, format_time
from gateway.clock import IsoDateTime
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from gateway.indicators.subject import held_reports
from gateway.services import Services

router = APIRouter(prefix="/v1/audit", tags=["audit"])
#: Leaf indices and tree sizes are 64-bit in storage; larger numbers are refused up front.
MAX_INDEX = 2**63 - 1

MAX_ENTRIES = 1000
MAX_COSIGNATURE_BODY = 16 * 1024
TOKEN = re.compile(r"[0-9a-f]{64}")


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


@router.get("/sth", response_model=SignedTreeHead, summary="Latest signed tree head")
def get_sth(services: ServicesDep) -> SignedTreeHead:
    """The newest checkpoint (C2SP tlog-checkpoint) with the cosignatures held for it."""
    with transaction(services.session_factory) as session:
        published = checkpoints.latest(session)
    if published is None:
        raise NotFoundError("no checkpoint has been signed yet")
    return SignedTreeHead(
        origin=services.audit.origin,
        tree_size=published.tree_size,
        root_hash=_b64(published.root_hash),
        checkpoint=published.note,
        cosigners=list(published.cosigners),
        signed_at=as_utc(published.signed_at),
    )


@router.get("/sth/consistency", response_model=ConsistencyProof, summary="Consistency proof")
def get_consistency(
    services: ServicesDep,
    first: Annotated[int, Query(ge=1, le=MAX_INDEX)],
    second: Annotated[int, Query(ge=1, le=MAX_INDEX)],
) -> ConsistencyProof:
    """RFC 6962 §2.1.2 proof that the tree of size ``first`` is a prefix of ``second``."""
    with transaction(services.session_factory) as session:
        proof = store.consistency_proof(session, first, second)
    return ConsistencyProof(first=first, second=second, consistency=[_b64(h) for h in proof])


@router.get("/proof/inclusion", response_model=InclusionProof, summary="Inclusion proof")
def get_inclusion(
    services: ServicesDep,
    leaf_index: Annotated[int, Query(ge=0, le=MAX_INDEX)],
    tree_size: Annotated[int, Query(ge=1, le=MAX_INDEX)],
) -> InclusionProof:
    """RFC 6962 §2.1.1 audit path for ``leaf_index`` in the tree of ``tree_size``."""
    with transaction(services.session_factory) as session:
        proof = store.inclusion_proof(session, leaf_index, tree_size)
        leaf = store.leaf_hashes(session, leaf_index, leaf_index + 1).get(leaf_index, b"")
    return InclusionProof(
        leaf_index=leaf_index,
        tree_size=tree_size,
        leaf_hash=_b64(leaf),
        audit_path=[_b64(h) for h in proof],
    )


@router.get("/leaves", response_model=LeafHashes, summary="Leaf hashes (public)")
def get_leaves(
    services: ServicesDep,
    start: Annotated[int, Query(ge=0, le=MAX_INDEX)],
    end: Annotated[int, Query(ge=0, le=MAX_INDEX, description="inclusive, as in RFC 6962")],
) -> LeafHashes:
    """Leaf hashes ``start..end`` (at most 1000): enough to recompute every signed root."""
    if end < start:
        raise InvalidRequestError(f"end {end} is before start {start}", field="end")
    last = min(end, start + MAX_ENTRIES - 1)
    with transaction(services.session_factory) as session:
        hashes = store.leaf_hashes(session, start, last + 1)
    return LeafHashes(
        leaves=[LeafHash(leaf_index=seq, leaf_hash=_b64(hashes[seq])) for seq in sorted(hashes)]
    )


@router.get("/entries", response_model=LogEntries, summary="Entries (audit readers)")
def get_entries(
    *,
    services: ServicesDep,
    reader: AuditReaderDep,
    request_id: RequestIdDep,
    start: Annotated[int, Query(ge=0, le=MAX_INDEX)],
    end: Annotated[int, Query(ge=0, le=MAX_INDEX, description="inclusive, as in RFC 6962")],
) -> LogEntries:
    """Entries ``start..end`` (at most 1000) with their leaf hashes; audited.

    Contents only of the entries within the reader's scope; any other entry comes as
    ``entry: null`` with its leaf hash, so the whole tree still verifies.
    """
    if end < start:
        raise InvalidRequestError(f"end {end} is before start {start}", field="end")
    last = min(end, start + MAX_ENTRIES - 1)
    with transaction(services.session_factory) as session:
        size = store.read_head(session).size
        rows = queries.entries_in_range(session, start, min(last + 1, size), scope=reader.scope)
        shown = sum(1 for _, _, body in rows if body is not None)
        services.audit.record(
            session,
            _event(
                reader,
                request_id,
                AuditTag.AUDIT_ENTRIES_READ,
                decision="allow",
                counts={"returned": shown, "leaves": len(rows)},
                detail={"start": start, "end": last},
            ),
        )
    return LogEntries(
        entries=[
            LogEntry(
                leaf_index=seq,
                entry=None if body is None else body.decode("utf-8"),
                leaf_hash=_b64(leaf),
            )
            for seq, leaf, body in rows
        ]
    )


@router.get("/checkpoints", response_model=CheckpointList, summary="Checkpoint history")
def get_checkpoints(
    services: ServicesDep,
    start: Annotated[int, Query(ge=0, le=MAX_INDEX, description="smallest tree size")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_ENTRIES)] = 100,
) -> CheckpointList:
    """Every checkpoint the log has signed from tree size ``start`` on, smallest first."""
    with transaction(services.session_factory) as session:
        items = checkpoints.history(session, start=start, limit=limit)
    return CheckpointList(
        checkpoints=[
            CheckpointItem(
                tree_size=item.tree_size, checkpoint=item.note, signed_at=as_utc(item.signed_at)
            )
            for item in items
        ]
    )


@router.get(
    "/receipt",
    response_class=PlainTextResponse,
    summary="Receipt for an entry (C2SP tlog-proof; audit readers)",
    responses={200: {"content": {"text/plain": {}}}},
)
def get_receipt(
    *,
    services: ServicesDep,
    reader: AuditReaderDep,
    request_id: RequestIdDep,
    leaf_index: Annotated[int, Query(ge=0, le=MAX_INDEX)],
) -> PlainTextResponse:
    """Offline proof that entry ``leaf_index`` is logged, once a checkpoint covers it.

    The receipt carries the entry itself, so only a reader whose scope covers it gets it.
    """
    try:
        with transaction(services.session_factory) as session:
            queries.check_entry_scope(session, leaf_index, scope=reader.scope)
            receipt = services.audit.receipt(session, leaf_index)
            services.audit.record(
                session,
                _event(
                    reader,
                    request_id,
                    AuditTag.AUDIT_RECEIPT_DOWNLOAD,
                    decision="allow",
                    detail={"leaf_index": leaf_index},
                ),
            )
    except PermissionDeniedError as exc:
        _deny(services, reader, request_id, exc)
    return PlainTextResponse(receipt.encode(), media_type="text/plain; charset=utf-8")


@router.get("/public-key", response_model=PublicKey, summary="Log and witness public keys")
def get_public_key(services: ServicesDep) -> PublicKey:
    """The key that signs checkpoints, in C2SP verifier key format."""
    return PublicKey(
        origin=services.audit.origin,
        verifier_key=services.audit.verifier_key,
        witness_keys=[key.vkey for key in services.audit.witness_keys],
    )


@router.post(
    "/cosignatures",
    response_model=CosignaturesAccepted,
    summary="Submit witness cosignatures for a checkpoint",
)
async def post_cosignatures(
    request: Request, services: ServicesDep, tree_size: Annotated[int, Query(ge=0, le=MAX_INDEX)]
) -> CosignaturesAccepted:
    """Body: cosignature lines (a C2SP tlog-witness ``add-checkpoint`` response)."""
    raw = await request.body()
    if len(raw) > MAX_COSIGNATURE_BODY:
        raise InvalidRequestError("cosignature body is larger than 16 KiB", field="body")
    try:
        lines = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequestError("cosignature body is not UTF-8", field="body") from None

    def accept() -> list[str]:
        with transaction(services.session_factory) as session:
            return services.audit.add_cosignatures(session, tree_size, lines)

    accepted = await run_in_threadpool(accept)
    return CosignaturesAccepted(tree_size=tree_size, accepted=accepted)


# --- privacy officers -------------------------------------------------------------------


def _export_rows(
    services: Services,
    reader: AuditReader,
    filters: queries.AuditFilter,
    export_format: str,
    *,
    details: bool,
) -> Iterator[str]:
    """The export's lines, read in a transaction of their own while the response streams."""
    with transaction(services.session_factory) as session:
        if export_format == "csv":
            yield from queries.export_csv(session, filters, scope=reader.scope)
        else:
            yield from queries.export_jsonl(
                session,
                filters,
                scope=reader.scope,
                origin=services.audit.origin,
                exported_at=format_time(services.audit.clock.now()),
                include_details=details,
            )


def _filters(
    *,
    partner: str | None,
    action: AuditTag | None,
    purpose: str | None,
    decision: Literal["allow", "deny"] | None,
    since: datetime | None,
    until: datetime | None,
) -> queries.AuditFilter:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidRequestError("give a time zone (e.g. 2026-01-31T00:00:00Z)", field=name)
    return queries.AuditFilter(
        partner=partner,
        tag=action.value if action else None,
        purpose=purpose,
        decision=decision,
        since=since,
        until=until,
    )


def _event(
    reader: AuditReader,
    request_id: str,
    tag: AuditTag,
    *,
    decision: str,
    reason_codes: tuple[str, ...] = (),
    counts: dict[str, int] | None = None,
    detail: dict[str, object] | None = None,
) -> AuditEvent:
    return reader.actor(request_id).event(
        tag,
        decision=decision,
        reason_codes=reason_codes,
        counts=counts or {},
        detail=detail,
    )


def _deny(
    services: Services, reader: AuditReader, request_id: str, exc: PermissionDeniedError
) -> NoReturn:
    with transaction(services.session_factory) as session:
        services.audit.record(
            session,
            _event(
                reader,
                request_id,
                AuditTag.AUDIT_ACCESS_DENY,
                decision="deny",
                reason_codes=("audit-scope",),
            ),
        )
    raise PermissionDeniedError(exc.reason, field=exc.field, audited=True) from None


Partner = Annotated[str | None, Query(max_length=128)]
Purpose = Annotated[str | None, Query(max_length=128)]


@router.get("/search", response_model=SearchResult, summary="Search entries (privacy officers)")
def search(
    *,
    services: ServicesDep,
    reader: AuditReaderDep,
    request_id: RequestIdDep,
    partner: Partner = None,
    action: AuditTag | None = None,
    purpose: Purpose = None,
    decision: Literal["allow", "deny"] | None = None,
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
    before: Annotated[int | None, Query(ge=0, le=MAX_INDEX)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> SearchResult:
    """Entries newest first, within the reader's scope; the search itself is audited."""
    filters = _filters(
        partner=partner,
        action=action,
        purpose=purpose,
        decision=decision,
        since=since,
        until=until,
    )
    try:
        with transaction(services.session_factory) as session:
            page = queries.search(session, filters, scope=reader.scope, before=before, limit=limit)
            services.audit.record(
                session,
                _event(
                    reader,
                    request_id,
                    AuditTag.AUDIT_ENTRIES_VIEW,
                    decision="allow",
                    counts={"returned": len(page.entries)},
                    detail={"filters": filters.as_detail()},
                ),
            )
    except PermissionDeniedError as exc:
        _deny(services, reader, request_id, exc)
    return SearchResult(
        entries=[{"leaf_index": seq, **entry} for seq, entry in page.entries],
        next_before=page.next_before,
    )


@router.get(
    "/export",
    summary="Export entries as JSONL (verifiable) or CSV",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "JSON Lines (format=jsonl) or CSV (format=csv)",
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
def export(
    *,
    services: ServicesDep,
    reader: AuditReaderDep,
    request_id: RequestIdDep,
    export_format: Annotated[Literal["jsonl", "csv"], Query(alias="format")] = "jsonl",
    details: bool = False,
    partner: Partner = None,
    action: AuditTag | None = None,
    purpose: Purpose = None,
    decision: Literal["allow", "deny"] | None = None,
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
) -> StreamingResponse:
    """A JSONL export verifies with ``ppsgate audit verify --export FILE``."""
    filters = _filters(
        partner=partner,
        action=action,
        purpose=purpose,
        decision=decision,
        since=since,
        until=until,
    )
    # Scope and details too: subject access lists the readers an export with detail records
    # handed a token to (queries._exports_of).
    asked = {"filters": filters.as_detail(), "format": export_format, "details": details}
    try:
        with transaction(services.session_factory) as session:
            queries.search(session, filters, scope=reader.scope, limit=1)  # scope check
            event = _event(
                reader,
                request_id,
                AuditTag.AUDIT_EXPORT_DOWNLOAD,
                decision="allow",
                detail={**asked, "scope": reader.scope},
            )
            services.audit.record(session, event)
    except PermissionDeniedError as exc:
        _deny(services, reader, request_id, exc)
    stream = _export_rows(services, reader, filters, export_format, details=details)
    media = "text/csv; charset=utf-8" if export_format == "csv" else "application/x-ndjson"
    name = f"audit-export.{export_format}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(stream, media_type=media, headers=disposition)


class SubjectAccessRequest(BaseModel):
    token: str = Field(
        description="the subject's token (64 lowercase hex), computed by a partner holding the "
        "type key of the identifier's type; it is peppered here and never stored in the clear"
    )
    epoch: int = Field(
        ge=1,
        le=1_000_000,
        strict=True,
        description="the salt epoch the token was computed under (it selects the pepper key)",
    )


@router.post(
    "/subject-access",
    response_model=SubjectAccessReport,
    summary="Disclosures about one token (GDPR Art. 15(1)(c))",
)
def subject_access(
    body: SubjectAccessRequest,
    services: ServicesDep,
    reader: AuditReaderDep,
    request_id: RequestIdDep,
) -> SubjectAccessReport:
    """Every retained record naming the token, within the reader's scope; audited."""
    if not TOKEN.fullmatch(body.token):
        raise InvalidRequestError("token must be 64 lowercase hex characters", field="token")
    token_hash = services.pepper.token(body.token, epoch=body.epoch)
    with transaction(services.session_factory) as session:
        records = queries.subject_access(session, token_hash, scope=reader.scope)
        held = held_reports(session, token_hash, scope=reader.scope, now=services.clock.now())
        services.audit.record(
            session,
            _event(
                reader,
                request_id,
                AuditTag.AUDIT_SUBJECT_ACCESS,
                decision="allow",
                counts={"records": len(records)},
                detail={"tokens": [token_hash.hex()]},
            ),
        )
    return SubjectAccessReport(
        records=[
            SubjectDisclosure(
                leaf_index=r.leaf_index,
                time=r.time,
                tag=r.tag,
                partner=r.partner,
                client=r.client,
                purpose=r.purpose,
                legal_basis=r.legal_basis,
                decision=r.decision,
                disclosed=r.disclosed,
            )
            for r in records
        ],
        reports=[SubjectReport(**asdict(report)) for report in held],
        note="Only detail records still within their retention period are listed; reports "
        "are listed until they expire or are retracted.",
    )
