"""``ppsgate audit``: verify the log, print proofs, sign checkpoints, run a witness.

``verify`` needs nothing but the log's public key and its URL (or an export file): anyone
checks the hash-level tree from the public leaf hashes, and an audit reader who gives their
client's credentials (``--client-id``, ``--keystore``) also has the contents they may read
recomputed (the partnership's DPO: every entry). ``proof --url`` fetches a receipt, which
holds the entry, so it needs those credentials too. Neither needs the gateway's database.
``checkpoint``, ``export`` and ``proof`` without ``--url`` are operator commands that read
the configured database.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console

from audit.checkpoint import Checkpoint
from audit.cosignature import generate_cosigner, parse_cosigner_key
from audit.errors import AuditError, VerificationError, WitnessError
from audit.export import ExportFileSource
from audit.http_source import HttpLogSource
from audit.note import Signer, Verifier, generate_signer, parse_verifier_key, split_note
from audit.receipt import Receipt, verify_receipt
from audit.verify import LogSource, LogVerifier, read_monitor_state, write_monitor_state
from audit.witness import Witness, add_checkpoint_request
from gateway.audit_trail import queries
from gateway.audit_trail.errors import AuditVerificationError
from gateway.audit_trail.keys import load_key_file, write_key_file
from gateway.audit_trail.service import build_audit_trail
from gateway.audit_trail.store import format_time
from gateway.cli.reader_credentials import reader_auth
from gateway.datadir import operator_settings
from gateway.db import build_engine, build_session_factory, transaction
from gateway.errors import ConfigurationError, InvalidRequestError

app = typer.Typer(help="Audit log: verify, proofs, checkpoints, witness.", no_args_is_help=True)
witness_app = typer.Typer(
    help="Witness a log: keep its last checkpoint, cosign only consistent successors.",
    no_args_is_help=True,
)
app.add_typer(witness_app, name="witness")

TIMEOUT_SECONDS = 30.0


def make_client(url: str) -> httpx.Client:
    """The HTTP client used against a gateway (tests substitute an in-process one)."""
    return httpx.Client(base_url=url.rstrip("/"), timeout=TIMEOUT_SECONDS)


ClientIdOption = Annotated[
    str | None,
    typer.Option(
        "--client-id",
        help="OAuth client id of an audit reader (scope audit:read), to read entry contents.",
    ),
]
KeystoreOption = Annotated[
    Path | None,
    typer.Option(
        "--keystore",
        help="That client's connector key store (from `ppsgate-connector keys init`).",
    ),
]
PassphraseOption = Annotated[
    str | None,
    typer.Option(
        "--passphrase",
        envvar="PPSGATE_CONNECTOR_PASSPHRASE",
        hidden=True,
        help="Key store passphrase (prefer the environment variable).",
    ),
]


@contextmanager
def reader_client(
    url: str, client_id: str | None, keystore: Path | None, passphrase: str | None
) -> Iterator[tuple[httpx.Client, bool]]:
    """A client for ``url``; with credentials it reads as that audit reader (second item)."""
    if (client_id is None) != (keystore is None):
        raise InvalidRequestError(
            "give both --client-id and --keystore, or neither", field="--keystore"
        )
    with make_client(url) as client:
        if client_id is None or keystore is None:
            yield client, False
            return
        with reader_auth(url, client_id, keystore, passphrase) as auth:
            client.auth = auth
            yield client, True


def parse_key(value: str, option: str) -> Verifier:
    try:
        return parse_verifier_key(value.strip())
    except AuditError as exc:
        raise InvalidRequestError(exc.reason, field=option) from None


def _key_argument(value: str) -> str:
    """A key given inline or as @file."""
    if value.startswith("@"):
        try:
            return Path(value[1:]).read_text("utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidRequestError(f"cannot read {value[1:]}: {exc}", field="key") from None
    return value


def _read(path: Path, option: str) -> str:
    """A file's text, or a clear error naming the option."""
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(f"cannot read {path}: {exc}", field=option) from None


