"""Policy bundles: reading the policies, their digest, and writing an OPA bundle.

A bundle is read from one of three forms, all giving the same modules, data and digest:

* the source tree (``policies/``): ``gateway/**/*.rego`` and ``data/*.json``, each data file
  mounted at ``data.ppsgate.<file stem>``;
* an OPA bundle directory as ``ppsgate policy bundle`` writes it: ``.manifest``,
  ``data.json`` (``{"ppsgate": {...}}``) and the ``*.rego`` files;
* the same as a ``.tar.gz`` archive (read in memory, never extracted).

Digest (scheme ``ppsgate-policy-bundle-v1``): SHA-256 over, in this order, the line
``ppsgate-policy-bundle-v1\\n``; then for every ``.rego`` file (tests included) sorted by its
POSIX path inside the bundle, ``rego <path> <byte length>\\n`` followed by the file's bytes
and ``\\n``; then ``data <byte length>\\n`` followed by the canonical JSON of the
``ppsgate`` data document (sorted keys, no spaces, UTF-8, without the generated ``bundle``,
``reasons`` and ``generated`` keys). The same policies therefore have the same digest in every
form.

Generated decisions (``data.ppsgate.generated``): when the bundle has the packages
``gateway.generate`` and ``gateway.fast``, the parts of a decision that depend only on partner,
purpose, action and legal basis are evaluated once, by the bundle's own Rego
(``data.gateway.generate.entry``, one evaluation per key), and added to the data an engine
loads, together with the digest they were generated for. They are derived from the bundle's
files alone (instrument dates are compared with the clock per request, not here), cached per
digest and never read from a ``data.json``: every bundle, also one activated through
governance, carries data generated from itself. Every engine (one per worker thread) holds
this data, so it is kept small: an entry names its allowed document by a number in
``generated.documents`` (97 entries of the shipped bundle share 33 documents), and the
documents leave out the obligations' texts, which ``gateway.fast`` adds from
``data.ppsgate.obligations`` (docs/performance.md, memory).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
import tarfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import regorus

from gateway.policy.catalog import ReasonCatalog, build_catalog, lint_modules
from gateway.policy.errors import PolicyBundleError

logger = logging.getLogger(__name__)

DIGEST_SCHEME = "ppsgate-policy-bundle-v1"
DATA_ROOT = "ppsgate"
GENERATED_KEYS = frozenset({"bundle", "reasons", "generated"})
# The full composition of the areas (the reference, and what bundles without
# gateway.fast are evaluated with).
DECISION_RULE = "data.gateway.decision.decision"
# What the gateway evaluates per request when the bundle has it: the generated decision of
# the request's key plus the checks of its own inputs (falls back to DECISION_RULE in Rego).
FAST_DECISION_RULE = "data.gateway.fast.decision"
FAST_PACKAGES = ("gateway.fast", "gateway.generate")
UNDEFINED_JSON = '"<undefined>"'
# Generated data by bundle digest (bounded: a process holds one or two bundles at a time).
GENERATED_CACHE = 8
_generated: dict[str, tuple[dict[str, Any], str] | None] = {}
_generated_lock = threading.Lock()
MAX_FILE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Module:
    """One Rego file: its POSIX path inside the bundle and its text."""

    path: str
    text: str

    @property
    def is_test(self) -> bool:
        return self.path.endswith("_test.rego")


@dataclass(frozen=True, slots=True)
class PolicyBundle:
    """Everything an engine needs, read and checked once."""

    source: str
    modules: tuple[Module, ...]
    data: Mapping[str, Any]
    digest: str
    catalog: ReasonCatalog

    @property
    def policy_modules(self) -> tuple[Module, ...]:
        """The modules that decide (tests left out of the decision engine)."""
        return tuple(module for module in self.modules if not module.is_test)

    @property
    def test_modules(self) -> tuple[Module, ...]:
        return tuple(module for module in self.modules if module.is_test)

    @property
    def has_fast_path(self) -> bool:
        """Whether the bundle has the generated-decision packages (bundles from before do not)."""
        packages = {_package(module.text) for module in self.policy_modules}
        return all(package in packages for package in FAST_PACKAGES)

    @property
    def decision_rule(self) -> str:
        """The rule an engine evaluates per request for this bundle."""
        return FAST_DECISION_RULE if self.has_fast_path else DECISION_RULE

    def base_data(self) -> dict[str, Any]:
        """The policy data plus digest and reason catalog (what the Rego is generated from)."""
        document = dict(self.data)
        document["bundle"] = {"digest": self.digest, "scheme": DIGEST_SCHEME}
        document["reasons"] = self.catalog.as_data()
        return {DATA_ROOT: document}

    def engine_data(self) -> dict[str, Any]:
        """The data document an engine loads: base data plus the generated decisions (a copy)."""
        document = self.base_data()
        generated = generated_data(self)
        if generated is not None:
            document[DATA_ROOT]["generated"] = generated
        return document

    def engine_data_json(self) -> str:
        """The engine data as JSON; the generated decisions are serialised once per digest.

        Building a thread's engine therefore neither copies nor serialises them again: their
        cached JSON is placed inside the ``ppsgate`` object of the base data's JSON.
        """
        base = json.dumps(self.base_data(), sort_keys=True, ensure_ascii=False)
        generated = _cached_generated(self)
        if generated is None:
            return base
        # base is {"ppsgate": {...}} with at least the bundle key: insert before both braces.
        return f'{base[:-2]}, "generated": {generated[1]}}}}}'


def _package(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("package "):
            return line.removeprefix("package ").strip()
    return None


def _evaluate(engine: regorus.Engine, rule: str) -> Any:
    raw = engine.eval_rule_as_json(rule)
    return None if raw == UNDEFINED_JSON else json.loads(raw)


def _generate(bundle: PolicyBundle) -> dict[str, Any] | None:
    """Evaluate ``gateway.generate`` for every key; ``None`` when the bundle cannot be.

    A key whose entry is undefined (its neutral request is denied) or fails to evaluate is
    left out: requests for it are evaluated in full, as are all requests of a bundle whose
    generation fails.
    """
    try:
        engine = regorus.Engine()
        for module in bundle.policy_modules:
            engine.add_policy(module.path, module.text)
        engine.add_data_json(json.dumps(bundle.base_data(), sort_keys=True, ensure_ascii=False))
        inputs = _evaluate(engine, "data.gateway.generate.neutral_inputs")
        shared = _evaluate(engine, "data.gateway.generate.shared")
    except Exception:  # noqa: BLE001 - pyo3 errors: no generated data, every request in full
        logger.warning(
            "policy bundle has no generated decisions: every request is evaluated in full"
        )
        return None
    if not isinstance(inputs, list) or not isinstance(shared, dict):
        return None
    decisions: dict[str, Any] = {}
    documents: dict[str, str] = {}  # canonical JSON of a document -> its number
    for neutral in inputs:
        try:
            engine.set_input_json(json.dumps(neutral))
            entry = _evaluate(engine, "data.gateway.generate.entry")
        except Exception:  # noqa: BLE001 - this key is evaluated in full per request
            logger.warning(
                "a generated decision failed to evaluate; its requests are evaluated in full"
            )
            continue
        if entry is not None:
            text = canonical_json(entry["document"]).decode()
            entry["document"] = documents.setdefault(text, str(len(documents)))
            key = (neutral["partner_id"], neutral["purpose"], neutral["action"])
            level = decisions
            for part in key:
                level = level.setdefault(part, {})
            level[neutral["legal_basis"]] = entry
    shared_documents = {number: json.loads(text) for text, number in documents.items()}
    return {
        **shared,
        "digest": bundle.digest,
        "decisions": decisions,
        "documents": shared_documents,
    }


def _cached_generated(bundle: PolicyBundle) -> tuple[dict[str, Any], str] | None:
    """(generated data, its JSON under ``ppsgate.generated``), generated once per digest."""
    if not bundle.has_fast_path:
        return None
    with _generated_lock:
        if bundle.digest in _generated:
            return _generated[bundle.digest]
        generated = _generate(bundle)
        cached = None
        if generated is not None:
            text = json.dumps(generated, sort_keys=True, ensure_ascii=False)
            cached = (generated, text)
        if len(_generated) >= GENERATED_CACHE:
            _generated.clear()
        _generated[bundle.digest] = cached
        return cached


def generated_data(bundle: PolicyBundle) -> dict[str, Any] | None:
    """``data.ppsgate.generated`` of a bundle (a copy), or ``None`` when it has none."""
    cached = _cached_generated(bundle)
    return None if cached is None else copy.deepcopy(cached[0])


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_digest(modules: tuple[Module, ...], data: Mapping[str, Any]) -> str:
    """The bundle digest; see the module docstring for the exact byte layout."""
    digest = hashlib.sha256(f"{DIGEST_SCHEME}\n".encode())
    for module in sorted(modules, key=lambda m: m.path):
        raw = module.text.encode()
        digest.update(f"rego {module.path} {len(raw)}\n".encode())
        digest.update(raw)
        digest.update(b"\n")
    payload = canonical_json({k: v for k, v in data.items() if k not in GENERATED_KEYS})
    digest.update(f"data {len(payload)}\n".encode())
    digest.update(payload)
    return digest.hexdigest()


def default_policy_dir() -> Path:
    """The policies shipped with the package (``policies/`` in a checkout)."""
    return Path(str(resources.files("policies")))


def _read_tree(root: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(root).as_posix()
        if path.suffix in {".rego", ".json"} or relative == ".manifest":
            if path.stat().st_size > MAX_FILE_BYTES:
                raise PolicyBundleError("file is larger than 8 MiB", field=relative)
            files[relative] = path.read_bytes()
    return files


def _read_tar(archive: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                if not member.isfile():
                    continue
                name = PurePosixPath(member.name.lstrip("/"))
                if ".." in name.parts:
                    raise PolicyBundleError("archive member escapes the bundle", field=str(name))
                if member.size > MAX_FILE_BYTES:
                    raise PolicyBundleError("file is larger than 8 MiB", field=str(name))
                handle = tar.extractfile(member)
                if handle is not None:
                    files[name.as_posix()] = handle.read()
    except (OSError, tarfile.TarError) as exc:
        raise PolicyBundleError(f"cannot read archive: {exc}", field=str(archive)) from None
    return files


def _decode(name: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyBundleError("not UTF-8", field=name) from None


def _json(name: str, raw: bytes) -> Any:
    try:
        return json.loads(_decode(name, raw))
    except json.JSONDecodeError as exc:
        raise PolicyBundleError(f"invalid JSON: {exc}", field=name) from None


def _data_from_files(files: Mapping[str, bytes]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(policy data, generated keys found) from either layout."""
    if "data.json" in files:
        document = _json("data.json", files["data.json"])
        if not isinstance(document, dict) or not isinstance(document.get(DATA_ROOT), dict):
            raise PolicyBundleError(f"must hold an object under {DATA_ROOT!r}", field="data.json")
        tree: dict[str, Any] = dict(document[DATA_ROOT])
        generated = {key: tree.pop(key) for key in GENERATED_KEYS if key in tree}
        return tree, generated
    data: dict[str, Any] = {}
    for name in sorted(files):
        path = PurePosixPath(name)
        if path.parent.as_posix() == "data" and path.suffix == ".json":
            if path.stem in GENERATED_KEYS:
                raise PolicyBundleError("name is reserved for generated data", field=name)
            data[path.stem] = _json(name, files[name])
    if not data:
        raise PolicyBundleError("no data found (data/*.json or data.json)", field="data")
    return data, {}


