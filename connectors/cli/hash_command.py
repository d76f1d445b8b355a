"""``ppsgate-connector hash``: canonicalise and tokenise a file of identifiers.

Input is CSV (header with ``value``, optional ``type``, other columns carried) or JSON Lines;
output is JSON Lines, one line per accepted row in input order; rejected rows go to a CSV
with ``row``, ``reason`` and the carried columns, never the value, so it can be shared.
Rows are processed in chunks: memory stays flat, and a tokeniser that batches (spec v2) gets
whole chunks. With ``--workers N`` (default: one per core) large inputs are canonicalised and
hashed by N worker processes while this one reads and writes, in input order. Outputs are
written to a temporary file beside the target and renamed at the end, so a run that fails
half-way leaves no half-written file that looks complete.

:func:`hash_file` is the whole pipeline (the benchmark calls it too); :func:`hash_command`
adds options, key loading, the progress bar and the summary.
"""

from __future__ import annotations

import contextlib
import csv
import os
import stat
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from connectors.canonical import DEFAULT_REGION, Kind
from connectors.canonical.phone import check_region
from connectors.cli.hash_chunks import (
    ENCODE,
    Carried,
    ChunkResult,
    carried_formatter,
    process_chunk,
)
from connectors.cli.hash_io import CsvReader, open_reader
from connectors.cli.hash_workers import HashPool
from connectors.cli.voprf_options import VoprfOptions, spec_label, with_voprf_options
from connectors.errors import InputFileError, OutputFileError, UsageError
from connectors.hashing import (
    HmacTokeniserV1,
    RowCanonicaliser,
    Tokeniser,
    TypeKeys,
    parse_master_salt_hex,
)
from connectors.typekeys import DEFAULT_TYPEKEYS, load_typekeys

#: Rows canonicalised before one call to the tokeniser and one write (one message to a worker).
CHUNK_ROWS = 2048

#: Smallest input for which ``--workers`` starts worker processes (about 100,000 rows).
PARALLEL_MIN_BYTES = 4_000_000


@dataclass
class HashSummary:
    """What a run did: counts per type and per rejection reason, and how long it took."""

    accepted: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    #: Worker processes used (1: everything ran in this process) and their CPU seconds.
    workers: int = 1
    worker_cpu_seconds: float = 0.0
    worker_peak_rss_mb: float = 0.0

    @property
    def accepted_total(self) -> int:
        return sum(self.accepted.values())

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    @property
    def rows(self) -> int:
        return self.accepted_total + self.rejected_total

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


class _RejectsWriter:
    """Rejects CSV: ``row``, ``reason``, then the carried columns (or one JSON ``carried``)."""

    def __init__(self, handle: TextIO | None, carried_names: tuple[str, ...] | None) -> None:
        self._writer = csv.writer(handle, lineterminator="\n") if handle is not None else None
        self._fixed_columns = carried_names is not None
        if self._writer is not None:
            carried_header = carried_names if carried_names is not None else ("carried",)
            self._writer.writerow(["row", "reason", *carried_header])

    def write(self, row: int, reason: str, carried: Carried) -> None:
        if self._writer is None:
            return
        if self._fixed_columns:
            self._writer.writerow([row, reason, *carried])
        else:
            text = ENCODE(carried) if carried else ""
            self._writer.writerow([row, reason, text])


