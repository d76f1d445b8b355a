"""Synthetic identifiers and a fast loader for benchmark databases.

Identifiers look like the real thing — Dutch and foreign IBANs with correct ISO 13616 check
digits, Dutch mobile and fixed numbers in E.164, e-mail addresses and registrable domains —
but are drawn from a seeded random generator: made-up syllable names, random account numbers,
no list of real people, accounts or addresses. They are tokenised exactly as a connector
does (spec v1 HMAC under one epoch's type keys) and peppered as the gateway does, then
loaded with ``COPY`` so that millions of rows take seconds, not hours.

    .venv/bin/python -m bench.generate --sample 5     # print a few, checked by the connector
"""

from __future__ import annotations

import argparse
import random
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from connectors.canonical import Kind, canonicalize
from connectors.hashing import HmacTokeniserV1, TypeKeys
from gateway.pepper import Pepper

# Institution codes of the registries' formats (bank codes are not personal data); account
# numbers are random digits.
_NL_BANKS = ("ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB", "KNAB", "BUNQ")
_DE_BLZ = ("10010010", "37040044", "50010517", "20041133", "70150000")
_BE_BANKS = ("001", "068", "310", "539", "735")
_NL_AREA_CODES = ("10", "20", "30", "40", "50", "70", "71", "72", "73", "76", "13", "15")
_SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ve",
    "ro",
    "sa",
    "ten",
    "dor",
    "fa",
    "nu",
    "bel",
    "ja",
    "ko",
    "ri",
    "wen",
    "ta",
    "zo",
    "mer",
    "lin",
    "pa",
    "de",
    "vos",
    "hu",
    "kel",
)
_TLDS = ("nl", "nl", "nl", "com", "com", "eu", "shop", "online", "be", "de")
_MAILBOX_DOMAINS = ("mailbox.example", "post.example", "inbox.example")
_CATEGORIES = ("purchase_fraud", "phishing", "helpdesk_fraud", "investment_fraud", "money_mule")
#: Share of each kind among generated indicators (IBANs dominate real reports).
KIND_MIX = ((Kind.IBAN, 0.5), (Kind.PHONE, 0.25), (Kind.EMAIL, 0.15), (Kind.DOMAIN, 0.10))


def iban_check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits: 98 - (BBAN + country + "00" as digits) mod 97."""
    rearranged = f"{bban}{country}00"
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return f"{98 - int(digits) % 97:02d}"


def _belgian_bban(rng: random.Random) -> str:
    # Belgian BBANs carry their own mod-97 check in the last two digits.
    body = rng.choice(_BE_BANKS) + f"{rng.randrange(10**7):07d}"
    check = int(body) % 97 or 97
    return f"{body}{check:02d}"


def iban(rng: random.Random) -> str:
    """A Dutch IBAN three times in four, else German or Belgian; compact upper case."""
    roll = rng.random()
    if roll < 0.75:
        country, bban = "NL", rng.choice(_NL_BANKS) + f"{rng.randrange(10**10):010d}"
    elif roll < 0.9:
        country, bban = "DE", rng.choice(_DE_BLZ) + f"{rng.randrange(10**10):010d}"
    else:
        country, bban = "BE", _belgian_bban(rng)
    return f"{country}{iban_check_digits(country, bban)}{bban}"


def phone(rng: random.Random) -> str:
    """A Dutch mobile (+316[1-5], 8 digits) or fixed number (two-digit area code) in E.164."""
    if rng.random() < 0.7:  # 06-1 to 06-5: the ranges assigned to mobile operators
        return f"+316{rng.randint(1, 5)}{rng.randrange(10**7):07d}"
    return f"+31{rng.choice(_NL_AREA_CODES)}{rng.randrange(2 * 10**6, 10**7):07d}"


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts))


def domain(rng: random.Random) -> str:
    """A made-up registrable domain, e.g. ``kaloven-shop.nl``."""
    name = _word(rng, rng.randint(2, 4))
    if rng.random() < 0.3:
        name += rng.choice(("-shop", "-pay", "-service", "-direct", "24"))
    return f"{name}.{rng.choice(_TLDS)}"


def email(rng: random.Random) -> str:
    """A made-up mailbox at a made-up domain or an ``.example`` mail provider."""
    local = f"{_word(rng, 2)}.{_word(rng, 3)}{rng.randrange(100)}"
    host = domain(rng) if rng.random() < 0.5 else rng.choice(_MAILBOX_DOMAINS)
    return f"{local}@{host}"


_MAKERS = {Kind.IBAN: iban, Kind.PHONE: phone, Kind.EMAIL: email, Kind.DOMAIN: domain}


def identifiers(count: int, *, seed: int = 1) -> Iterator[tuple[Kind, str]]:
    """``count`` (kind, canonical identifier) pairs in the :data:`KIND_MIX` proportions."""
    rng = random.Random(seed)
    kinds = [kind for kind, _ in KIND_MIX]
    weights = [share for _, share in KIND_MIX]
    for kind in rng.choices(kinds, weights, k=count):
        yield kind, _MAKERS[kind](rng)


def check_sample(count: int = 200, *, seed: int = 7) -> int:
    """Run the connector's canonicaliser over a sample; every value must already be canonical.

    Returns how many were checked; raises ``AssertionError`` naming the first mismatch.
    """
    for kind, value in identifiers(count, seed=seed):
        canonical = canonicalize(kind, value)
        if canonical != value:
            raise AssertionError(f"{kind}: generated {value!r}, canonical {canonical!r}")
    return count


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a load produced: row count, seconds, and known tokens (raw, for requests)."""

    rows: int
    seconds: float
    known: list[tuple[Kind, str]]  # (kind, raw token hex) reported by two partners


