"""The reason catalog comes from METADATA, and no rule may emit a code without one."""

from __future__ import annotations

import pytest

from gateway.policy.bundle import PolicyBundle
from gateway.policy.catalog import ReasonCatalog, build_catalog, emitted_codes, lint_modules
from gateway.policy.decision import ENGINE_UNAVAILABLE
from gateway.policy.errors import PolicyBundleError

ANNOTATED = """package gateway.example

# METADATA
# title: Example
# custom:
#   code: example-denied
#   gdpr: ["GDPR Art. 5(1)(b)"]
#   text_en: Denied for the example.
#   text_nl: Geweigerd voor het voorbeeld.
deny contains "example-denied" if input.x
"""


def test_every_emitted_code_has_metadata(bundle: PolicyBundle) -> None:
    """Fails when a rule emits a reason code that has no METADATA entry above it."""
    assert lint_modules((m.path, m.text) for m in bundle.modules) == []
    for module in bundle.policy_modules:
        for code, line in emitted_codes(module.path, module.text):
            assert code in bundle.catalog, f"{module.path}:{line} emits {code!r}"


def test_every_catalog_entry_is_bilingual_with_articles(bundle: PolicyBundle) -> None:
    assert len(bundle.catalog) >= 30
    for code, entry in bundle.catalog.entries.items():
        assert entry.reason.text_en, code
        assert entry.reason.text_nl, code
        assert entry.reason.basis, code
        assert entry.reason.text_en != entry.reason.text_nl, code


def test_fail_closed_code_is_documented_in_the_policy(bundle: PolicyBundle) -> None:
    entry = bundle.catalog.entries[ENGINE_UNAVAILABLE]
    assert entry.path == "gateway/decision/decision.rego"
    assert "fail closed" in entry.reason.text_en


def test_parsing_an_annotated_rule() -> None:
    catalog = build_catalog([("x.rego", ANNOTATED)])
    reason = catalog.reason("example-denied", ["extra ref"])
    assert reason.text_nl == "Geweigerd voor het voorbeeld."
    assert reason.basis == ("GDPR Art. 5(1)(b)", "extra ref")
    assert lint_modules([("x.rego", ANNOTATED)]) == []


def test_code_without_metadata_is_reported() -> None:
    text = ANNOTATED + '\ndeny contains "undocumented" if input.y\n'
    (problem,) = lint_modules([("x.rego", text)])
    assert "undocumented" in problem
    assert "x.rego:12" in problem


def test_metadata_of_another_code_is_reported() -> None:
    text = ANNOTATED.replace('deny contains "example-denied"', 'deny contains "other-code"')
    assert len(lint_modules([("x.rego", text)])) == 1


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("#   text_nl: Geweigerd voor het voorbeeld.\n", "", "text_nl"),
        ('#   gdpr: ["GDPR Art. 5(1)(b)"]\n', "", "gdpr"),
        ("code: example-denied", "code: Example Denied", "kebab-case"),
        ("#   text_en: Denied", "#   text_en: [Denied", "YAML"),
    ],
)
def test_incomplete_metadata_is_refused(old: str, new: str, message: str) -> None:
    with pytest.raises(PolicyBundleError, match=message):
        build_catalog([("x.rego", ANNOTATED.replace(old, new))])


def test_conflicting_texts_for_one_code_are_refused() -> None:
    other = ANNOTATED.replace("Denied for the example.", "Something else.")
    with pytest.raises(PolicyBundleError, match="different texts"):
        build_catalog([("a.rego", ANNOTATED), ("b.rego", other)])


def test_catalog_round_trips_through_bundle_data(bundle: PolicyBundle) -> None:
    rebuilt = ReasonCatalog.from_data(bundle.catalog.as_data())
    assert {c: e.reason for c, e in rebuilt.entries.items()} == {
        c: e.reason for c, e in bundle.catalog.entries.items()
    }