PublicKeyOption = Annotated[
    str,
    typer.Option(
        "--public-key",
        help="The log's verifier key <origin>+<id>+<base64>, or @FILE holding it.",
    ),
]


@app.command("verify")
def verify_command(
    *,
    public_key: PublicKeyOption,
    url: Annotated[str | None, typer.Option(help="Gateway base URL to verify.")] = None,
    export: Annotated[Path | None, typer.Option(help="JSONL export file to verify.")] = None,
    state: Annotated[
        Path | None,
        typer.Option(help="Monitor state file: the last verified checkpoint is kept here."),
    ] = None,
    full: Annotated[bool, typer.Option(help="Recheck every entry, not only new ones.")] = False,
    witness: Annotated[
        list[str] | None, typer.Option(help="Trusted witness key (repeatable).")
    ] = None,
    require_cosigner: Annotated[
        list[str] | None, typer.Option(help="Witness whose cosignature is required.")
    ] = None,
    client_id: ClientIdOption = None,
    keystore: KeystoreOption = None,
    passphrase: PassphraseOption = None,
) -> None:
    """Recompute every leaf and the root, check signatures and consistency with --state.

    Anyone checks the tree from the public leaf hashes; with an audit reader's credentials
    the entries that reader may read are recomputed from their contents as well.
    """
    if (url is None) == (export is None):
        raise InvalidRequestError("give exactly one of --url or --export", field="--url")
    log_key = parse_key(_key_argument(public_key), "--public-key")
    witnesses = [parse_key(_key_argument(w), "--witness") for w in witness or []]
    verifier = LogVerifier(
        log_key, witnesses=witnesses, required_cosigners=list(require_cosigner or [])
    )
    console = Console()
    previous = read_monitor_state(state, verifier.origin) if state else None
    try:
        if export is not None:
            _read(export, "--export")
            file_source = ExportFileSource(export)
            if file_source.header.filtered:
                checkpoint, count = file_source.verify_filtered(log_key)
                console.print(
                    f"OK: {count} exported entries are in {verifier.origin} at size "
                    f"{checkpoint.size} (each by its inclusion proof)"
                )
                return
            source: LogSource = file_source
            report, new_state = verifier.verify(source, previous, full=full)
        else:
            assert url is not None
            with reader_client(url, client_id, keystore, passphrase) as (client, contents):
                source = HttpLogSource(client, contents=contents)
                report, new_state = verifier.verify(source, previous, full=full)
    except VerificationError as exc:
        raise AuditVerificationError(exc.reason, index=exc.index) from None
    except AuditError as exc:
        raise AuditVerificationError(exc.reason) from None
    if state is not None:
        write_monitor_state(state, new_state)
    since = (
        f" (extends the verified size {report.previous_size})"
        if report.previous_size is not None
        else ""
    )
    cosigned = f"; cosigned by {', '.join(report.cosigners)}" if report.cosigners else ""
    hashes = f", {report.leaves_checked} by leaf hash" if report.leaves_checked else ""
    console.print(
        f"OK: {report.origin} size {report.size}{since}; {report.entries_checked} entries "
        f"recomputed from their contents{hashes}, {report.checkpoints_checked} checkpoints "
        f"checked, {report.details_checked} detail records matched{cosigned}"
    )
    if state is None:
        console.print("note: without --state a later rollback of the log cannot be detected")


