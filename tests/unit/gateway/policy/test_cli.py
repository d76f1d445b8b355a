"""`ppsgate policy ...`: test, explain, bundle, register, diff."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from gateway.policy.bundle import PolicyBundle, load_bundle
from gateway.policy.opa_standin import StandInServer
from tests.unit.gateway.policy.conftest import copy_policies

runner = CliRunner()


@pytest.fixture(autouse=True)
def _embedded_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PPSGATE_OPA_URL", raising=False)
    monkeypatch.delenv("PPSGATE_POLICY_DIR", raising=False)
    monkeypatch.setenv("PPSGATE_DATA_DIR", str(tmp_path / "data"))


def test_policy_test_passes_from_the_installed_entry_point() -> None:
    script = Path(sys.executable).parent / "ppsgate"
    done = subprocess.run(
        [str(script), "policy", "test"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failed" in done.stdout
    assert "PASS" in done.stdout
    assert "gateway.legal_test" in done.stdout


def test_policy_test_fails_on_a_failing_rego_test(tmp_path: Path) -> None:
    root = copy_policies(tmp_path / "p")
    test_file = root / "gateway" / "retention" / "retention_test.rego"
    test_file.write_text(test_file.read_text() + "\ntest_always_wrong if 1 == 2\n")
    result = runner.invoke(app, ["policy", "test", "--policy-dir", str(root)])
    assert result.exit_code == 1
    assert "FAIL  gateway.retention_test.test_always_wrong" in result.output
    assert "1 failed" in result.output


def test_policy_test_through_opa_standin(
    standin: StandInServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PPSGATE_OPA_URL", standin.url)
    result = runner.invoke(app, ["policy", "test"])
    assert result.exit_code == 0, result.output
    assert f"OPA at {standin.url}" in result.output


def test_explain_the_help_desk_question() -> None:
    result = runner.invoke(
        app,
        [
            "policy",
            "explain",
            "--partner",
            "telecom-a",
            "--action",
            "match:query",
            "--purpose",
            "spoofing_prevention",
            "--legal-basis",
            "art6_1_f",
            "--kind",
            "phone",
            "--disclose",
            "reporter",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["allow"] is False
    (reason,) = body["reasons"]
    assert reason["code"] == "reporter-identity-not-permitted"
    assert "Directive (EU) 2016/680" in reason["basis"]
    assert "politie" in reason["text_nl"]


def test_explain_table_in_dutch() -> None:
    result = runner.invoke(
        app,
        [
            "policy",
            "explain",
            "--partner",
            "bank-a",
            "--action",
            "match:query",
            "--purpose",
            "payment_screening",
            "--legal-basis",
            "art6_1_c",
            "--kind",
            "iban",
            "--lang",
            "nl",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "ALLOW" in result.output
    assert "disclosure: hit, count, category" in result.output
    assert "corroboration: 3 reports from 1 partner(s)" in result.output
    assert "grondslag" in result.output


EXPLAIN = [
    "policy",
    "explain",
    "--partner",
    "bank-a",
    "--purpose",
    "payment_screening",
]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--action", "match:everything"], "--action"),
        (["--action", "match:query", "--disclose", "secrets"], "--disclose"),
        (["--action", "match:query", "--lang", "fr"], "--lang"),
    ],
)
def test_explain_names_the_bad_option(extra: list[str], field: str) -> None:
    result = runner.invoke(app, [*EXPLAIN, *extra])
    assert result.exit_code != 0
    assert getattr(result.exception, "field", None) == field


def test_bundle_writes_a_loadable_opa_bundle(tmp_path: Path, bundle: PolicyBundle) -> None:
    for target in (tmp_path / "dir", tmp_path / "bundle.tar.gz"):
        result = runner.invoke(app, ["policy", "bundle", "--out", str(target)])
        assert result.exit_code == 0, result.output
        assert bundle.digest in result.output
        assert load_bundle(target).digest == bundle.digest


def test_register_markdown_and_csv(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "register"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Record of processing activities (GDPR Art. 30)")
    out = tmp_path / "register.csv"
    result = runner.invoke(app, ["policy", "register", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("purpose_id,purpose,partner_id")


def test_register_from_opa_standin(standin: StandInServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PPSGATE_OPA_URL", standin.url)
    result = runner.invoke(app, ["policy", "register"])
    assert result.exit_code == 0, result.output
    assert "spoofing_prevention" in result.output


def test_diff_shows_changed_decisions(tmp_path: Path) -> None:
    before = copy_policies(tmp_path / "a")
    after = copy_policies(tmp_path / "b")
    purposes = after / "data" / "purposes.json"
    data = json.loads(purposes.read_text())
    data["spoofing_prevention"]["disclosure"]["telecom"] = ["hit", "role", "reporter"]
    data["spoofing_prevention"]["reporter_legal_bases"] = ["art6_1_f"]
    purposes.write_text(json.dumps(data))
    result = runner.invoke(app, ["policy", "diff", str(before), str(after), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    changed = {item["case"] for item in body["changed"]}
    assert changed == {
        "telecom-checks-caller-id",
        "telecom-checks-caller-id-under-v2",
        "telecom-may-not-learn-reporting-bank",
    }
    same = runner.invoke(app, ["policy", "diff", str(before), str(before)])
    assert "0 of" in same.output