def hash_file(
    input_path: Path,
    *,
    tokeniser: Tokeniser,
    out: TextIO,
    rejects: TextIO | None = None,
    region: str = DEFAULT_REGION,
    on_progress: Callable[[int], None] | None = None,
    workers: int = 1,
    parallel_min_bytes: int = PARALLEL_MIN_BYTES,
) -> HashSummary:
    """Canonicalise, tokenise and write every row of ``input_path``; return the counts.

    ``on_progress`` receives the number of input bytes consumed so far after each chunk.
    File-level problems raise :class:`InputFileError`; row-level ones are rejects. With
    ``workers`` > 1, a spec v1 tokeniser and an input of at least ``parallel_min_bytes``,
    chunks are processed by worker processes (:mod:`connectors.cli.hash_workers`); the
    output is the same byte for byte, only made sooner.
    """
    started = time.perf_counter()
    summary = HashSummary()
    try:
        handle = input_path.open("rb")
    except OSError as exc:
        raise InputFileError(f"cannot open {input_path}: {exc.strerror}") from None
    with handle:
        lines, reader = open_reader(handle, input_path)
        carried_names = reader.carried_names if isinstance(reader, CsvReader) else None
        reject_writer = _RejectsWriter(rejects, carried_names)
        rows = reader.rows()
        chunks = iter(lambda: list(islice(rows, CHUNK_ROWS)), [])
        pool = _pool_for(input_path, tokeniser, workers, parallel_min_bytes, region, carried_names)
        if pool is None:
            canonicalise = RowCanonicaliser(tokeniser.kinds, region=region)
            format_carried = carried_formatter(carried_names)
            results: Iterator[ChunkResult] = (
                process_chunk(
                    chunk,
                    canonicalise=canonicalise,
                    tokeniser=tokeniser,
                    format_carried=format_carried,
                )
                for chunk in chunks
            )
        else:
            results = pool.map(chunks)
        try:
            rejected = summary.rejected
            for result in results:
                out.write(result.text)
                for row, reason, carried in result.rejects:
                    rejected[reason] += 1
                    reject_writer.write(row, reason, carried)
                summary.accepted.update(result.accepted)
                if on_progress is not None:
                    on_progress(lines.bytes_read)
        finally:
            if pool is not None:
                pool.close()
                summary.workers = workers
                summary.worker_cpu_seconds = pool.worker_cpu_seconds
                summary.worker_peak_rss_mb = pool.worker_peak_rss_mb
    summary.seconds = time.perf_counter() - started
    return summary


def _pool_for(  # noqa: PLR0917 - private helper, called once
    input_path: Path,
    tokeniser: Tokeniser,
    workers: int,
    min_bytes: int,
    region: str,
    carried_names: tuple[str, ...] | None,
) -> HashPool | None:
    """Worker processes when they pay off: several asked for, v1 keys, a large enough input.

    Below ``min_bytes`` starting the processes costs more than it saves. Other tokenisers
    (v2 talks to key servers from its own threads) keep the single-process path.
    """
    if workers <= 1 or not isinstance(tokeniser, HmacTokeniserV1):
        return None
    try:
        size = input_path.stat().st_size
    except OSError:
        return None
    if size < min_bytes:
        return None
    return HashPool(tokeniser.keys, workers=workers, region=region, carried_names=carried_names)


def default_workers() -> int:
    """``--workers`` default: one process per CPU core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def load_salt_file(path: Path, console: Console) -> bytes:
    """Read the master salt; warn when other users can read the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read salt file {path}: {exc.strerror}") from None
    salt = parse_master_salt_hex(raw.decode("ascii", errors="replace"))
    with contextlib.suppress(OSError):
        if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            console.print(
                f"[yellow]warning:[/] salt file {path} is accessible to other users; chmod 600 it",
                highlight=False,
            )
    return salt


