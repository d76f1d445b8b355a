"""The joint DPIA's inputs are generated from the live policy, never typed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gateway.policy.bundle import load_bundle
from gateway.policy.dpia import dpia_inputs, render_markdown

BUNDLE = load_bundle()


def _purposes(data: dict[str, object]) -> dict[str, dict[str, object]]:
    inputs = dpia_inputs(data, digest=BUNDLE.digest)
    return {str(p["purpose"]): p for p in inputs["purposes"]}


def test_every_enabled_purpose_with_its_thresholds_and_retention() -> None:
    purposes = _purposes(dict(BUNDLE.data))
    assert set(purposes) == set(BUNDLE.data["purposes"])
    psr = purposes["psr_fraud_sharing"]
    assert "2 distinct victims at one reporter" in str(psr["thresholds"])
    assert psr["identifier_kinds"] == ["iban"]
    submission = purposes["indicator_submission"]["retention"]
    assert submission["by_role_days"]["mule_unwitting"] == 90  # type: ignore[index]
    civil = purposes["civil_recovery"]
    assert "evidence at least police_report" in str(civil["thresholds"])


def test_a_switched_off_profile_is_not_described_as_processing() -> None:
    data = dict(BUNDLE.data)
    data["profiles"] = {**data["profiles"], "enabled": ["base"]}
    assert "psr_fraud_sharing" not in _purposes(data)


def test_markdown_and_the_command(tmp_path: Path) -> None:
    text = render_markdown(dpia_inputs(dict(BUNDLE.data), digest=BUNDLE.digest))
    assert BUNDLE.digest in text
    assert "## Payee fraud-data sharing" in text
    out = tmp_path / "dpia.json"
    script = Path(sys.executable).parent / "ppsgate"
    done = subprocess.run(
        [str(script), "policy", "dpia", "--format", "json", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["policy_digest"] == BUNDLE.digest
