"""Type detection by shape for files that mix identifier types."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import InvalidIdentifier, detect_kind
from connectors.canonical.detect import REASON_EMPTY, REASON_PHONE_OR_IP, REASON_UNKNOWN
from connectors.canonical.kinds import Kind


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("NL91ABNA0417164300", Kind.IBAN),
        ("NL91 ABNA 0417 1643 00", Kind.IBAN),
        ("nl91-abna-0417-1643-00", Kind.IBAN),
        ("DE89 3704 0044 0532 0130 00", Kind.IBAN),
        ("06-12345678", Kind.PHONE),
        ("+31 (0)6 12345678", Kind.PHONE),
        ("0031 6 12345678", Kind.PHONE),
        ("112", Kind.PHONE),
        ("06.12.34.56.78", Kind.PHONE),
        ("jan@example.nl", Kind.EMAIL),
        (" Jan@Bücher.de ", Kind.EMAIL),
        ("@example.nl", Kind.EMAIL),
        ("https://www.example.nl/x", Kind.URL),
        ("http://user@example.nl", Kind.URL),
        ("HTTPS://example.nl", Kind.URL),
        ("//example.nl", Kind.DOMAIN),
        ("www.example.nl", Kind.DOMAIN),
        ("example.nl/pad?q=1", Kind.DOMAIN),
        ("example.nl:8080", Kind.DOMAIN),
        ("bücher.de", Kind.DOMAIN),
        ("123.nl", Kind.DOMAIN),
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", Kind.CRYPTO_ADDRESS),
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", Kind.CRYPTO_ADDRESS),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", Kind.CRYPTO_ADDRESS),
        ("TB1QRP33G0Q5C5TXSP9ARYSRX4K6ZDKFS4NCE4XJ0GDCCCEFVPYSXF3Q0SL5K7", Kind.CRYPTO_ADDRESS),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", Kind.CRYPTO_ADDRESS),
        ("btc-testnet:mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", Kind.CRYPTO_ADDRESS),
        ("ETH:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", Kind.CRYPTO_ADDRESS),
        ("instagram:@jan.de.vries", Kind.SOCIAL_ACCOUNT),
        ("Twitter:JanDV", Kind.SOCIAL_ACCOUNT),
        ("t.me:jan_de_vries", Kind.SOCIAL_ACCOUNT),
    ],
)
def test_detects_each_shape(value: str, kind: Kind) -> None:
    assert detect_kind(value) is kind


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("12.34.56.78", REASON_PHONE_OR_IP),
        ("192.168.1.1", REASON_PHONE_OR_IP),
        ("hello", REASON_UNKNOWN),
        ("12", REASON_UNKNOWN),
        ("NL91", REASON_UNKNOWN),
        ("Jan Jansen", REASON_UNKNOWN),
        ("example", REASON_UNKNOWN),
        ("myspace:jan", REASON_UNKNOWN),
        ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", REASON_UNKNOWN),
        ("   ", REASON_EMPTY),
    ],
)
def test_ambiguous_or_unknown_values_are_rejected_not_guessed(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        detect_kind(value)
    assert caught.value.reason == reason
    assert caught.value.kind is None


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_detection_never_fails_unexpectedly(value: str) -> None:
    try:
        kind = detect_kind(value)
    except InvalidIdentifier:
        return
    assert kind in set(Kind)
