"""Per-kind cost of the identifier kinds added after the first four, for ``bench.hashing``.

For ``url``, ``crypto_address`` and ``social_account`` it makes synthetic values in the forms
analysts paste (no real page, wallet or account: hosts under ``.nl`` made from words and a
serial number, addresses from random bytes with their checksums computed here, handles from
first names and a serial), then times, in CPU time, canonicalise + tokenise per value (what
the connector does per row, without the file handling) against raw ``hmac.digest`` over the
already-canonical strings. The ratio is raw time over end-to-end time per value.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import base58
import bech32m

from connectors.canonical import Kind, canonicalizer
from connectors.canonical.crypto import eip55_checksum
from connectors.hashing import DOMAIN_PREFIX, HmacTokeniserV1, TypeKeys

NEW_KINDS = (Kind.URL, Kind.CRYPTO_ADDRESS, Kind.SOCIAL_ACCOUNT)
_WORDS = ("mijn-bank", "verificatie", "pakket", "betaal", "inlog", "toeslag", "actie", "retour")
_NAMES = ("an", "bo", "cor", "dirk", "eva", "fem", "gijs", "iris", "jan", "noor", "roos", "wim")
_PLATFORMS = ("instagram", "Instagram", "x", "twitter", "tiktok", "telegram", "facebook", "ig")


def make_url(rng: random.Random, serial: int) -> str:
    host = f"www.{rng.choice(_WORDS)}-{serial}.nl"
    pick = rng.random()
    if pick < 0.4:
        return f"https://{host}/inloggen?sessie={serial}"
    if pick < 0.6:
        return f"HTTPS://{host.upper()}:443/Inloggen#stap-2"
    if pick < 0.8:
        return f"http://klant@{host}/a/../%7eklant/betalen?id={serial}&t=%7e"
    return f"https://{host}/café/{serial}"


def make_crypto_address(rng: random.Random, serial: int) -> str:
    payload = rng.randbytes(20)
    pick = serial % 4
    if pick == 0:
        return "0x" + eip55_checksum(payload.hex())
    if pick == 1:
        return base58.b58encode_check(b"\x00" + payload).decode("ascii")
    if pick == 2:
        return str(bech32m.encode("bc", 0, payload))
    return str(bech32m.encode("bc", 1, rng.randbytes(32)))


def make_social_account(rng: random.Random, serial: int) -> str:
    handle = f"{rng.choice(_NAMES).title()}{serial % 100_000:05d}"
    return f"{rng.choice(_PLATFORMS)}:@{handle}"


MAKERS: dict[Kind, Callable[[random.Random, int], str]] = {
    Kind.URL: make_url,
    Kind.CRYPTO_ADDRESS: make_crypto_address,
    Kind.SOCIAL_ACCOUNT: make_social_account,
}


@dataclass(frozen=True, slots=True)
class KindCost:
    kind: Kind
    rows: int
    end_to_end_us: float  # canonicalise + tokenise, CPU µs per value
    raw_hmac_us: float  # hmac.digest over the canonical string, CPU µs per value

    @property
    def ratio(self) -> float:
        return self.raw_hmac_us / self.end_to_end_us

    def line(self) -> str:
        return (
            f"{self.kind.value}: {self.rows:,} values, canonicalise + tokenise "
            f"{self.end_to_end_us:.1f} µs CPU per value, raw hmac.digest {self.raw_hmac_us:.2f} "
            f"µs; ratio raw / end to end {self.ratio:.2f}"
        )


def measure_kind(kind: Kind, keys: TypeKeys, rows: int, seed: int) -> KindCost:
    rng = random.Random(seed)
    values = [MAKERS[kind](rng, serial) for serial in range(rows)]
    canonicalise, tokeniser = canonicalizer(kind), HmacTokeniserV1(keys)
    started = time.process_time()
    canonicals = [canonicalise(value) for value in values]
    tokeniser.tokens([(kind, canonical) for canonical in canonicals])
    end_to_end = time.process_time() - started
    key, prefix = keys[kind], f"{DOMAIN_PREFIX}{kind.value}:".encode()
    started = time.process_time()
    for canonical in canonicals:
        hmac.digest(key, prefix + canonical.encode(), hashlib.sha256)
    raw = time.process_time() - started
    return KindCost(kind, rows, end_to_end / rows * 1e6, max(raw, 1e-9) / rows * 1e6)
