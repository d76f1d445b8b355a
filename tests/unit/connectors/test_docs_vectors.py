"""docs/hashing.md is checked against the code, and its HKDF/HMAC description independently.

The vectors are recomputed twice: with the connector's own code (``cryptography``'s HKDF,
the canonicalisers) and with a from-scratch RFC 5869 HKDF over ``hmac``/``hashlib`` written
from the document alone, so that the document's description of the key derivation is verified
independently of the library the code uses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import string
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import Any

import ada_url
import pytest

from connectors import InvalidIdentifier, canonicalize
from connectors.canonical.iban import country_format
from connectors.canonical.kinds import Kind
from connectors.hashing import token, type_key

DOC = Path(__file__).resolve().parents[3] / "docs" / "hashing.md"


def _block(name: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    assert start in text, f"docs/hashing.md lost its {name} block"
    assert end in text, f"docs/hashing.md lost the end of its {name} block"
    return text.split(start, 1)[1].split(end, 1)[0]


def _table_rows(block: str) -> list[list[str]]:
    rows = [line for line in block.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def _vectors() -> list[dict[str, Any]]:
    block = _block("hashing-vectors")
    body = block.split("```json\n", 1)[1].split("```", 1)[0]
    vectors: list[dict[str, Any]] = json.loads(body)
    return vectors


def _rejects() -> list[tuple[str, str, str]]:
    return [
        (kind, json.loads(cell.strip("`")), reason)
        for kind, cell, reason in _table_rows(_block("hashing-rejects"))
    ]


# --- an independent implementation, from docs/hashing.md only --------------------------------


def _hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 from scratch: extract, then expand T(1) || T(2) || ..."""
    prk = hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()
    okm, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
    return okm[:length]


def _independent_token(master_salt: bytes, kind: str, canonical: str) -> tuple[bytes, str]:
    key = _hkdf_sha256(master_salt, b"", f"ppsgate:v1:{kind}".encode("ascii"), 32)
    message = f"ppsgate:v1:{kind}:{canonical}".encode()
    return key, hmac.new(key, message, hashlib.sha256).hexdigest()


def test_independent_hkdf_passes_rfc5869_test_case_3() -> None:
    """Test case 3 of RFC 5869 uses an empty salt, the case our type keys rely on."""
    okm = _hkdf_sha256(b"\x0b" * 22, b"", b"", 42)
    assert okm.hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )
    prk = hmac.new(bytes(32), b"\x0b" * 22, hashlib.sha256).hexdigest()
    assert prk == "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04"


def test_independent_hkdf_passes_rfc5869_test_case_1() -> None:
    okm = _hkdf_sha256(b"\x0b" * 22, bytes(range(13)), bytes(range(0xF0, 0xFA)), 42)
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


# --- the vectors ------------------------------------------------------------------------------


def test_there_are_enough_vectors_covering_every_kind() -> None:
    vectors = _vectors()
    assert len(vectors) >= 40
    assert {vector["kind"] for vector in vectors} == {kind.value for kind in Kind}
    assert len({vector["master_salt"] for vector in vectors}) >= 2
    assert all(
        set(vector) >= {"master_salt", "kind", "type_key", "input", "canonical", "token"}
        for vector in vectors
    )


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: f"{v['kind']}:{v['input']!r}")
def test_vector_matches_the_code(vector: dict[str, Any]) -> None:
    kind = Kind(vector["kind"])
    master_salt = bytes.fromhex(vector["master_salt"])
    key = type_key(master_salt, kind)
    assert key.hex() == vector["type_key"]
    canonical = canonicalize(kind, vector["input"], region=vector.get("region", "NL"))
    assert canonical == vector["canonical"]
    assert token(kind, canonical, key) == vector["token"]


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: f"{v['kind']}:{v['input']!r}")
def test_vector_matches_an_independent_implementation(vector: dict[str, Any]) -> None:
    key, result = _independent_token(
        bytes.fromhex(vector["master_salt"]), vector["kind"], vector["canonical"]
    )
    assert key.hex() == vector["type_key"]
    assert result == vector["token"]


@pytest.mark.parametrize("kind", [Kind.URL, Kind.CRYPTO_ADDRESS, Kind.SOCIAL_ACCOUNT])
def test_each_later_kind_has_fifteen_vectors_and_eight_refusals(kind: Kind) -> None:
    assert sum(vector["kind"] == kind.value for vector in _vectors()) >= 15
    assert sum(row_kind == kind.value for row_kind, _, _ in _rejects()) >= 8


def test_documented_url_parser_and_platform_vocabulary_are_the_installed_ones() -> None:
    block = _block("hashing-versions")
    assert f"ada-url {version('ada-url')}" in block
    assert f"Ada {ada_url.get_version()}" in block
    assert f"base58 {version('base58')}, bech32m {version('bech32m')}" in block
    assert f"pycryptodome {version('pycryptodome')}" in block
    vocabulary = json.loads(
        files("policies").joinpath("data", "social_platforms.json").read_text("utf-8")
    )
    assert f"version {vocabulary['version']}" in block


def test_nfc_and_nfd_vectors_share_a_token() -> None:
    by_input = {vector["input"]: vector for vector in _vectors()}
    composed = by_input["jos\u00e9@caf\u00e9.nl"]
    decomposed = by_input["jose\u0301@cafe\u0301.nl"]
    assert composed["token"] == decomposed["token"]


@pytest.mark.parametrize(("kind", "raw", "reason"), _rejects(), ids=lambda x: repr(x)[:40])
def test_rejected_input_is_rejected_with_the_documented_reason(
    kind: str, raw: str, reason: str
) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        canonicalize(kind, raw, region="NL")
    assert caught.value.reason == reason


def test_rejects_table_covers_every_kind() -> None:
    assert {kind for kind, _, _ in _rejects()} == {kind.value for kind in Kind}


# --- pinned data ------------------------------------------------------------------------------


def test_documented_public_suffix_snapshot_is_the_installed_one() -> None:
    snapshot = files("tldextract").joinpath(".tld_set_snapshot").read_bytes()
    block = _block("hashing-versions")
    version = re.search(rb"// (VERSION: \S+)", snapshot)
    commit = re.search(rb"// (COMMIT: \S+)", snapshot)
    assert version is not None
    assert commit is not None
    assert version.group(1).decode() in block
    assert commit.group(1).decode() in block
    assert hashlib.sha256(snapshot).hexdigest() in block


def test_documented_iban_country_formats_are_schwifty_s_registry() -> None:
    documented = {
        country: (int(length), spec.strip("`"), status)
        for country, length, spec, status in _table_rows(_block("hashing-iban-countries"))
    }
    actual = {}
    for first in string.ascii_uppercase:
        for second in string.ascii_uppercase:
            fmt = country_format(first + second)
            if fmt is not None:
                status = "proposed only: rejected" if fmt.aspirational else "official"
                actual[fmt.country] = (fmt.length, fmt.bban_spec, status)
    assert documented == actual
