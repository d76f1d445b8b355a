"""Test helpers: evaluator settings and pins for tokens of a
:class:`bench.evaluators.GatewayTokenIssuer` (the token issuer lives in ``bench`` so that
benchmarks need not import tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.evaluators import GatewayTokenIssuer


def evaluator_settings(
    directory: Path,
    name: str,
    issuer: GatewayTokenIssuer,
    *,
    epochs: tuple[int, ...] = (1,),
    **overrides: Any,
) -> Any:
    """Settings for one evaluator in ``directory``: its own seed file, database and JWKS."""
    from evaluator.config import load_evaluator_settings
    from evaluator.seeds import add_epoch

    directory.mkdir(parents=True, exist_ok=True)
    seed_file = directory / "seeds"
    for epoch in epochs:
        add_epoch(seed_file, epoch)
    values: dict[str, Any] = {
        "env": "test",
        "name": name,
        "data_dir": directory,
        "seed_file": seed_file,
        "token_issuer": issuer.public_url,
        "token_jwks_file": issuer.write_jwks(directory / "gateway-jwks.json"),
        "log_level": "WARNING",
    }
    values.update(overrides)
    return load_evaluator_settings(**values)


def pin_for(settings: Any, url: str) -> Any:
    """The pins entry partners would publish for this evaluator (public keys only)."""
    from connectors.canonical import Kind
    from connectors.oprf.pins import EvaluatorPin
    from evaluator.keyring import KeyRing

    ring = KeyRing(settings.effective_seed_file)
    keys = {
        (epoch, Kind(kind)): bytes.fromhex(hex_key)
        for epoch_text, by_kind in ring.public_keys().items()
        for kind, hex_key in by_kind.items()
        for epoch in [int(epoch_text)]
    }
    return EvaluatorPin(name=settings.name, url=url, public_keys=keys)
