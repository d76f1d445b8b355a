"""The policies ship with Rego tests for every decision rule, deny and allow paths both."""

from __future__ import annotations

import re

import pytest

from gateway.policy.bundle import PolicyBundle, load_bundle
from gateway.policy.catalog import emitted_codes
from gateway.policy.decision import ENGINE_UNAVAILABLE

BUNDLE: PolicyBundle = load_bundle()
TEST_TEXT = "\n".join(module.text for module in BUNDLE.test_modules)
EMITTED = sorted(
    {
        (code, module.path)
        for module in BUNDLE.policy_modules
        for code, _ in emitted_codes(module.path, module.text)
    }
)


@pytest.mark.parametrize(("code", "path"), EMITTED, ids=[code for code, _ in EMITTED])
def test_rule_has_tests_for_both_paths(code: str, path: str) -> None:
    area = path.split("/")[1]
    positive = re.compile(rf'(?<!not )"{re.escape(code)}" in data\.gateway\.{area}\.')
    negative = re.compile(rf'not "{re.escape(code)}" in data\.gateway\.{area}\.')
    assert positive.search(TEST_TEXT), f"no test where {path} emits {code!r}"
    assert negative.search(TEST_TEXT), f"no test where {path} does not emit {code!r}"


def test_every_catalog_code_is_emitted_by_a_rule() -> None:
    emitted = {code for code, _ in EMITTED}
    assert set(BUNDLE.catalog.entries) - emitted == {ENGINE_UNAVAILABLE}


def test_every_policy_module_has_a_test_module_beside_it() -> None:
    tests = {module.path for module in BUNDLE.test_modules}
    for module in BUNDLE.policy_modules:
        assert module.path.replace(".rego", "_test.rego") in tests, module.path


def test_packages_follow_the_path_and_use_rego_v1() -> None:
    for module in BUNDLE.modules:
        parts = module.path.removesuffix(".rego").split("/")
        package = ".".join(parts[:-1])
        if module.is_test:
            package += "_test"
        assert f"package {package}\n" in module.text, module.path
        assert "import future.keywords" not in module.text, module.path
        assert not re.search(r"^\w+(\[[^\]]*\])?\s*\{", module.text, re.MULTILINE), module.path
