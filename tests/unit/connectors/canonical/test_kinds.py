"""Reading type names from input files."""

from __future__ import annotations

import pytest

from connectors import InvalidIdentifier
from connectors.canonical.kinds import Kind, parse_kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("iban", Kind.IBAN),
        ("IBAN", Kind.IBAN),
        (" Phone ", Kind.PHONE),
        ("email", Kind.EMAIL),
        ("URL", Kind.URL),
        ("crypto_address", Kind.CRYPTO_ADDRESS),
        ("Social_Account", Kind.SOCIAL_ACCOUNT),
    ],
)
def test_type_names_are_case_and_space_tolerant(text: str, kind: Kind) -> None:
    assert parse_kind(text) is kind


@pytest.mark.parametrize("text", ["e-mail", "urls", "", "ibans", "crypto"])
def test_unknown_type_names_are_rejected(text: str) -> None:
    with pytest.raises(InvalidIdentifier, match="unknown identifier type"):
        parse_kind(text)


def test_kind_values_are_the_spec_type_strings() -> None:
    assert [kind.value for kind in Kind] == [
        "iban",
        "phone",
        "email",
        "domain",
        "url",
        "crypto_address",
        "social_account",
    ]
    assert f"{Kind.IBAN}" == "iban"
