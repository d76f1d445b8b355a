"""``--mode hmac|voprf``: the shared options, the epoch choice, and ``spec`` on the rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner
from voprf import ristretto

from connectors.canonical import Kind
from connectors.cli.voprf_options import Mode, VoprfOptions, pick_epoch, with_voprf_options
from connectors.errors import InputFileError, UsageError
from connectors.oprf import EvaluatorPin
from connectors.workflows.operations import token_item
from connectors.workflows.rows import HashedRow, read_hashed


def _command(connection: bool) -> tuple[typer.Typer, list[VoprfOptions]]:
    seen: list[VoprfOptions] = []
    app = typer.Typer()

    if connection:

        @app.command()
        @with_voprf_options(connection=True)
        def hash_like(*, passphrase: str | None = None, voprf: VoprfOptions) -> None:
            seen.append(voprf)

    else:

        @app.command()
        @with_voprf_options()
        def submit_like(*, client_id: str = "", batch_size: int = 5, voprf: VoprfOptions) -> None:
            assert batch_size == 7  # the command's own --batch-size is untouched
            seen.append(voprf)

    return app, seen


def test_options_reach_the_command_as_one_object() -> None:
    app, seen = _command(connection=False)
    result = CliRunner().invoke(
        app,
        ["--batch-size", "7", "--client-id", "c1", "--mode", "voprf", "--evaluator-batch", "9"],
        env={"PPSGATE_CONNECTOR_EVALUATORS": "pins.json", "PPSGATE_CONNECTOR_CRYPTO_WORKERS": "0"},
    )
    assert result.exit_code == 0, result.output
    (options,) = seen
    assert options.mode is Mode.VOPRF
    assert options.enabled
    assert (options.batch_size, options.crypto_workers, options.client_id) == (9, 0, "c1")
    assert options.evaluators == Path("pins.json")
    assert options.chunk_rows == 9 * options.in_flight


def test_hash_gets_the_connection_options_and_defaults_to_hmac() -> None:
    app, seen = _command(connection=True)
    result = CliRunner().invoke(app, ["--client-id", "c2", "--keystore", "k.json"])
    assert result.exit_code == 0, result.output
    (options,) = seen
    assert options.mode is Mode.HMAC
    assert not options.enabled
    assert (options.client_id, options.keystore) == ("c2", Path("k.json"))


def test_a_command_without_the_parameter_is_refused() -> None:
    with pytest.raises(TypeError, match="voprf"):
        with_voprf_options()(lambda: None)


def _pin(name: str, epochs: tuple[int, ...]) -> EvaluatorPin:
    keys = {
        (epoch, Kind.PHONE): ristretto.Evaluator.from_seed(
            bytes([n + 1]) * 32, b"k"
        ).public_key.serialize()
        for n, epoch in enumerate(epochs)
    }
    return EvaluatorPin(name, "http://e", keys)


def test_epoch_is_the_newest_pinned_by_every_evaluator() -> None:
    pins = [_pin("a", (1, 2, 3)), _pin("b", (1, 2))]
    assert pick_epoch(pins, None) == 2
    assert pick_epoch(pins, 1) == 1


def test_session_is_none_for_hmac_and_refuses_what_voprf_cannot_use(tmp_path: Path) -> None:
    console = Console(stderr=True)
    with VoprfOptions().session(epoch=None, console=console) as tokeniser:
        assert tokeniser is None
    voprf = VoprfOptions(mode=Mode.VOPRF)
    with pytest.raises(UsageError, match="evaluators"), voprf.session(epoch=1, console=console):
        pass
    with (
        pytest.raises(UsageError, match="mode hmac"),
        voprf.session(epoch=1, console=console, salt_file=tmp_path / "salt"),
    ):
        pass


def _hashed(tmp_path: Path, **extra: Any) -> Path:
    path = tmp_path / "tokens.jsonl"
    line = {"row": 1, "type": "phone", "epoch": 1, "token": "ab" * 32, **extra}
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    return path


def test_rows_carry_their_spec_to_the_gateway_item(tmp_path: Path) -> None:
    (v2,) = read_hashed(_hashed(tmp_path, spec="v2", case="c"))
    assert isinstance(v2, HashedRow)
    assert (v2.spec, v2.carried) == ("v2", {"case": "c"})
    assert token_item(v2) == {"kind": "phone", "epoch": 1, "token": "ab" * 32, "spec": "v2"}
    (v1,) = read_hashed(_hashed(tmp_path))
    assert isinstance(v1, HashedRow)
    assert "spec" not in token_item(v1)  # v1 items stay as gateways without the field take
    with pytest.raises(InputFileError, match="unknown hashing spec"):
        list(read_hashed(_hashed(tmp_path, spec="v9")))