def bundle_from_files(files: Mapping[str, bytes], *, source: str) -> PolicyBundle:
    """Build and check a bundle from its files (path -> bytes)."""
    modules = tuple(
        Module(path=name, text=_decode(name, raw))
        for name, raw in sorted(files.items())
        if name.endswith(".rego")
    )
    if not any(not module.is_test for module in modules):
        raise PolicyBundleError("no .rego policy files found", field=source)
    data, generated = _data_from_files(files)
    problems = lint_modules((m.path, m.text) for m in modules)
    if problems:
        raise PolicyBundleError("; ".join(problems), field=source)
    catalog = build_catalog((m.path, m.text) for m in modules)
    digest = compute_digest(modules, data)
    shipped_digest = generated.get("bundle", {}).get("digest") if generated else None
    if shipped_digest is not None and shipped_digest != digest:
        raise PolicyBundleError(
            "data.json names a different digest than its files have (edited after bundling?)",
            field=source,
        )
    if "reasons" in generated and generated["reasons"] != catalog.as_data():
        raise PolicyBundleError(
            "the reason catalog in data.json differs from the METADATA of the .rego files",
            field=source,
        )
    return PolicyBundle(source=source, modules=modules, data=data, digest=digest, catalog=catalog)


def load_bundle(location: Path | None = None) -> PolicyBundle:
    """Read a bundle from a directory (source tree or OPA bundle) or a ``.tar.gz``."""
    path = location if location is not None else default_policy_dir()
    if path.is_dir():
        files = _read_tree(path)
    elif path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
        files = _read_tar(path)
    else:
        raise PolicyBundleError("not a directory or .tar.gz bundle", field=str(path))
    if ".manifest" not in files and "data.json" not in files:
        files = {
            name: raw
            for name, raw in files.items()
            if name.startswith("gateway/") or name.startswith("data/")
        }
    return bundle_from_files(files, source=str(path))


