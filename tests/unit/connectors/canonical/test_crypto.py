"""Crypto addresses: BIP 173/350 and EIP-55 examples, the network in the canonical form."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import InvalidIdentifier, canonicalize
from connectors.canonical import crypto
from connectors.canonical.crypto import canonical_crypto_address, eip55_checksum
from connectors.canonical.kinds import Kind

# EIP-55's own examples (all-caps, all-lower and mixed groups of its specification).
EIP55_EXAMPLES = [
    "52908400098527886E0F7030069857D2E4169EE7",
    "8617E340B3D01FA5F11F306F4090FD50516077A7",
    "de709f2102306220921060314715629080e2fb77",
    "27b1fdb04752bbc536007a920d24acb045561c26",
    "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "fB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "dbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "D1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("digits", EIP55_EXAMPLES)
def test_eip55_examples_are_accepted_and_folded(digits: str) -> None:
    assert canonical_crypto_address("0x" + digits) == "eth:0x" + digits.lower()


@pytest.mark.parametrize("digits", EIP55_EXAMPLES[4:])
def test_keccak_is_not_sha3(digits: str) -> None:
    """The checksum must come from Keccak-256: hashlib's SHA3-256 would spell it otherwise."""
    assert eip55_checksum(digits.lower()) == digits


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        # BIP 173 / BIP 350 valid addresses
        (
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
            "btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        ),
        (
            "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
            "btc-testnet:tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        ),
        (
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
            "btc:bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        ),
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "btc:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "btc:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
        ("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", "btc-testnet:mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"),
        (" BTC:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 ", "btc:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
        (
            "ETH:0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED",
            "eth:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        ),
    ],
)
def test_valid_addresses(raw: str, canonical: str) -> None:
    assert canonicalize(Kind.CRYPTO_ADDRESS, raw) == canonical
    assert canonical_crypto_address(canonical) == canonical


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", crypto.REASON_ETH_CHECKSUM),
        ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae", crypto.REASON_UNKNOWN),
        ("0X5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", crypto.REASON_UNKNOWN),
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", crypto.REASON_BASE58_CHECKSUM),
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN0", crypto.REASON_UNKNOWN),  # 0 is not Base58
        # BIP 173 / 350 invalid addresses
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", crypto.REASON_BECH32_CHECKSUM),
        (
            "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
            crypto.REASON_BECH32_CASE,
        ),
        ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", crypto.REASON_SEGWIT_VERSION),
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", crypto.REASON_SEGWIT),
        # made here: v0 with a 16-byte program; v1 with a Bech32 (not Bech32m) checksum
        ("bc1qqqqsyqcyq5rqwzqfpg9scrgwpuk7nx3h", crypto.REASON_SEGWIT),
        (
            "bc1pqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0sagmhkq",
            crypto.REASON_SEGWIT,
        ),
        ("eth:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", crypto.REASON_NETWORK_MISMATCH),
        ("ltc:LVg2kJoFNg45Nbpy53h7Fe1wKyeXVRhMH9", crypto.REASON_NETWORK),
        ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed 1", crypto.REASON_SPACES),
        ("hello", crypto.REASON_UNKNOWN),
    ],
)
def test_refusals_give_the_reason_and_never_the_value(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        canonical_crypto_address(raw)
    assert caught.value.reason == reason
    assert caught.value.kind is Kind.CRYPTO_ADDRESS
    assert raw.strip().split(":")[-1][:8] not in caught.value.diagnostics()


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=20, max_size=20))
def test_every_eip55_spelling_round_trips(address: bytes) -> None:
    lower = address.hex()
    spelled = "0x" + eip55_checksum(lower)
    assert canonical_crypto_address(spelled) == "eth:0x" + lower