@contextlib.contextmanager
def _atomic_output(path: Path | None, default: TextIO | None) -> Iterator[TextIO | None]:
    """Write to ``path.partial`` and rename on success; delete it on failure."""
    if path is None:
        yield default
        return
    partial = path.with_name(path.name + ".partial")
    try:
        handle = partial.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise OutputFileError(f"cannot create {partial}: {exc.strerror}") from None
    try:
        with handle:
            yield handle
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _print_summary(
    console: Console,
    summary: HashSummary,
    *,
    epoch: int,
    out: Path | None,
    rejects: Path | None,
    spec: str = "v1",
) -> None:
    table = Table(title="ppsgate-connector hash", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("rows read", f"{summary.rows:,}")
    table.add_row("accepted", f"{summary.accepted_total:,}")
    for kind in Kind:
        if summary.accepted[kind.value]:
            table.add_row(f"  {kind.value}", f"{summary.accepted[kind.value]:,}")
    table.add_row("rejected", f"{summary.rejected_total:,}")
    for reason, count in summary.rejected.most_common():
        table.add_row(f"  {reason}", f"{count:,}")
    table.add_row("epoch", str(epoch))
    table.add_row("spec", spec)
    table.add_row("time", f"{summary.seconds:.2f} s")
    table.add_row("rows/s", f"{summary.rows_per_second:,.0f}")
    table.add_row("tokens written to", str(out) if out is not None else "standard output")
    if rejects is not None:
        table.add_row("rejects written to", str(rejects))
    console.print(table)


@with_voprf_options(connection=True)
def hash_command(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help="CSV (header with 'value') or JSON Lines.")
    ],
    *,
    salt_file: Annotated[
        Path | None,
        typer.Option(
            help="File holding an epoch's 32-byte master salt as 64 hex characters (testing "
            "and migration; normally the keys come from the type-key store)."
        ),
    ] = None,
    epoch: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Salt epoch: the store's keys of this epoch (default: the active one); with "
            "--salt-file the tag of the tokens (default 1).",
        ),
    ] = None,
    typekeys: Annotated[
        Path,
        typer.Option(
            "--typekeys",
            envvar="PPSGATE_CONNECTOR_TYPEKEYS",
            help="Type-key store filled by `ppsgate-connector keys fetch`.",
        ),
    ] = DEFAULT_TYPEKEYS,
    passphrase: Annotated[
        str | None,
        typer.Option(
            "--passphrase",
            envvar="PPSGATE_CONNECTOR_PASSPHRASE",
            hidden=True,
            help="Passphrase of an encrypted type-key store (prefer the environment variable).",
        ),
    ] = None,
    region: Annotated[
        str, typer.Option(help="Default region for national phone numbers.")
    ] = DEFAULT_REGION,
    out: Annotated[
        Path | None,
        typer.Option(help="JSON Lines output (default: standard output)."),
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="CSV of rejected rows: row, reason, carried columns (never the value)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            show_default=False,
            help="Processes canonicalising and hashing in parallel for inputs of 4 MB or more "
            "(default: the number of CPU cores; 1 keeps everything in one process). The "
            "output is the same whatever the number.",
        ),
    ] = None,
    voprf: VoprfOptions,
) -> None:
    """Canonicalise and hash identifiers (IBAN, phone, e-mail, domain) into tokens."""
    console = Console(stderr=True)
    region_code = check_region(region)
    if out is not None and rejects is not None and out.resolve() == rejects.resolve():
        raise UsageError("--out and --rejects must be different files", field="rejects")
    tokeniser: Tokeniser | None = None  # --mode voprf: the evaluators', opened with the outputs
    if salt_file is not None and not voprf.enabled:
        master_salt = load_salt_file(salt_file, console)
        keys = TypeKeys.from_master_salt(master_salt, epoch=1 if epoch is None else epoch)
        tokeniser = HmacTokeniserV1(keys)
    elif not voprf.enabled:
        keys = load_typekeys(typekeys, passphrase=passphrase).pick(epoch).type_keys()
        tokeniser = HmacTokeniserV1(keys)
    try:
        total = input_path.stat().st_size
    except OSError as exc:
        raise InputFileError(f"cannot open {input_path}: {exc.strerror}") from None

    progress = Progress(
        TextColumn("hashing"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    with (
        voprf.session(epoch=epoch, console=console, salt_file=salt_file) as v2,
        _atomic_output(out, sys.stdout) as out_handle,
        _atomic_output(rejects, None) as rejects_handle,
        progress,
    ):
        assert out_handle is not None
        tokeniser = v2 or tokeniser
        assert tokeniser is not None
        task = progress.add_task("hashing", total=total or None)
        summary = hash_file(
            input_path,
            tokeniser=tokeniser,
            out=out_handle,
            rejects=rejects_handle,
            region=region_code,
            on_progress=lambda done: progress.update(task, completed=done),
            workers=workers if workers is not None else default_workers(),
        )
    _print_summary(
        console,
        summary,
        epoch=tokeniser.epoch,
        out=out,
        rejects=rejects,
        spec=spec_label(tokeniser),
    )
