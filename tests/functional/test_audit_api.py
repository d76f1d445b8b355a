"""The audit HTTP API: public transparency endpoints and audited privacy-officer reads."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from audit import merkle
from audit.checkpoint import open_checkpoint
from audit.cosignature import cosign, generate_cosigner
from audit.export import ExportFileSource
from audit.http_source import HttpLogSource
from audit.note import parse_verifier_key, split_note
from audit.receipt import Receipt, verify_receipt
from audit.verify import LogVerifier
from gateway.audit_trail import checkpoints, queries
from gateway.audit_trail.deps import AuditReader
from gateway.audit_trail.models import AuditDetail
from gateway.db import transaction
from gateway.services import Services
from tests.unit.gateway.audit_trail.apps import build_app
from tests.unit.gateway.audit_trail.helpers import TOKEN, event, make_settings

WITNESS = generate_cosigner("witness.test/w1")
DPO = AuditReader(partner_id="pps-dpo", user="dpo-anna", all_partners=True)
OFFICER = AuditReader(partner_id="telecom-b", user="fg-bram")


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Services]]:
    settings = make_settings(database_url, tmp_path, audit_witness_keys=[WITNESS.verifier.vkey])
    app, services = build_app(settings, reader=DPO)
    with TestClient(app) as client:
        yield client, services


def _populate(services: Services, count: int) -> tuple[list[int], int]:
    """Record ``count`` entries (odd ones by telecom-b) and sign; (their indexes, tree size).

    The app itself logs too (its policy bundle load at start-up, and every audited read),
    so tests work with the indexes they get back rather than assuming an empty log.
    """
    peppered = services.pepper.token(TOKEN, epoch=1).hex()  # stored peppered, as services do
    indexes = []
    with transaction(services.session_factory) as session:
        for number in range(count):
            partner = "telecom-b" if number % 2 else "bank-a"
            disclosed = {peppered: ["count"]}
            detail = {"tokens": [peppered], "disclosed": disclosed} if number == 3 else None
            receipt = services.audit.record(
                session, event(number, actor_partner=partner, detail=detail)
            )
            indexes.append(receipt.leaf_index)
    with transaction(services.session_factory) as session:
        services.audit.sign_checkpoint(session)
        published = checkpoints.latest(session)
    assert published is not None
    return indexes, published.tree_size


def test_public_transparency_endpoints(api: tuple[TestClient, Services]) -> None:
    client, services = api
    indexes, size = _populate(services, 11)
    key = client.get("/v1/audit/public-key").json()
    log_key = parse_verifier_key(key["verifier_key"])
    assert key["witness_keys"] == [WITNESS.verifier.vkey]
    sth = client.get("/v1/audit/sth").json()
    signed = open_checkpoint(sth["checkpoint"], log_key)
    assert signed.checkpoint.size == sth["tree_size"] == size >= 11
    root = signed.checkpoint.root_hash
    entries = client.get("/v1/audit/entries", params={"start": 0, "end": size - 1}).json()
    bodies = [item["entry"].encode() for item in entries["entries"]]
    assert merkle.root(bodies) == _b64(sth["root_hash"]) == root
    for item, body in zip(entries["entries"], bodies, strict=True):
        assert _b64(item["leaf_hash"]) == merkle.leaf_hash(body)
    six = indexes[6]
    params = {"leaf_index": six, "tree_size": size}
    path = [
        _b64(h) for h in client.get("/v1/audit/proof/inclusion", params=params).json()["audit_path"]
    ]
    merkle.verify_inclusion(merkle.leaf_hash(bodies[six]), six, size, path, root)
    old = indexes[3] + 1
    params = {"first": old, "second": size}
    proof = client.get("/v1/audit/sth/consistency", params=params).json()["consistency"]
    merkle.verify_consistency(old, size, merkle.root(bodies[:old]), root, [_b64(h) for h in proof])
    receipt = Receipt.parse(client.get("/v1/audit/receipt", params={"leaf_index": indexes[3]}).text)
    assert verify_receipt(receipt, bodies[indexes[3]], log_key).checkpoint.size == size
    history = client.get("/v1/audit/checkpoints").json()["checkpoints"]
    assert history[-1]["tree_size"] == size
    leaves = client.get("/v1/audit/leaves", params={"start": 0, "end": size - 1}).json()
    assert [_b64(item["leaf_hash"]) for item in leaves["leaves"]] == [
        merkle.leaf_hash(body) for body in bodies
    ]
    # The whole log verifies through the API with the standalone verifier: from the public
    # leaf hashes alone, and (as this DPO) from the entries' contents.
    report, _ = LogVerifier(log_key).verify(HttpLogSource(client))
    assert (report.entries_checked, report.leaves_checked) == (0, size)
    report, _ = LogVerifier(log_key).verify(HttpLogSource(client, contents=True))
    assert (report.entries_checked, report.leaves_checked) == (size, 0)


def test_bad_proof_requests_name_the_field(api: tuple[TestClient, Services]) -> None:
    client, services = api
    _, size = _populate(services, 3)
    params = {"leaf_index": size, "tree_size": size}
    answer = client.get("/v1/audit/proof/inclusion", params=params)
    assert answer.status_code == 422
    assert "leaf_index" in answer.text
    answer = client.get("/v1/audit/sth/consistency", params={"first": 2, "second": size + 50})
    assert answer.status_code == 422
    assert "second" in answer.text
    assert client.get("/v1/audit/entries", params={"start": 5, "end": 1}).status_code == 422
    assert client.get("/v1/audit/leaves", params={"start": 5, "end": 1}).status_code == 422
    missing = client.get("/v1/audit/receipt", params={"leaf_index": size + 50})
    assert missing.status_code == 404


def test_witness_cosignatures_are_published(api: tuple[TestClient, Services]) -> None:
    client, services = api
    _, size = _populate(services, 4)
    note = client.get("/v1/audit/sth").json()["checkpoint"]
    text, _ = split_note(note)
    line = cosign(WITNESS, text, 1_800_000_000).line
    answer = client.post("/v1/audit/cosignatures", params={"tree_size": size}, content=line)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == ["witness.test/w1"]
    sth = client.get("/v1/audit/sth").json()
    assert sth["cosigners"] == ["witness.test/w1"]
    log_key = parse_verifier_key(client.get("/v1/audit/public-key").json()["verifier_key"])
    assert open_checkpoint(sth["checkpoint"], log_key, witnesses=[WITNESS.verifier]).cosigners
    stranger = cosign(generate_cosigner("stranger.test"), text, 1).line
    refused = client.post("/v1/audit/cosignatures", params={"tree_size": size}, content=stranger)
    assert refused.status_code == 403


def test_officer_reads_need_a_reader_and_are_audited(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path)
    app, services = build_app(settings)  # no reader override: the default refuses
    with TestClient(app) as client:
        assert client.get("/v1/audit/search").status_code == 401
        assert client.get("/v1/audit/export").status_code == 401
        assert client.get("/v1/audit/entries", params={"start": 0, "end": 9}).status_code == 401
        assert client.get("/v1/audit/receipt", params={"leaf_index": 0}).status_code == 401
        assert (
            client.post("/v1/audit/subject-access", json={"token": TOKEN, "epoch": 1}).status_code
            == 401
        )
    app, services = build_app(settings, reader=OFFICER)
    indexes, _ = _populate(services, 6)
    with TestClient(app) as client:
        found = client.get("/v1/audit/search").json()["entries"]
        assert [e["leaf_index"] for e in found] == [indexes[5], indexes[3], indexes[1]]
        assert {e["actor"]["partner"] for e in found} == {"telecom-b"}
        denied = client.get("/v1/audit/search", params={"partner": "bank-a"})
        assert denied.status_code == 403
        assert "partner" in denied.text
        report = client.post("/v1/audit/subject-access", json={"token": TOKEN, "epoch": 1}).json()
        records = [(r["leaf_index"], r["disclosed"]) for r in report["records"]]
        assert records == [(indexes[3], ["count"])]
        assert (
            client.post("/v1/audit/subject-access", json={"token": "XYZ", "epoch": 1}).status_code
            == 422
        )
    with transaction(services.session_factory) as session:
        views = queries.search(session, queries.AuditFilter(partner="telecom-b"), scope=None)
    tags = [entry["tag"] for _, entry in views.entries[:3]]
    assert tags == ["audit:subject:access", "audit:access:deny", "audit:entries:view"]
    assert all(entry["actor"]["user"] == "fg-bram" for _, entry in views.entries[:3])


def test_exports_verify_offline(api: tuple[TestClient, Services], tmp_path: Path) -> None:
    client, services = api
    _, size = _populate(services, 9)
    log_key = parse_verifier_key(client.get("/v1/audit/public-key").json()["verifier_key"])
    full = tmp_path / "full.jsonl"
    full.write_bytes(client.get("/v1/audit/export", params={"details": True}).content)
    report, _ = LogVerifier(log_key).verify(ExportFileSource(full))
    assert report.size == size
    with transaction(services.session_factory) as session:
        details = session.scalar(
            select(func.count()).select_from(AuditDetail).where(AuditDetail.seq < size)
        )
    assert report.details_checked == details >= 1
    part = tmp_path / "part.jsonl"
    part.write_bytes(client.get("/v1/audit/export", params={"partner": "bank-a"}).content)
    checkpoint, count = ExportFileSource(part).verify_filtered(log_key)
    assert (checkpoint.size, count) == (size, 5)
    rows = client.get("/v1/audit/export", params={"format": "csv"}).text.splitlines()
    assert rows[0].startswith("leaf_index,time,tag")
    # The CSV is not bound to a checkpoint: it also lists the three exports just audited.
    assert [int(row.split(",")[0]) for row in rows[1:]] == list(range(size + 3))
    assert rows[-1].split(",")[2] == "audit:export:download"
    header = json.loads(full.read_text().splitlines()[0])
    assert header["filtered"] is False


def test_the_gateway_wires_audit_readers_without_dependency_overrides(
    database_url: str, tmp_path: Path
) -> None:
    # Any entry in ``dependency_overrides`` makes FastAPI re-analyse every dependency of every
    # request; the production app must not need one (tests may add their own).
    from gateway.app import create_app
    from gateway.bootstrap import build_services

    settings = make_settings(database_url, tmp_path)
    services = build_services(settings)
    try:
        assert create_app(settings, services=services).dependency_overrides == {}
    finally:
        services.engine.dispose()
