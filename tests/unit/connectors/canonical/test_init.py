"""The public canonicalisation API and properties that hold for every type."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import InvalidIdentifier, canonicalize
from connectors.canonical import canonicalizer
from connectors.canonical.kinds import Kind
from connectors.canonical.text import MAX_VALUE_LENGTH, WHITESPACE, has_whitespace_or_control


def test_kind_may_be_given_as_enum_or_name() -> None:
    assert canonicalize(Kind.IBAN, "NL91ABNA0417164300") == canonicalize(
        " IBAN ", "NL91ABNA0417164300"
    )


def test_unknown_kind_name_is_invalid_identifier() -> None:
    with pytest.raises(InvalidIdentifier):
        canonicalize("bsn", "123456782")


def test_region_reaches_the_phone_canonicaliser() -> None:
    assert canonicalize("phone", "030 123456", region="DE") == "+4930123456"
    assert canonicalizer(Kind.PHONE, region="DE")("030 123456") == "+4930123456"


@pytest.mark.parametrize("kind", list(Kind))
def test_oversized_values_are_rejected_before_parsing(kind: Kind) -> None:
    with pytest.raises(InvalidIdentifier, match="longer than"):
        canonicalize(kind, "1" * (MAX_VALUE_LENGTH + 1))


def test_whitespace_set_is_unicode_white_space() -> None:
    assert len(WHITESPACE) == 25
    assert "\u001c" not in WHITESPACE  # str.isspace() says yes; Unicode does not
    assert all(has_whitespace_or_control(f"a{char}b") for char in WHITESPACE)
    assert not has_whitespace_or_control("a\u200db")


_ANY_TEXT = st.text(max_size=60)


@settings(max_examples=600, deadline=None)
@given(kind=st.sampled_from(list(Kind)), value=_ANY_TEXT)
def test_canonicalisation_is_idempotent_or_rejects(kind: Kind, value: str) -> None:
    """For any text: rejected, or canonical of canonical is itself."""
    try:
        once = canonicalize(kind, value)
    except InvalidIdentifier as exc:
        rejected_as = exc.kind
    else:
        assert canonicalize(kind, once) == once
        return
    assert rejected_as is kind