def manifest(bundle: PolicyBundle) -> dict[str, Any]:
    """OPA's bundle manifest: revision = digest, roots owned by this bundle, Rego v1."""
    return {
        "revision": bundle.digest,
        "roots": ["gateway", DATA_ROOT],
        "rego_version": 1,
        "metadata": {
            "digest_scheme": DIGEST_SCHEME,
            "taxonomy_version": bundle.data.get("taxonomy", {}).get("version"),
        },
    }


def bundle_files(bundle: PolicyBundle) -> dict[str, bytes]:
    """The files of the OPA bundle, path -> bytes."""
    files = {
        ".manifest": json.dumps(manifest(bundle), indent=2, sort_keys=True).encode() + b"\n",
        "data.json": json.dumps(
            bundle.engine_data(), indent=2, sort_keys=True, ensure_ascii=False
        ).encode()
        + b"\n",
    }
    for module in bundle.modules:
        files[module.path] = module.text.encode()
    return files


def write_bundle(bundle: PolicyBundle, out: Path) -> Path:
    """Write an OPA bundle to a directory, or to a ``.tar.gz`` when ``out`` ends so."""
    files = bundle_files(bundle)
    if out.name.endswith((".tar.gz", ".tgz")):
        out.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(out, "w:gz") as tar:
            for name in sorted(files):
                info = tarfile.TarInfo(name=f"/{name}")
                info.size = len(files[name])
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(files[name]))
        return out
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise PolicyBundleError("exists and is not an empty directory", field=str(out))
    for name, raw in files.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)
    return out
