"""Social media accounts: platform vocabulary from the policy data, per-platform rules."""

from __future__ import annotations

import pytest

from connectors import InvalidIdentifier, canonicalize
from connectors.canonical import social
from connectors.canonical.kinds import Kind
from connectors.canonical.social import canonical_social_account, platforms, platforms_from_data


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("instagram:jan.de.vries", "instagram:jan.de.vries"),
        (" Instagram:@Jan.De.Vries ", "instagram:jan.de.vries"),
        ("IG:jan_1", "instagram:jan_1"),
        ("twitter:@JanDV_1", "x:jandv_1"),
        ("x:JanDV_1", "x:jandv_1"),
        ("facebook:Jan.De.Vries.7", "facebook:jandevries7"),
        ("telegram:Jan_de_Vries", "telegram:jan_de_vries"),
        ("t.me:jan_de_vries", "telegram:jan_de_vries"),
        ("tiktok:jan.vries", "tiktok:jan.vries"),
        ("snapchat:Jan-V", "snapchat:jan-v"),
    ],
)
def test_valid_accounts(raw: str, canonical: str) -> None:
    assert canonicalize(Kind.SOCIAL_ACCOUNT, raw) == canonical
    assert canonical_social_account(canonical) == canonical


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("jandevries", social.REASON_NO_PLATFORM),
        (":jandevries", social.REASON_NO_PLATFORM),
        ("myspace:jandevries", social.REASON_PLATFORM),
        ("instagram:", social.REASON_NO_HANDLE),
        ("instagram:@", social.REASON_NO_HANDLE),
        ("x:jan-de-vries", social.REASON_HANDLE),
        ("x:jandevries_the_first", social.REASON_HANDLE),
        ("telegram:jan", social.REASON_HANDLE),
        ("x:\u212aees", social.REASON_HANDLE),  # Kelvin sign lower-cases to an ASCII k
        ("instagram:jan de vries", social.REASON_SPACES),
    ],
)
def test_refusals_give_the_reason_and_never_the_value(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        canonical_social_account(raw)
    assert caught.value.reason == reason
    assert caught.value.kind is Kind.SOCIAL_ACCOUNT
    assert "jan" not in caught.value.diagnostics()


def test_a_platform_that_keeps_case_keeps_it() -> None:
    table = platforms_from_data(
        {
            "platforms": {
                "example": {"aliases": [], "case": "keep", "pattern": "[A-Za-z]+", "ignore": ""}
            }
        }
    )
    assert table["example"].handle("@JanDV") == "JanDV"


def test_vocabulary_refuses_an_unknown_case_rule() -> None:
    with pytest.raises(ValueError, match="case must be"):
        platforms_from_data(
            {"platforms": {"p": {"aliases": [], "case": "upper", "pattern": "x", "ignore": ""}}}
        )


def test_shipped_vocabulary_names_and_aliases_do_not_collide_with_networks() -> None:
    assert {"instagram", "x", "twitter", "facebook", "telegram", "tiktok"} <= set(platforms())
    assert not {"btc", "btc-testnet", "eth"} & set(platforms())
