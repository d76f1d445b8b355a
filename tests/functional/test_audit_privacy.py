"""The audit log's structure is public, its contents are not.

Anyone may read checkpoints, proofs and leaf hashes, and check from them alone that the log
only grows; who did what, when and how often is for the entitled readers. These tests hold
the public side to that (every audit route, unauthenticated), check the public tree with a
verifier that shares no code with the project, show that a leaf hash cannot confirm a guess
about its entry, and check that readers get exactly their scope, each read audited.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from typer.testing import CliRunner

from connectors.client import GatewayAPIError
from connectors.keystore import save_keystore
from gateway.audit_api.routes import router as audit_router
from gateway.audit_trail import checkpoints
from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.audit_trail.models import AuditEntry
from gateway.cli.audit import app as audit_cli
from gateway.db import transaction
from gateway.server import BackgroundServer
from gateway.services import Services
from tests.functional.console_support import PASSWORD, SIGNIN, ConsoleApp, console_app
from tests.support.authorisation_rules import AUDITOR_SCOPES
from tests.support.gateway import Gateway, Partner

# Values no public answer may contain: an investigation's who, what and how much.
SECRETS = {
    "partner": "bank-zeta",
    "client": "bank-zeta-screening",
    "user": "fg-quirine",
    "purpose": "payment_screening_zeta",
    "legal_basis": "art6_1_zeta",
    "request_id": "req-zeta-",
    "reason": "zeta-reason-code",
    "count key": "zetahits",
}


@pytest.fixture
def console(database_url: str, tmp_path: Path) -> Iterator[ConsoleApp]:
    with console_app(database_url, tmp_path) as app:
        yield app


def _investigate(console: ConsoleApp, rounds: int) -> list[int]:
    """A bank's screenings with hits (some by a named user), each at its own second; then a
    checkpoint, signed later (its signing time is public, the entries' times are not)."""
    services = console.services
    indexes = []
    with transaction(services.session_factory) as session:
        for number in range(rounds):
            console.clock.current += timedelta(seconds=1)
            receipt = services.audit.record(
                session,
                AuditEvent(
                    tag=AuditTag.MATCH_QUERY_ALLOW,
                    request_id=f"{SECRETS['request_id']}{number}",
                    actor_partner=SECRETS["partner"],
                    actor_client=SECRETS["client"],
                    actor_user=SECRETS["user"] if number % 2 else None,
                    purpose=SECRETS["purpose"],
                    legal_basis=SECRETS["legal_basis"],
                    decision="allow",
                    reason_codes=(SECRETS["reason"],),
                    counts={SECRETS["count key"]: 1, "items": 3},
                ),
            )
            indexes.append(receipt.leaf_index)
    console.clock.current += timedelta(seconds=1)
    with transaction(services.session_factory) as session:
        services.audit.sign_checkpoint(session)
    return indexes


def _entry_times(services: Services, indexes: list[int]) -> list[str]:
    with transaction(services.session_factory) as session:
        bodies = session.scalars(select(AuditEntry.body).where(AuditEntry.seq.in_(indexes)))
        return [json.loads(body)["time"] for body in bodies]


def _get_params(path: str, size: int, index: int) -> dict[str, int] | None:
    """Valid parameters for every GET route of the audit API and the console's audit pages."""
    table: dict[str, dict[str, int]] = {
        "/v1/audit/sth": {},
        "/v1/audit/sth/consistency": {"first": 1, "second": size},
        "/v1/audit/proof/inclusion": {"leaf_index": index, "tree_size": size},
        "/v1/audit/leaves": {"start": 0, "end": size - 1},
        "/v1/audit/entries": {"start": 0, "end": size - 1},
        "/v1/audit/checkpoints": {},
        "/v1/audit/receipt": {"leaf_index": index},
        "/v1/audit/public-key": {},
        "/v1/audit/search": {},
        "/v1/audit/export": {},
    }
    return table.get(path)


def test_unauthenticated_audit_routes_reveal_no_entry_contents(console: ConsoleApp) -> None:
    services = console.services
    indexes = _investigate(console, 6)
    with transaction(services.session_factory) as session:
        published = checkpoints.latest(session)
    assert published is not None
    size = published.tree_size
    anonymous = console.client()
    answers: dict[str, bytes] = {}
    api = [route.path for route in audit_router.routes if "GET" in route.methods]  # type: ignore[attr-defined]
    assert len(api) >= 9
    for path in api:
        params = _get_params(path, size, indexes[3])
        assert params is not None, f"{path}: add it to this test (what does the public see?)"
        answer = anonymous.get(path, params=params, follow_redirects=False)
        assert answer.status_code in {200, 401}, (path, answer.status_code, answer.text[:200])
        answers[path] = answer.content
    for path in (
        "/console/audit",
        f"/console/audit/entries/{indexes[3]}",
        "/console/audit/export.jsonl",
        "/console/audit/export.csv",
        "/console/audit/report.pdf",
    ):
        answers[path] = anonymous.get(path, follow_redirects=False).content
    forbidden = [value.encode() for value in SECRETS.values()]
    forbidden += [b'"hits"', b'"items"', b'"counts"', b'"actor"', b"match:query"]
    times = _entry_times(services, indexes)
    assert len(set(times)) == len(indexes)
    for time in times:
        forbidden += [time.encode(), time[:19].encode()]  # e.g. 2026-11-29T10:00:05
    for path, body in answers.items():
        leaked = [value for value in forbidden if value in body]
        assert not leaked, f"GET {path} answers {leaked} to anyone"
    # Contents need an audit reader; the structure is for everyone.
    assert {p for p in api if b'"leaf_hash"' in answers[p] or b"root_hash" in answers[p]} >= {
        "/v1/audit/sth",
        "/v1/audit/proof/inclusion",
        "/v1/audit/leaves",
    }


# An RFC 6962 / RFC 9162 verifier that imports nothing from the project.


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _mth(hashes: list[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    split = 1 << (len(hashes) - 1).bit_length() - 1
    return _node(_mth(hashes[:split]), _mth(hashes[split:]))


def _inclusion_ok(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    fn, sn, r = index, size - 1, leaf  # RFC 9162 section 2.1.3.2
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def _consistency_ok(
    first: int, second: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> bool:
    path = [root1, *proof] if first & (first - 1) == 0 else list(proof)  # RFC 9162 2.1.4.2
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == root1 and sr == root2


def _signed_tree(note: str, vkey: str) -> tuple[int, bytes]:
    """(size, root) of a checkpoint signed by the Ed25519 note key ``vkey``."""
    name, key_id, key_b64 = vkey.split("+", 2)
    key = base64.b64decode(key_b64)
    assert hashlib.sha256(name.encode() + b"\n" + key).digest()[:4].hex() == key_id
    text, _, signatures = note.rpartition("\n\n")
    for line in signatures.splitlines():
        signer, _, sig_b64 = line.removeprefix("\u2014 ").partition(" ")
        sig = base64.b64decode(sig_b64)
        if signer == name and sig[:4].hex() == key_id:
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(sig[4:], (text + "\n").encode())
            origin, size, root = text.split("\n")[:3]
            assert origin == name
            return int(size), base64.b64decode(root)
    raise AssertionError("checkpoint not signed by the log key")


def _b64s(values: list[str]) -> list[bytes]:
    return [base64.b64decode(value) for value in values]


def test_the_public_tree_verifies_from_leaf_hashes_alone(
    console: ConsoleApp, tmp_path: Path
) -> None:
    _investigate(console, 5)
    _investigate(console, 9)  # a second checkpoint, for a consistency proof
    client = console.client()
    vkey = client.get("/v1/audit/public-key").json()["verifier_key"]
    size, root = _signed_tree(client.get("/v1/audit/sth").json()["checkpoint"], vkey)
    page = client.get("/v1/audit/leaves", params={"start": 0, "end": size - 1}).json()
    assert [leaf["leaf_index"] for leaf in page["leaves"]] == list(range(size))
    hashes = _b64s([leaf["leaf_hash"] for leaf in page["leaves"]])
    assert _mth(hashes) == root
    for index in (0, size // 2, size - 1):
        params = {"leaf_index": index, "tree_size": size}
        proof = client.get("/v1/audit/proof/inclusion", params=params).json()
        assert _inclusion_ok(hashes[index], index, size, _b64s(proof["audit_path"]), root)
    history = client.get("/v1/audit/checkpoints").json()["checkpoints"]
    first, first_root = _signed_tree(history[-2]["checkpoint"], vkey)
    assert 0 < first < size
    assert _mth(hashes[:first]) == first_root
    params = {"first": first, "second": size}
    proof = _b64s(client.get("/v1/audit/sth/consistency", params=params).json()["consistency"])
    assert _consistency_ok(first, size, first_root, root, proof)
    assert not _consistency_ok(first, size, first_root, root, [bytes(32), *proof[1:]])
    # The project's own verifier agrees, as anyone runs it: no credentials, leaf hashes only.
    with BackgroundServer(console.http.app) as server:
        result = CliRunner().invoke(
            audit_cli,
            ["verify", "--url", server.url, "--public-key", vkey, "--state", str(tmp_path / "m")],
        )
    assert result.exit_code == 0, (result.output, result.exception)
    words = " ".join(result.output.split())
    assert "0 entries recomputed from their contents, " in words
    assert " by leaf hash" in words


def test_a_leaf_hash_cannot_confirm_a_guess_about_its_entry(console: ConsoleApp) -> None:
    """Even knowing every field but the nonce, a guess cannot be checked against the leaf."""
    services = console.services
    indexes = _investigate(console, 2)
    client = console.client()
    with transaction(services.session_factory) as session:
        size = checkpoints.latest(session).tree_size  # type: ignore[union-attr]
        stored = {
            int(seq): bytes(body)
            for seq, body in session.execute(
                select(AuditEntry.seq, AuditEntry.body).where(AuditEntry.seq.in_(indexes))
            )
        }
    for index in indexes:
        params = {"leaf_index": index, "tree_size": size}
        public = base64.b64decode(
            client.get("/v1/audit/proof/inclusion", params=params).json()["leaf_hash"]
        )
        assert public == hashlib.sha256(b"\x00" + stored[index]).digest()
        entry: dict[str, Any] = json.loads(stored[index])
        guess = {key: value for key, value in entry.items() if key != "nonce"}
        for attempt in (
            {**guess, "v": 1},  # the same contents without a nonce (format v1)
            {**guess, "nonce": "0" * 32},
            {**guess, "nonce": hashlib.md5(b"guess", usedforsecurity=False).hexdigest()},
        ):
            data = json.dumps(attempt, sort_keys=True, separators=(",", ":")).encode()
            assert hashlib.sha256(b"\x00" + data).digest() != public, "a guess was confirmed"
        assert entry["v"] == 2
        assert len(bytes.fromhex(entry["nonce"])) == 16
    first, second = (json.loads(stored[i]) for i in indexes)
    assert first["nonce"] != second["nonce"]


# Readers through the real authentication: partner clients with audit:read.


def _readers(gateway: Gateway) -> tuple[Partner, Partner, Partner]:
    bank = gateway.partner("bank-a", scopes=AUDITOR_SCOPES)
    other = gateway.partner("bank-b", scopes=AUDITOR_SCOPES)
    dpo = gateway.partner("dpo-pps", scopes=("audit:read",), sector="partnership_dpo")
    for partner in (bank, other):
        partner.post(
            "/v1/match",
            {
                "purpose": "payment_screening",
                "legal_basis": "art6_1_c",
                "items": [partner.item("iban", "NL91ABNA0417164300")],
            },
        )
    with transaction(gateway.services.session_factory) as session:
        gateway.services.audit.sign_checkpoint(session)
    return bank, other, dpo


def _credentials(partner: Partner, directory: Path) -> list[str]:
    assert partner.keys is not None
    path = directory / f"{partner.partner_id}.keystore.json"
    save_keystore(path, partner.keys)
    return ["--client-id", partner.client_id, "--keystore", str(path)]


def _partners_in_tree(gateway: Gateway) -> tuple[int, dict[str | None, int]]:
    with transaction(gateway.services.session_factory) as session:
        published = checkpoints.latest(session)
        assert published is not None
        rows = session.execute(
            select(AuditEntry.actor_partner).where(AuditEntry.seq < published.tree_size)
        ).scalars()
        counts: dict[str | None, int] = {}
        for partner in rows:
            counts[partner] = counts.get(partner, 0) + 1
    return published.tree_size, counts


def _audited(gateway: Gateway, tag: AuditTag) -> list[dict[str, Any]]:
    with transaction(gateway.services.session_factory) as session:
        bodies = session.scalars(
            select(AuditEntry.body).where(AuditEntry.tag == tag.value).order_by(AuditEntry.seq)
        )
        return [json.loads(body) for body in bodies]


def test_readers_read_their_scope_and_each_read_is_audited(gateway: Gateway) -> None:
    bank, _, dpo = _readers(gateway)
    size, by_partner = _partners_in_tree(gateway)
    params = {"start": 0, "end": size - 1}
    for reader, expected in ((bank, {"bank-a"}), (dpo, set(by_partner))):
        page = reader.call("GET", "/v1/audit/entries", params=params)["entries"]
        assert [item["leaf_index"] for item in page] == list(range(size))
        assert all(item["leaf_hash"] for item in page)
        shown = [json.loads(item["entry"]) for item in page if item["entry"] is not None]
        assert {entry["actor"]["partner"] for entry in shown} == expected
        assert len(shown) == sum(by_partner[p] for p in expected)
    reads = _audited(gateway, AuditTag.AUDIT_ENTRIES_READ)
    assert [(r["actor"]["partner"], r["actor"]["client"], r["counts"]) for r in reads] == [
        ("bank-a", bank.client_id, {"leaves": size, "returned": by_partner["bank-a"]}),
        ("dpo-pps", dpo.client_id, {"leaves": size, "returned": size}),
    ]
    theirs = _seq_of(gateway, "bank-b")
    with pytest.raises(GatewayAPIError) as refused:
        bank.call("GET", "/v1/audit/receipt", params={"leaf_index": theirs})
    assert refused.value.status == 403
    assert "bank-b" not in str(refused.value)
    receipt = dpo.client.request("GET", "/v1/audit/receipt", params={"leaf_index": theirs})
    assert receipt.status_code == 200
    assert [r["actor"]["partner"] for r in _audited(gateway, AuditTag.AUDIT_RECEIPT_DOWNLOAD)] == [
        "dpo-pps"
    ]
    denials = _audited(gateway, AuditTag.AUDIT_ACCESS_DENY)
    assert [(d["actor"]["partner"], d["reasons"]) for d in denials] == [("bank-a", ["audit-scope"])]


def _seq_of(gateway: Gateway, partner: str) -> int:
    with transaction(gateway.services.session_factory) as session:
        seq = session.scalar(
            select(AuditEntry.seq).where(AuditEntry.actor_partner == partner).limit(1)
        )
    assert seq is not None
    return int(seq)


def test_ppsgate_audit_verify_full_tree_for_the_dpo_hash_level_for_anyone(
    gateway: Gateway, tmp_path: Path
) -> None:
    bank, _, dpo = _readers(gateway)
    size, by_partner = _partners_in_tree(gateway)
    vkey = gateway.services.audit.verifier_key

    def verify(*extra: str) -> str:
        args = ["verify", "--url", gateway.url, "--public-key", vkey, *extra]
        result = CliRunner().invoke(audit_cli, args)
        assert result.exit_code == 0, (result.output, result.exception)
        return " ".join(result.output.split())

    assert f"0 entries recomputed from their contents, {size} by leaf hash" in verify()
    full = verify(*_credentials(dpo, tmp_path))
    assert f"size {size};" in full
    assert f"{size} entries recomputed from their contents, " in full
    assert "by leaf hash" not in full
    own = verify(*_credentials(bank, tmp_path))
    mine = by_partner["bank-a"]
    assert f"{mine} entries recomputed from their contents, {size - mine} by leaf hash" in own
    proof = CliRunner().invoke(
        audit_cli,
        [
            "proof",
            "--entry",
            str(_seq_of(gateway, "bank-a")),
            "--url",
            gateway.url,
            *_credentials(bank, tmp_path / "again"),
        ],
    )
    assert proof.exit_code == 0, (proof.output, proof.exception)
    assert proof.output.startswith("c2sp.org/tlog-proof@v1\nextra ")
    anonymous = CliRunner().invoke(audit_cli, ["proof", "--entry", "0", "--url", gateway.url])
    assert anonymous.exit_code != 0
    assert "401" in str(anonymous.exception)


# A failed console sign-in: no answer and no public trace tells whether the name exists.

SIGNIN_ERROR = re.compile(r'<p class="error" role="alert" id="signin-error">(.*?)</p>', re.S)


def _entry_count(console: ConsoleApp) -> int:
    with transaction(console.services.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _sign_in(console: ConsoleApp, username: str, password: str) -> tuple[int, str, set[str], int]:
    """(status, error text, header names, entries written) of one sign-in attempt."""
    client = console.client()
    token = SIGNIN.search(client.get("/console/signin").text)
    assert token is not None
    console.clock.current += timedelta(seconds=31)
    user = console.users.get(username)
    code = pyotp.TOTP(user.totp_secret).at(console.clock.now()) if user else "123456"
    before = _entry_count(console)
    answer = client.post(
        "/console/signin",
        data={
            "username": username,
            "password": password,
            "totp": code,
            "signin_token": token.group(1),
        },
        follow_redirects=False,
    )
    error = SIGNIN_ERROR.search(answer.text)
    return (
        answer.status_code,
        error.group(1) if error else "",
        {name.lower() for name in answer.headers},
        _entry_count(console) - before,
    )


def test_a_failed_console_sign_in_never_tells_whether_the_name_exists(
    console: ConsoleApp,
) -> None:
    """A real name and an unknown one get the same answers, step by step, up to the lockout."""
    attempts = console.services.settings.console_max_failed_signins
    known = [_sign_in(console, "petra", "a wrong password, surely") for _ in range(attempts)]
    unknown = [
        _sign_in(console, "nobody-here", "a wrong password, surely") for _ in range(attempts)
    ]
    assert known[0][0] == 401
    assert "wrong username, password or code" in known[0][1]
    assert "retry-after" not in known[0][2]
    assert known[-1][0] == 429  # the limit locks the name
    assert "retry-after" in known[-1][2]
    for mine, theirs in zip(known, unknown, strict=True):
        assert mine == theirs  # same status, text, headers and one audit entry each
    locked = _sign_in(console, "petra", PASSWORD)  # the right password, on a locked name
    assert locked == _sign_in(console, "nobody-here", PASSWORD)
    assert locked[0] == 429
    deny = [
        entry["reasons"]
        for entry in _tagged(console, AuditTag.CONSOLE_SIGNIN_DENY)
        if entry["actor"]["user"] == "petra"
    ]
    assert ["account-locked-now"] in deny  # the DPO can still see what happened
    assert ["account-locked"] in deny


def _tagged(console: ConsoleApp, tag: AuditTag) -> list[dict[str, Any]]:
    with transaction(console.services.session_factory) as session:
        bodies = session.scalars(
            select(AuditEntry.body).where(AuditEntry.tag == tag.value).order_by(AuditEntry.seq)
        )
        return [json.loads(body) for body in bodies]
