"""Bundles: one digest in every form, an OPA bundle layout, and refusal of tampering."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from gateway.policy.bundle import (
    DIGEST_SCHEME,
    PolicyBundle,
    canonical_json,
    compute_digest,
    load_bundle,
    write_bundle,
)
from gateway.policy.errors import PolicyBundleError
from tests.unit.gateway.policy.conftest import copy_policies


def test_digest_is_the_same_in_every_form(bundle: PolicyBundle, tmp_path: Path) -> None:
    directory = write_bundle(bundle, tmp_path / "bundle")
    archive = write_bundle(bundle, tmp_path / "bundle.tar.gz")
    assert load_bundle(directory).digest == bundle.digest
    assert load_bundle(archive).digest == bundle.digest


def test_digest_follows_the_documented_layout(bundle: PolicyBundle) -> None:
    import hashlib

    digest = hashlib.sha256(f"{DIGEST_SCHEME}\n".encode())
    for module in sorted(bundle.modules, key=lambda m: m.path):
        raw = module.text.encode()
        digest.update(f"rego {module.path} {len(raw)}\n".encode() + raw + b"\n")
    payload = canonical_json(dict(bundle.data))
    digest.update(f"data {len(payload)}\n".encode() + payload)
    assert digest.hexdigest() == bundle.digest == compute_digest(bundle.modules, bundle.data)


def test_digest_changes_with_data_and_policy(tmp_path: Path, bundle: PolicyBundle) -> None:
    root = copy_policies(tmp_path)
    purposes = root / "data" / "purposes.json"
    data = json.loads(purposes.read_text())
    data["payment_screening"]["retention_days"]["default"] = 31
    purposes.write_text(json.dumps(data))
    changed = load_bundle(root).digest
    assert changed != bundle.digest
    rego = root / "gateway" / "retention" / "retention.rego"
    rego.write_text(rego.read_text() + "\n")
    assert load_bundle(root).digest not in {changed, bundle.digest}


def test_opa_bundle_layout(bundle: PolicyBundle, tmp_path: Path) -> None:
    out = write_bundle(bundle, tmp_path / "opa")
    manifest = json.loads((out / ".manifest").read_text())
    assert manifest["revision"] == bundle.digest
    assert manifest["roots"] == ["gateway", "ppsgate"]
    assert manifest["rego_version"] == 1
    data = json.loads((out / "data.json").read_text())
    assert data["ppsgate"]["bundle"]["digest"] == bundle.digest
    assert data["ppsgate"]["reasons"] == bundle.catalog.as_data()
    assert (out / "gateway" / "decision" / "decision.rego").is_file()
    assert sorted(p.name for p in out.iterdir()) == [".manifest", "data.json", "gateway"]


def test_edited_bundle_data_is_refused(bundle: PolicyBundle, tmp_path: Path) -> None:
    out = write_bundle(bundle, tmp_path / "opa")
    data = json.loads((out / "data.json").read_text())
    data["ppsgate"]["purposes"]["payment_screening"]["max_batch"] = 10_000
    (out / "data.json").write_text(json.dumps(data))
    with pytest.raises(PolicyBundleError, match="different digest"):
        load_bundle(out)


def test_edited_catalog_is_refused(bundle: PolicyBundle, tmp_path: Path) -> None:
    out = write_bundle(bundle, tmp_path / "opa")
    data = json.loads((out / "data.json").read_text())
    data["ppsgate"]["reasons"]["partner-suspended"]["text_en"] = "Fine."
    (out / "data.json").write_text(json.dumps(data))
    with pytest.raises(PolicyBundleError, match="reason catalog"):
        load_bundle(out)


def test_rule_without_metadata_refuses_the_bundle(tmp_path: Path) -> None:
    root = copy_policies(tmp_path)
    rego = root / "gateway" / "suppression" / "suppression.rego"
    rego.write_text(rego.read_text() + '\ndeny contains "sneaky" if input.x\n')
    with pytest.raises(PolicyBundleError, match="sneaky"):
        load_bundle(root)


def test_archive_member_escaping_the_bundle_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../../etc/x.rego")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    with pytest.raises(PolicyBundleError, match="escapes"):
        load_bundle(archive)


@pytest.mark.parametrize("name", ["missing", "file.txt"])
def test_not_a_bundle(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.endswith(".txt"):
        path.write_text("x")
    with pytest.raises(PolicyBundleError) as info:
        load_bundle(path)
    assert info.value.field == str(path)


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    root = copy_policies(tmp_path)
    (root / "data" / "partners.json").write_text("{")
    with pytest.raises(PolicyBundleError) as info:
        load_bundle(root)
    assert info.value.field == "data/partners.json"


def test_writing_into_a_non_empty_directory_is_refused(
    bundle: PolicyBundle, tmp_path: Path
) -> None:
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(PolicyBundleError, match="not an empty directory"):
        write_bundle(bundle, tmp_path)
