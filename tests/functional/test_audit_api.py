"""The audit HTTP API: public transparency endpoints and audited privacy-officer reads."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from audit import merkle
from audit.checkpoint import open_checkpoint
from audit.cosignature import cosign, generate_cosigner
from audit.export import ExportFileSource
from audit.http_source import HttpLogSource
from audit.note import parse_verifier_key, split_note
from audit.receipt import Receipt, verify_receipt
from audit.verify import LogVerifier
from gateway.audit_trail.deps import AuditReader
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


def _populate(services: Services, count: int, *, sign: bool = True) -> None:
    # Services store the *peppered* token hash, as the matching service does.
    peppered = services.pepper.token(TOKEN).hex()
    with transaction(services.session_factory) as session:
        for number in range(count):
            partner = "telecom-b" if number % 2 else "bank-a"
            disclosed = {peppered: ["count"]}
            detail = {"tokens": [peppered], "disclosed": disclosed} if number == 3 else None
            services.audit.record(session, event(number, actor_partner=partner, detail=detail))
    if sign:
        with transaction(services.session_factory) as session:
            services.audit.sign_checkpoint(session)


def test_public_transparency_endpoints(api: tuple[TestClient, Services]) -> None:
    client, services = api
    assert client.get("/v1/audit/sth").status_code == 404  # nothing signed yet
    _populate(services, 11)
    key = client.get("/v1/audit/public-key").json()
    log_key = parse_verifier_key(key["verifier_key"])
    assert key["witness_keys"] == [WITNESS.verifier.vkey]
    sth = client.get("/v1/audit/sth").json()
    signed = open_checkpoint(sth["checkpoint"], log_key)
    assert signed.checkpoint.size == sth["tree_size"] == 11
    entries = client.get("/v1/audit/entries", params={"start": 0, "end": 10}).json()["entries"]
    bodies = [item["entry"].encode() for item in entries]
    assert merkle.root(bodies) == _b64(sth["root_hash"]) == signed.checkpoint.root_hash
    assert all(
        _b64(item["leaf_hash"]) == merkle.leaf_hash(body)
        for item, body in zip(entries, bodies, strict=True)
    )
    proof = client.get(
        "/v1/audit/proof/inclusion", params={"leaf_index": 6, "tree_size": 11}
    ).json()
    merkle.verify_inclusion(
        merkle.leaf_hash(bodies[6]),
        6,
        11,
        [_b64(h) for h in proof["audit_path"]],
        signed.checkpoint.root_hash,
    )
    consistency = client.get("/v1/audit/sth/consistency", params={"first": 4, "second": 11}).json()
    merkle.verify_consistency(
        4,
        11,
        merkle.root(bodies[:4]),
        signed.checkpoint.root_hash,
        [_b64(h) for h in consistency["consistency"]],
    )
    receipt = Receipt.parse(client.get("/v1/audit/receipt", params={"leaf_index": 3}).text)
    assert verify_receipt(receipt, bodies[3], log_key).checkpoint.size == 11
    history = client.get("/v1/audit/checkpoints").json()["checkpoints"]
    assert [item["tree_size"] for item in history] == [11]
    # The whole log verifies through the API with the standalone verifier.
    report, _ = LogVerifier(log_key).verify(HttpLogSource(client))
    assert report.entries_checked == 11


def test_bad_proof_requests_name_the_field(api: tuple[TestClient, Services]) -> None:
    client, services = api
    _populate(services, 3)
    answer = client.get("/v1/audit/proof/inclusion", params={"leaf_index": 5, "tree_size": 3})
    assert answer.status_code == 422
    assert "leaf_index" in answer.text
    answer = client.get("/v1/audit/sth/consistency", params={"first": 2, "second": 9})
    assert answer.status_code == 422
    assert "second" in answer.text
    assert client.get("/v1/audit/entries", params={"start": 5, "end": 1}).status_code == 422
    assert client.get("/v1/audit/receipt", params={"leaf_index": 7}).status_code == 404


def test_witness_cosignatures_are_published(api: tuple[TestClient, Services]) -> None:
    client, services = api
    _populate(services, 4)
    note = client.get("/v1/audit/sth").json()["checkpoint"]
    text, _ = split_note(note)
    line = cosign(WITNESS, text, 1_800_000_000).line
    answer = client.post("/v1/audit/cosignatures", params={"tree_size": 4}, content=line)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == ["witness.test/w1"]
    sth = client.get("/v1/audit/sth").json()
    assert sth["cosigners"] == ["witness.test/w1"]
    log_key = parse_verifier_key(client.get("/v1/audit/public-key").json()["verifier_key"])
    assert open_checkpoint(sth["checkpoint"], log_key, witnesses=[WITNESS.verifier]).cosigners
    stranger = cosign(generate_cosigner("stranger.test"), text, 1).line
    refused = client.post("/v1/audit/cosignatures", params={"tree_size": 4}, content=stranger)
    assert refused.status_code == 403


def test_officer_reads_need_a_reader_and_are_audited(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path)
    app, services = build_app(settings)  # no reader override: the default refuses
    with TestClient(app) as client:
        assert client.get("/v1/audit/search").status_code == 401
        assert client.get("/v1/audit/export").status_code == 401
        assert client.post("/v1/audit/subject-access", json={"token": TOKEN}).status_code == 401
    app, services = build_app(settings, reader=OFFICER)
    _populate(services, 6)
    with TestClient(app) as client:
        found = client.get("/v1/audit/search").json()["entries"]
        assert [e["leaf_index"] for e in found] == [5, 3, 1]
        assert {e["actor"]["partner"] for e in found} == {"telecom-b"}
        denied = client.get("/v1/audit/search", params={"partner": "bank-a"})
        assert denied.status_code == 403
        assert "partner" in denied.text
        report = client.post("/v1/audit/subject-access", json={"token": TOKEN}).json()
        assert [(r["leaf_index"], r["disclosed"]) for r in report["records"]] == [(3, ["count"])]
        assert client.post("/v1/audit/subject-access", json={"token": "XYZ"}).status_code == 422
    with transaction(services.session_factory) as session:
        from gateway.audit_trail import queries

        views = queries.search(session, queries.AuditFilter(partner="telecom-b"), scope=None)
    tags = [entry["tag"] for _, entry in views.entries[:3]]
    assert tags == ["audit:subject:access", "audit:access:deny", "audit:entries:view"]
    assert all(entry["actor"]["user"] == "fg-bram" for _, entry in views.entries[:3])


def test_exports_verify_offline(api: tuple[TestClient, Services], tmp_path: Path) -> None:
    client, services = api
    _populate(services, 9)
    log_key = parse_verifier_key(client.get("/v1/audit/public-key").json()["verifier_key"])
    full = tmp_path / "full.jsonl"
    full.write_bytes(client.get("/v1/audit/export", params={"details": True}).content)
    report, _ = LogVerifier(log_key).verify(ExportFileSource(full))
    assert report.size == 9
    assert report.details_checked == 1
    part = tmp_path / "part.jsonl"
    part.write_bytes(client.get("/v1/audit/export", params={"partner": "bank-a"}).content)
    checkpoint, count = ExportFileSource(part).verify_filtered(log_key)
    assert (checkpoint.size, count) == (9, 5)
    rows = client.get("/v1/audit/export", params={"format": "csv"}).text.splitlines()
    assert rows[0].startswith("leaf_index,time,tag")
    # The CSV is not bound to a checkpoint: it also lists the three exports just audited.
    assert len(rows) == 1 + 9 + 3
    assert rows[-1].split(",")[2] == "audit:export:download"
    header = json.loads(full.read_text().splitlines()[0])
    assert header["filtered"] is False
