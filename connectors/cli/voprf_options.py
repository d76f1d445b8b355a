"""``--mode hmac|voprf`` and the evaluator options, shared by every command that tokenises.

``hash``, ``rehash`` and the hash-on-the-fly path of ``submit``, ``match`` and ``watch add``
tokenise either with the shared HMAC type keys (spec v1, the default) or obliviously with the
pinned VOPRF evaluators (spec v2, :mod:`connectors.oprf`). The evaluator options are declared once
here and added to a command by :func:`with_voprf_options`, which hands the command one
:class:`VoprfOptions` instead of six more parameters: the exchange commands already repeat
their option lists (known duplication D1) and this must not add to it.

Evaluator access tokens come from the gateway's token endpoint with the connector's own
OAuth client (``private_key_jwt``), one per evaluator: each is requested with the RFC 8707
``resource`` of that evaluator's pinned URL, so its audience is that evaluator alone (the
other evaluator and the gateway's API refuse it) and it carries the scope ``oprf:evaluate``
alone. Every request also carries a DPoP proof signed by the connector's own key, which
evaluators that pin partners' keys require (the gateway cannot make one). ``hash`` gets
``--gateway``, ``--client-id`` and ``--keystore`` for that; the exchange commands use their
own.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from connectors.cli.connection_options import (
    DEFAULT_GATEWAY,
    DEFAULT_KEYSTORE,
    ClientId,
    GatewayUrl,
    KeystorePath,
)
from connectors.client import GatewayClient
from connectors.errors import ConnectorError, UsageError
from connectors.keystore import load_keystore
from connectors.oprf import (
    EvaluatorClient,
    EvaluatorConfigError,
    EvaluatorPin,
    VoprfTokeniserV2,
    default_crypto_workers,
    load_pins,
)
from connectors.oprf.suite import MAX_BATCH
from connectors.oprf.tokeniser import DEFAULT_BATCH_SIZE, DEFAULT_IN_FLIGHT

EVALUATOR_SCOPE = "oprf:evaluate"

F = TypeVar("F", bound=Callable[..., Any])


class Mode(StrEnum):
    """How identifiers become tokens: shared type keys (v1) or the evaluators (v2)."""

    HMAC = "hmac"
    VOPRF = "voprf"


ModeOption = Annotated[
    Mode,
    typer.Option(
        "--mode",
        envvar="PPSGATE_CONNECTOR_MODE",
        help="Tokenisation: hmac (spec v1, type keys from the store) or voprf (spec v2, "
        "the pinned evaluators; needs --evaluators and the connector's OAuth client).",
    ),
]
EvaluatorsFile = Annotated[
    Path | None,
    typer.Option(
        "--evaluators",
        envvar="PPSGATE_CONNECTOR_EVALUATORS",
        help="--mode voprf: the pinned evaluators document published by the partnership "
        "(each evaluator's URL and public keys per epoch and type, in chain order).",
    ),
]
EvaluatorBatch = Annotated[
    int,
    typer.Option(
        "--evaluator-batch",
        envvar="PPSGATE_CONNECTOR_EVALUATOR_BATCH",
        min=1,
        max=MAX_BATCH,
        help="--mode voprf: blinded elements per evaluator request (one proof each).",
    ),
]
EvaluatorInFlight = Annotated[
    int,
    typer.Option(
        "--evaluator-in-flight",
        envvar="PPSGATE_CONNECTOR_EVALUATOR_IN_FLIGHT",
        min=1,
        max=64,
        help="--mode voprf: evaluator batches in progress at once (each walks the chain).",
    ),
]
CryptoWorkers = Annotated[
    int | None,
    typer.Option(
        "--crypto-workers",
        envvar="PPSGATE_CONNECTOR_CRYPTO_WORKERS",
        min=0,
        max=64,
        show_default=False,
        help="--mode voprf: processes blinding, checking proofs and unblinding (default: one "
        "per core on a multi-core machine; 0 keeps the curve work in this process).",
    ),
]


@dataclass(frozen=True, slots=True)
class VoprfOptions:
    """The tokenisation mode and, for ``voprf``, how to reach and trust the evaluators."""

    mode: Mode = Mode.HMAC
    evaluators: Path | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    in_flight: int = DEFAULT_IN_FLIGHT
    crypto_workers: int | None = None
    gateway: str = DEFAULT_GATEWAY
    client_id: str = ""
    keystore: Path = DEFAULT_KEYSTORE
    passphrase: str | None = None

    @property
    def enabled(self) -> bool:
        return self.mode is Mode.VOPRF

    @property
    def chunk_rows(self) -> int:
        """Rows to hand the tokeniser per call so that every in-flight slot has a batch."""
        return self.batch_size * self.in_flight

    @contextlib.contextmanager
    def session(
        self, *, epoch: int | None, console: Console, salt_file: Path | None = None
    ) -> Iterator[VoprfTokeniserV2 | None]:
        """The v2 tokeniser (``None`` in hmac mode); everything it opened is closed after.

        Nothing is sent before the first tokens are asked for: a misconfiguration (no
        pins, an epoch some evaluator has no key for) fails here, before any output.
        """
        if not self.enabled:
            yield None
            return
        if salt_file is not None:
            raise UsageError("is for --mode hmac (spec v1)", field="salt-file")
        pins = self._pins()
        chosen = pick_epoch(pins, epoch)
        with contextlib.ExitStack() as stack:
            (tokeniser,) = self._open(stack, pins, [chosen])
            console.print(
                f"tokenising with VOPRF (spec v2), epoch {chosen}, evaluators "
                f"{', '.join(tokeniser.evaluator_names)}",
                highlight=False,
            )
            yield tokeniser

    @contextlib.contextmanager
    def overlap(
        self,
        main: VoprfTokeniserV2 | None,
        *,
        epoch: int | None,
        console: Console,
        listing: Callable[[], Iterable[Mapping[str, Any]]],
    ) -> Iterator[tuple[VoprfTokeniserV2, ...]]:
        """Tokenisers for the epochs in their overlap window besides ``main``'s (matches).

        As in v1, a match made during an overlap window asks under the retiring epoch too, so
        a report made under either epoch is found. ``listing`` is the gateway's epoch list
        (``GET /v1/keys/epochs``, scope ``keys:read``); a retiring epoch is used while its
        window is open and every evaluator is pinned for it. Without the listing (a client
        without ``keys:read``) the match runs under ``main``'s epoch alone and says so.
        """
        if main is None or epoch is not None:
            yield ()
            return
        try:
            epochs = list(listing())
        except ConnectorError as exc:
            console.print(
                f"overlap window not checked ({exc.diagnostics()}); asking under epoch "
                f"{main.epoch} only",
                highlight=False,
            )
            yield ()
            return
        pins = self._pins()
        now = datetime.now(tz=UTC)
        retiring = sorted(
            (int(item["epoch"]) for item in epochs if _in_overlap(item, now)), reverse=True
        )
        pinned = [n for n in retiring if n != main.epoch and all(pin.kinds(n) for pin in pins)]
        unpinned = [n for n in retiring if n != main.epoch and n not in pinned]
        if unpinned:
            console.print(
                f"overlap window: epoch {', '.join(map(str, unpinned))} is not pinned for every "
                "evaluator; not asked under it",
                highlight=False,
            )
        if not pinned:
            yield ()
            return
        with contextlib.ExitStack() as stack:
            also = tuple(self._open(stack, pins, pinned))
            console.print(
                f"overlap window: asking under epoch {main.epoch} and "
                f"{', '.join(str(t.epoch) for t in also)}",
                highlight=False,
            )
            yield also

    def _open(
        self, stack: contextlib.ExitStack, pins: list[EvaluatorPin], epochs: Iterable[int]
    ) -> list[VoprfTokeniserV2]:
        """One tokeniser per epoch over one set of evaluator clients, closed with ``stack``."""
        if not self.client_id:
            raise UsageError(
                "--mode voprf asks the gateway for evaluator tokens: give --client-id "
                "(or PPSGATE_CONNECTOR_CLIENT_ID)",
                field="client-id",
            )
        keys = load_keystore(self.keystore, passphrase=self.passphrase)
        workers = default_crypto_workers() if self.crypto_workers is None else self.crypto_workers
        clients = [
            stack.enter_context(
                EvaluatorClient(
                    pin,
                    stack.enter_context(
                        GatewayClient(
                            self.gateway,
                            self.client_id,
                            keys,
                            scopes=[EVALUATOR_SCOPE],
                            resource=pin.url,
                        )
                    ),
                    proof_key=keys.signing_key,
                )
            )
            for pin in pins
        ]
        return [
            stack.enter_context(
                VoprfTokeniserV2(
                    clients,
                    epoch=number,
                    batch_size=self.batch_size,
                    max_in_flight=self.in_flight,
                    crypto_workers=workers,
                )
            )
            for number in epochs
        ]

    def _pins(self) -> list[EvaluatorPin]:
        if self.evaluators is None:
            raise UsageError(
                "--mode voprf needs the pinned evaluators document: give --evaluators "
                "(or PPSGATE_CONNECTOR_EVALUATORS)",
                field="evaluators",
            )
        return load_pins(self.evaluators)


def _in_overlap(item: Mapping[str, Any], now: datetime) -> bool:
    """A gateway epoch entry that is retiring with its overlap window still open."""
    ends = item.get("overlap_ends_at")
    if item.get("state") != "retiring" or not isinstance(ends, str):
        return False
    return datetime.fromisoformat(ends) > now


def pick_epoch(pins: list[EvaluatorPin], epoch: int | None) -> int:
    """``epoch``, or the newest epoch every pinned evaluator has keys for."""
    if epoch is not None:
        return epoch
    common = set.intersection(*({e for e, _kind in pin.public_keys} for pin in pins))
    if not common:
        raise EvaluatorConfigError("no epoch is pinned for every evaluator", field="evaluators")
    return max(common)


def spec_label(tokeniser: Any) -> str:
    """The summary line naming the hashing spec (and the evaluators for v2)."""
    if isinstance(tokeniser, VoprfTokeniserV2):
        return f"v2 (VOPRF: {', '.join(tokeniser.evaluator_names)})"
    return "v1 (HMAC type keys)"


_OPTIONS: tuple[tuple[str, Any, Any], ...] = (
    ("mode", ModeOption, Mode.HMAC),
    ("evaluators", EvaluatorsFile, None),
    ("batch_size", EvaluatorBatch, DEFAULT_BATCH_SIZE),
    ("in_flight", EvaluatorInFlight, DEFAULT_IN_FLIGHT),
    ("crypto_workers", CryptoWorkers, None),
)
_CONNECTION: tuple[tuple[str, Any, Any], ...] = (
    ("gateway", GatewayUrl, DEFAULT_GATEWAY),
    ("client_id", ClientId, ""),
    ("keystore", KeystorePath, DEFAULT_KEYSTORE),
)
_PREFIX = "voprf_"


def with_voprf_options(*, connection: bool = False) -> Callable[[F], F]:
    """Add the options to a command that takes ``voprf: VoprfOptions``; Typer sees them.

    The command's own ``gateway``, ``client_id``, ``keystore`` and ``passphrase`` are the
    connector's OAuth client for the evaluators too; with ``connection`` (``hash``, which
    has none) the first three are added as well. The added parameters are prefixed inside
    the signature so they never clash with the command's own (``--batch-size`` of
    ``submit`` is items per gateway request, ``--evaluator-batch`` elements per evaluator
    request); their option names are those declared above.
    """
    added = _OPTIONS + (_CONNECTION if connection else ())

    def decorate(func: F) -> F:
        signature = inspect.signature(func, eval_str=True)
        if "voprf" not in signature.parameters:
            raise TypeError(f"{func.__name__} takes no 'voprf' parameter")
        kept = [p for p in signature.parameters.values() if p.name != "voprf"]
        extra = [
            inspect.Parameter(
                _PREFIX + name, inspect.Parameter.KEYWORD_ONLY, annotation=hint, default=default
            )
            for name, hint, default in added
        ]

        def command(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(_PREFIX + name) for name, _hint, _default in added}
            for name in ("gateway", "client_id", "keystore", "passphrase"):
                if name in kwargs and name not in values:
                    values[name] = kwargs[name]
            return func(*args, voprf=VoprfOptions(**values), **kwargs)

        command.__name__ = func.__name__
        command.__qualname__ = func.__qualname__
        command.__doc__ = func.__doc__
        command.__module__ = func.__module__
        command.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*kept, *extra]
        )
        return command  # type: ignore[return-value]

    return decorate
