"""``ppsgate policy``: test, explain, bundle, register and diff the Rego policies.

These are the help desk's and privacy officers' tools before the console exists. Every
command works on the configured policies (``PPSGATE_POLICY_DIR``, the shipped policies when
unset) or, with ``--policy-dir``, on another bundle; ``test``, ``explain`` and
``register`` go through the OPA server when ``PPSGATE_OPA_URL`` is set.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gateway.cli import policy_governance
from gateway.config import Settings, load_settings
from gateway.errors import InvalidRequestError
from gateway.policy.bundle import (
    DATA_ROOT,
    GENERATED_KEYS,
    PolicyBundle,
    load_bundle,
    write_bundle,
)
from gateway.policy.decision import Action, DecisionRequest, Disclosure, PolicyEngine
from gateway.policy.document import decision_json
from gateway.policy.dpia import dpia_inputs
from gateway.policy.dpia import render_markdown as render_dpia
from gateway.policy.errors import PolicyBundleError, PolicyEngineError
from gateway.policy.factory import build_policy_engine
from gateway.policy.opa_engine import OpaServerEngine
from gateway.policy.register import render_csv, render_markdown
from gateway.policy.rego_tests import (
    Outcome,
    RegoTest,
    RegoTestResult,
    discover,
    embedded_evaluator,
    run_tests,
)
from gateway.policy.regorus_engine import RegorusEngine, engine_error_text
from gateway.policy.table import diff_engines, load_table

app = typer.Typer(
    help="Policies: run their tests, explain a decision, export a bundle or the Art. 30 "
    "register, diff two versions.",
    no_args_is_help=True,
)
out = Console(highlight=False)

PolicyDir = Annotated[
    Path | None,
    typer.Option(
        "--policy-dir",
        help="Bundle directory or .tar.gz (default: PPSGATE_POLICY_DIR or the shipped policies).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _settings(policy_dir: Path | None) -> Settings:
    if policy_dir is None:
        return load_settings()
    return load_settings(policy_dir=policy_dir, opa_url="")


def _engine(settings: Settings) -> PolicyEngine:
    engine = build_policy_engine(settings)
    if isinstance(engine, RegorusEngine) and engine.problem:
        out.print(f"[yellow]warning:[/] the policy engine denies everything: {engine.problem}")
    return engine


def _run_embedded(bundle: PolicyBundle, tests: list[RegoTest]) -> list[RegoTestResult]:
    # The engine lives only in this frame, so it is freed here, on this thread (regorus
    # engines are unsendable), and never kept alive by the traceback of a later exit.
    try:
        evaluator = embedded_evaluator(bundle)
    except Exception as exc:  # noqa: BLE001 - a bundle that does not compile
        raise PolicyBundleError(engine_error_text(exc), field=bundle.source) from None
    return run_tests(tests, evaluator)


@app.command("test")
def run_policy_tests(policy_dir: PolicyDir = None) -> None:
    """Run every test_* rule of the *_test.rego files through the configured engine."""
    settings = _settings(policy_dir)
    bundle = load_bundle(settings.policy_dir)
    tests = discover(bundle)
    if settings.opa_url:
        remote = OpaServerEngine(settings.opa_url, timeout_seconds=settings.policy_timeout_seconds)
        where = f"OPA at {remote.url}"
        results = run_tests(tests, remote.evaluate)
    else:
        where = "embedded regorus"
        results = _run_embedded(bundle, tests)
    for result in results:
        style = {"pass": "green", "fail": "red", "error": "red"}[result.outcome]
        detail = f" — {result.detail}" if result.detail else ""
        out.print(
            f"[{style}]{result.outcome.upper():5}[/] {result.test.package}.{result.test.name} "
            f"[dim]({result.test.path}:{result.test.line})[/]{detail}"
        )
    passed = sum(result.outcome is Outcome.PASSED for result in results)
    failed = len(results) - passed
    out.print(f"{where}, bundle {bundle.digest[:12]}: {passed} passed, {failed} failed")
    if failed or not results:
        raise typer.Exit(1)


def _request(
    *,
    partner: str,
    action: str,
    purpose: str,
    legal_basis: str | None,
    kinds: list[str],
    categories: list[str],
    batch_size: int,
    disclose: list[str],
    status: str | None,
) -> DecisionRequest:
    try:
        parsed_action = Action(action)
    except ValueError:
        known = ", ".join(a.value for a in Action)
        raise InvalidRequestError(f"unknown action; use one of {known}", field="--action") from None
    try:
        requested = frozenset(Disclosure(level) for level in disclose)
    except ValueError:
        known = ", ".join(d.value for d in Disclosure)
        raise InvalidRequestError(
            f"unknown level; use one of {known}", field="--disclose"
        ) from None
    return DecisionRequest(
        action=parsed_action,
        partner_id=partner,
        purpose=purpose,
        legal_basis=legal_basis,
        kinds=tuple(kinds),
        categories=tuple(categories),
        batch_size=batch_size,
        context={"partner_status": status} if status else {},
        disclosure_requested=requested,
    )


@app.command("explain")
def explain(  # noqa: PLR0917 - typer maps each option to one parameter
    partner: Annotated[str, typer.Option(help="Partner id, e.g. telecom-a.")],
    action: Annotated[str, typer.Option(help="Action, e.g. match:query.")],
    purpose: Annotated[str, typer.Option(help="Purpose id, e.g. spoofing_prevention.")],
    legal_basis: Annotated[
        str | None, typer.Option(help="Legal basis claimed, e.g. art6_1_f.")
    ] = None,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Identifier kind (repeatable).")
    ] = None,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="Fraud category (repeatable).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Identifiers in the request.")] = 1,
    disclose: Annotated[
        list[str] | None,
        typer.Option("--disclose", help="Disclosure level asked for, e.g. reporter (repeatable)."),
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="Live partner status to assume (active, suspended).")
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the reason texts: en or nl.")] = "en",
    as_json: JsonOption = False,
    policy_dir: PolicyDir = None,
) -> None:
    """Decide one request and show why: allow or deny, reasons, articles, disclosure."""
    if lang not in {"en", "nl"}:
        raise InvalidRequestError("must be en or nl", field="--lang")
    request = _request(
        partner=partner,
        action=action,
        purpose=purpose,
        legal_basis=legal_basis,
        kinds=kind or [],
        categories=category or [],
        batch_size=batch_size,
        disclose=disclose or [],
        status=status,
    )
    decision = _engine(_settings(policy_dir)).decide(request)
    if as_json:
        out.print_json(json.dumps(decision_json(decision, request)))
        return
    verdict = "[bold green]ALLOW[/]" if decision.allow else "[bold red]DENY[/]"
    out.print(f"{verdict}  {partner} {action} for {purpose} on {legal_basis or '(no basis)'}")
    table = Table(show_lines=True)
    table.add_column("code", no_wrap=True)
    table.add_column("reason")
    table.add_column("rests on")
    for reason in decision.reasons:
        text = reason.text_nl if lang == "nl" else reason.text_en
        table.add_row(reason.code, text, "\n".join(reason.basis))
    out.print(table)
    if decision.allow:
        levels = [d.value for d in Disclosure if d in decision.disclosure]
        out.print(f"disclosure: {', '.join(levels) or 'none'}")
        if decision.corroboration is not None:
            c = decision.corroboration
            out.print(f"corroboration: {c.min_reports} reports from {c.min_reporters} partner(s)")
        out.print(f"retention: {decision.retention_days} days")
        if decision.obligations:
            out.print(f"obligations: {', '.join(decision.obligations)}")
    out.print(f"[dim]policy bundle {decision.policy_digest}[/]")


@app.command("bundle")
def bundle(
    out_path: Annotated[
        Path, typer.Option("--out", help="Directory (new or empty) or a .tar.gz file.")
    ],
    policy_dir: PolicyDir = None,
) -> None:
    """Write an OPA bundle (.manifest, data.json, *.rego) that OPA loads as it is."""
    settings = _settings(policy_dir)
    loaded = load_bundle(settings.policy_dir)
    written = write_bundle(loaded, out_path)
    out.print(f"bundle {loaded.digest} written to {written}")


def _live_data(settings: Settings) -> tuple[dict[str, Any], str]:
    if settings.opa_url:
        remote = OpaServerEngine(settings.opa_url, timeout_seconds=settings.policy_timeout_seconds)
        document = remote.evaluate(f"data.{DATA_ROOT}")
        if not isinstance(document, dict) or not isinstance(document.get("bundle"), dict):
            raise PolicyEngineError(f"OPA at {remote.url} serves no ppsgate bundle data")
        digest = str(document["bundle"].get("digest"))
        return {k: v for k, v in document.items() if k not in GENERATED_KEYS}, digest
    loaded = load_bundle(settings.policy_dir)
    return dict(loaded.data), loaded.digest


def _emit(text: str, out_file: Path | None, what: str) -> None:
    """Write ``text`` to ``out_file``, or to standard output without one."""
    if out_file is None:
        typer.echo(text, nl=False)
        return
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidRequestError(f"cannot write: {exc.strerror}", field="--out") from None
    out.print(f"{what} written to {out_file}")


@app.command("register")
def register(
    fmt: Annotated[str, typer.Option("--format", help="md or csv.")] = "md",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: standard output).")
    ] = None,
    policy_dir: PolicyDir = None,
) -> None:
    """Render the GDPR Art. 30 record of processing activities from the live policy data."""
    if fmt not in {"md", "csv"}:
        raise InvalidRequestError("must be md or csv", field="--format")
    data, digest = _live_data(_settings(policy_dir))
    text = (
        render_csv(data)
        if fmt == "csv"
        else render_markdown(data, digest=digest, generated_at=datetime.now(UTC).date().isoformat())
    )
    _emit(text, out_file, "register")


@app.command("dpia")
def dpia(
    fmt: Annotated[str, typer.Option("--format", help="md or json.")] = "md",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: standard output).")
    ] = None,
    policy_dir: PolicyDir = None,
) -> None:
    """Generate the joint DPIA's inputs (kinds, purposes, thresholds, retention) from the
    live policy data."""
    if fmt not in {"md", "json"}:
        raise InvalidRequestError("must be md or json", field="--format")
    data, digest = _live_data(_settings(policy_dir))
    inputs = dpia_inputs(data, digest=digest)
    text = render_dpia(inputs) if fmt == "md" else json.dumps(inputs, indent=2) + "\n"
    _emit(text, out_file, "DPIA inputs")


@app.command("diff")
def diff(
    before: Annotated[Path, typer.Argument(help="Bundle A (directory or .tar.gz).")],
    after: Annotated[Path, typer.Argument(help="Bundle B (directory or .tar.gz).")],
    table_file: Annotated[
        Path | None, typer.Option("--table", help="Decision table (default: the shipped one).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show which decisions of the decision table change between two bundle versions."""
    engines: list[RegorusEngine] = []
    for path in (before, after):
        engine = RegorusEngine(load_bundle(path))
        if engine.problem:
            raise PolicyBundleError(engine.problem, field=str(path))
        engines.append(engine)
    cases = load_table(table_file)
    changes = diff_engines(engines[0], engines[1], cases)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "before": engines[0].digest,
                    "after": engines[1].digest,
                    "cases": len(cases),
                    "changed": [
                        {
                            "case": change.case.name,
                            "before": decision_json(change.before),
                            "after": decision_json(change.after),
                        }
                        for change in changes
                    ],
                }
            )
        )
        return
    out.print(
        f"A {engines[0].digest[:12]} -> B {engines[1].digest[:12]}: "
        f"{len(changes)} of {len(cases)} decisions change"
    )
    if not changes:
        return
    table = Table("case", "A", "B")
    for change in changes:
        table.add_row(change.case.name, _summary(change.before), _summary(change.after))
    out.print(table)


def _summary(decision: Any) -> str:
    verdict = "allow" if decision.allow else "deny"
    levels = ", ".join(d.value for d in Disclosure if d in decision.disclosure)
    codes = ", ".join(decision.reason_codes) if not decision.allow else ""
    detail = f" [{levels}]" if decision.allow else f": {codes}"
    return f"{verdict}{detail}"


app.command("propose")(policy_governance.propose)
app.command("approve")(policy_governance.approve)
app.command("activate")(policy_governance.activate)
app.command("history")(policy_governance.history)