def new_tokeniser(epoch: int = 1) -> HmacTokeniserV1:
    """Spec v1 tokens under a fresh random master salt (the epoch's salt stays in memory)."""
    return HmacTokeniserV1(TypeKeys.from_master_salt(secrets.token_bytes(32), epoch=epoch))


def load_indicators(
    conninfo: str,
    pepper: Pepper,
    tokeniser: HmacTokeniserV1,
    count: int,
    *,
    reporters: tuple[str, str] = ("marketplace-a", "bank-b"),
    known: int = 10_000,
    seed: int = 1,
) -> Loaded:
    """COPY ``count`` identifiers reported by ``reporters[0]``; ``known`` of them (spread
    evenly) are reported three times by two partners (the strictest corroboration rule in
    the bundled policies: three reports, two reporters), so every purpose discloses them."""
    now = datetime.now(tz=UTC)
    observed, expires = now - timedelta(days=1), now + timedelta(days=300)
    stride = max(1, count // max(1, known))
    kept: list[tuple[Kind, str]] = []
    rows = 0
    started = time.perf_counter()
    columns = (
        "partner_id, kind, epoch, token_hash, category, role, reference_hash, purpose, "
        "legal_basis, status, observed_at, expires_at, created_at"
    )
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY indicators ({columns}) FROM STDIN") as copy:
            for n, (kind, value) in enumerate(identifiers(count, seed=seed)):
                raw = tokeniser.token(kind, value)
                peppered = pepper.token(raw)
                category = _CATEGORIES[n % len(_CATEGORIES)]
                chosen: tuple[str, ...] = (reporters[0],)
                if n % stride == 0 and len(kept) < known:
                    kept.append((kind, raw))
                    chosen = (reporters[0], reporters[1], reporters[0])
                for copy_number, reporter in enumerate(chosen):
                    copy.write_row(
                        (
                            reporter,
                            kind.value,
                            tokeniser.epoch,
                            peppered,
                            category,
                            "suspect",
                            pepper.reference(f"{reporter}-{n}-{copy_number}"),
                            "indicator_submission",
                            "art6_1_f",
                            "active",
                            observed,
                            expires,
                            now,
                        )
                    )
                    rows += 1
        conn.commit()
        cur.execute("ANALYZE indicators")
        conn.commit()
    return Loaded(rows=rows, seconds=time.perf_counter() - started, known=kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=10, help="Print this many identifiers.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for kind, value in identifiers(args.sample, seed=args.seed):
        print(f"{kind.value:6} {value}")
    print(f"connector canonicaliser agrees on a sample of {check_sample()} identifiers")


if __name__ == "__main__":
    main()