@app.command("proof")
def proof_command(
    *,
    entry: Annotated[int, typer.Option(min=0, help="Leaf index (sequence number).")],
    url: Annotated[
        str | None, typer.Option(help="Gateway URL; without it the database is read.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the receipt here.")] = None,
    client_id: ClientIdOption = None,
    keystore: KeystoreOption = None,
    passphrase: PassphraseOption = None,
) -> None:
    """Print a receipt (C2SP tlog-proof): entry, inclusion proof and signed checkpoint.

    With --url it needs an audit reader's credentials: a receipt holds the entry.
    """
    if url is not None:
        with reader_client(url, client_id, keystore, passphrase) as (client, _):
            response = client.get("/v1/audit/receipt", params={"leaf_index": entry})
        if response.status_code != 200:
            raise InvalidRequestError(
                f"the gateway answered {response.status_code}: {response.text[:300]}",
                field="--entry",
            )
        text = response.text
    else:
        settings = operator_settings()
        trail = build_audit_trail(settings)
        engine = build_engine(settings)
        try:
            with transaction(build_session_factory(engine)) as session:
                text = trail.receipt(session, entry).encode()
        finally:
            engine.dispose()
    if out is not None:
        out.write_text(text, "utf-8")
    else:
        sys.stdout.write(text)


@app.command("check-receipt")
def check_receipt_command(
    receipt: Annotated[Path, typer.Argument(help="A .tlog-proof receipt file.")],
    public_key: PublicKeyOption,
    witness: Annotated[
        list[str] | None, typer.Option(help="Trusted witness key (repeatable).")
    ] = None,
) -> None:
    """Check a receipt offline: the entry in it is at its index under a signed checkpoint."""
    log_key = parse_key(_key_argument(public_key), "--public-key")
    witnesses = [parse_key(_key_argument(w), "--witness") for w in witness or []]
    try:
        parsed = Receipt.parse(_read(receipt, "RECEIPT"))
        if parsed.extra is None:
            raise AuditVerificationError("the receipt does not carry its entry (extra line)")
        signed = verify_receipt(parsed, parsed.extra, log_key, witnesses=witnesses)
    except AuditError as exc:
        raise AuditVerificationError(exc.reason) from None
    cosigned = f", cosigned by {', '.join(signed.cosigners)}" if signed.cosigners else ""
    Console().print(
        f"OK: entry {parsed.index} is in {signed.checkpoint.origin} at size "
        f"{signed.checkpoint.size}{cosigned}"
    )


@app.command("checkpoint")
def checkpoint_command() -> None:
    """Sign a checkpoint of the configured log now (if it grew since the last one)."""
    settings = operator_settings()
    trail = build_audit_trail(settings)
    engine = build_engine(settings)
    try:
        with transaction(build_session_factory(engine)) as session:
            published = trail.sign_checkpoint(session)
    finally:
        engine.dispose()
    if published is None:
        Console().print("no new entries since the last checkpoint")
        return
    sys.stdout.write(published.note)


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option(help="Where to write the JSONL export.")],
    details: Annotated[bool, typer.Option(help="Include retained detail records.")] = False,
) -> None:
    """Export the whole log (up to its newest checkpoint) for offline verification."""
    settings = operator_settings()
    trail = build_audit_trail(settings)
    engine = build_engine(settings)
    try:
        with (
            transaction(build_session_factory(engine)) as session,
            out.open("w", encoding="utf-8") as handle,
        ):
            for line in queries.export_jsonl(
                session,
                queries.AuditFilter(),
                scope=None,
                origin=trail.origin,
                exported_at=format_time(trail.clock.now()),
                include_details=details,
            ):
                handle.write(line)
    finally:
        engine.dispose()
    Console().print(f"wrote {out}")


@app.command("keygen")
def keygen_command(
    origin: Annotated[str, typer.Option(help="Log origin, e.g. gateway.example.nl/audit.")],
    out: Annotated[Path, typer.Option(help="Key file to create (mode 0600).")],
) -> None:
    """Create a checkpoint signing key; prints the public verifier key to publish."""
    try:
        signer = generate_signer(origin)
    except AuditError as exc:
        raise ConfigurationError(exc.reason, field="--origin") from None
    write_key_file(out, signer)
    sys.stdout.write(signer.verifier.vkey + "\n")


@app.command("public-key")
def public_key_command() -> None:
    """Print the configured log's verifier key."""
    sys.stdout.write(build_audit_trail(operator_settings()).verifier_key + "\n")


WitnessKeyOption = Annotated[
    Path, typer.Option("--key-file", help="The witness's own key file (from witness keygen).")
]
LogKeyOption = Annotated[
    str, typer.Option("--log-key", help="The log's verifier key, or @FILE holding it.")
]
StateOption = Annotated[
    Path, typer.Option("--state", help="Witness state: the last checkpoint cosigned per log.")
]


def _witness(key_file: Path, log_key: str, state: Path) -> tuple[Witness, Verifier]:
    signer: Signer = load_key_file(key_file, setting="--key-file")
    try:
        parse_cosigner_key(signer.signer_key)
    except AuditError as exc:
        raise ConfigurationError(exc.reason, field="--key-file") from None
    log = parse_key(_key_argument(log_key), "--log-key")
    return Witness(signer, {log.name: log}, state), log


def _refused(exc: WitnessError) -> AuditVerificationError:
    latest = f" (last cosigned size {exc.latest_size})" if exc.latest_size is not None else ""
    return AuditVerificationError(f"witness refuses ({exc.status}): {exc.reason}{latest}")


@witness_app.command("keygen")
def witness_keygen_command(
    name: Annotated[str, typer.Option(help="Witness name, e.g. bank-a.example/witness.")],
    out: Annotated[Path, typer.Option(help="Key file to create (mode 0600).")],
) -> None:
    """Create a witness (cosignature/v1) key; prints the verifier key to give the log."""
    try:
        signer = generate_cosigner(name)
    except AuditError as exc:
        raise ConfigurationError(exc.reason, field="--name") from None
    write_key_file(out, signer)
    sys.stdout.write(signer.verifier.vkey + "\n")


@witness_app.command("run")
def witness_run_command(
    url: Annotated[str, typer.Option(help="Gateway base URL.")],
    key_file: WitnessKeyOption,
    log_key: LogKeyOption,
    state: StateOption,
    submit: Annotated[
        bool, typer.Option(help="Send the cosignature back to the gateway to publish.")
    ] = True,
) -> None:
    """Fetch the newest checkpoint, check it extends the last one cosigned, cosign it."""
    witness, log = _witness(key_file, log_key, state)
    with make_client(url) as client:
        source = HttpLogSource(client)
        try:
            note = source.latest_checkpoint()
            size = Checkpoint.parse(split_note(note)[0]).size
            seen = witness.latest(log.name)
            old = seen.size if seen else 0
            if size < old:
                raise WitnessError(
                    f"the log's checkpoint has size {size}, smaller than the cosigned {old}: "
                    "the log was truncated or rolled back",
                    status=409,
                    latest_size=old,
                )
            proof = source.consistency_proof(old, size) if 0 < old < size else []
            line = witness.add_checkpoint(add_checkpoint_request(old, proof or [], note))
        except WitnessError as exc:
            raise _refused(exc) from None
        except AuditError as exc:
            raise AuditVerificationError(exc.reason) from None
        console = Console()
        console.print(f"cosigned {log.name} at size {size}")
        sys.stdout.write(line)
        if submit:
            response = client.post(
                "/v1/audit/cosignatures", params={"tree_size": size}, content=line.encode()
            )
            if response.status_code != 200:
                raise InvalidRequestError(
                    f"the gateway refused the cosignature ({response.status_code}): "
                    f"{response.text[:300]}",
                    field="--submit",
                )
            console.print("the gateway publishes the cosignature")


@witness_app.command("add-checkpoint")
def witness_add_checkpoint_command(
    key_file: WitnessKeyOption,
    log_key: LogKeyOption,
    state: StateOption,
    request: Annotated[
        Path | None, typer.Argument(help="C2SP tlog-witness request body (default: stdin).")
    ] = None,
) -> None:
    """Process one C2SP tlog-witness add-checkpoint request; prints the cosignature line."""
    witness, _ = _witness(key_file, log_key, state)
    body = _read(request, "REQUEST") if request is not None else sys.stdin.read()
    try:
        sys.stdout.write(witness.add_checkpoint(body))
    except WitnessError as exc:
        raise _refused(exc) from None
