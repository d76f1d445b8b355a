"""Spec v2 throughput: tokens/s end to end with two evaluator processes on loopback.

Prints, for one batch of --items phone numbers (default 100,000):
- v1 HMAC tokens/s (the raw baseline, same process) and the v2/v1 ratio;
- the in-process VOPRF crypto alone along the chain (blind, evaluation by A, proof check,
  evaluation by B of A's answer, proof check, unblind), i.e. v2 without HTTP, JSON and
  processes, with the CPU per item of each of those stages;
- v2 end to end: VoprfTokeniserV2 against two `uvicorn` evaluator processes (the same
  factory `ppsgate evaluator serve` runs, with the partner's key pinned, so every request
  carries and is checked for a DPoP proof, as in production), with pipelined batches;
- CPU seconds per item in each evaluator process (from /proc) and in the connector
  (its own process plus its crypto worker processes);
- whether the end-to-end rate meets the target (issue 22: >= 10,000 tokens/s).

With ``--json FILE`` the figures are also written to FILE (as ``python -m bench`` uses them).

Run from the repository root: `.venv/bin/python bench/oprf.py --items 100000`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from voprf import ristretto  # noqa: E402

from bench.evaluators import GatewayTokenIssuer, PartnerTokens, evaluator_command  # noqa: E402
from connectors.canonical import Kind  # noqa: E402
from connectors.hashing import HmacTokeniserV1, TypeKeys  # noqa: E402
from connectors.keystore import ConnectorKeys  # noqa: E402
from connectors.oprf import EvaluatorClient, VoprfTokeniserV2, load_pins, oprf_input  # noqa: E402
from connectors.oprf.chunks import LocalCrypto  # noqa: E402
from connectors.oprf.pins import PINS_FORMAT  # noqa: E402
from connectors.oprf.suite import ELEMENT_BYTES, split_binding_batch  # noqa: E402
from connectors.oprf.tokeniser import default_crypto_workers  # noqa: E402
from evaluator.client_keys import client_entry, empty_document  # noqa: E402
from evaluator.keyring import KeyRing  # noqa: E402
from evaluator.seeds import add_epoch  # noqa: E402
from gateway.server import free_port  # noqa: E402

EPOCH = 1
PARTNER_ID = "bench-partner"
CLIENT_ID = f"{PARTNER_ID}-connector"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def start_evaluator(
    base: Path, name: str, issuer: GatewayTokenIssuer, workers: int, client: ConnectorKeys
):
    """One evaluator as in production: its own URL as token audience, the bench partner's key
    pinned, proofs required. ``issuer`` mints tokens for this evaluator alone (RFC 8707)."""
    directory = base / name
    directory.mkdir()
    add_epoch(directory / "seeds", EPOCH)
    issuer.write_jwks(directory / "jwks.json")
    clients = empty_document()
    clients["clients"] = [client_entry(CLIENT_ID, PARTNER_ID, client.public_jwks())]
    (directory / "clients.json").write_text(json.dumps(clients))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    issuer.audience = url
    env = {k: v for k, v in os.environ.items() if not k.startswith("PPSGATE_")}
    env.update(
        PPSGATE_EVALUATOR_ENV="test",
        PPSGATE_EVALUATOR_NAME=name,
        PPSGATE_EVALUATOR_DATA_DIR=str(directory),
        PPSGATE_EVALUATOR_SEED_FILE=str(directory / "seeds"),
        PPSGATE_EVALUATOR_TOKEN_ISSUER=issuer.public_url,
        PPSGATE_EVALUATOR_TOKEN_JWKS_FILE=str(directory / "jwks.json"),
        PPSGATE_EVALUATOR_LOG_LEVEL="WARNING",
        PPSGATE_EVALUATOR_CLIENT_KEYS_FILE=str(directory / "clients.json"),
        PPSGATE_EVALUATOR_TOKEN_AUDIENCE=url,
    )
    process = subprocess.Popen(evaluator_command(port, workers=workers), env=env)
    entry = {"name": name, "url": url, "public_keys": KeyRing(directory / "seeds").public_keys()}
    return process, url, entry


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"evaluator at {url} did not start")


def tree_cpu(pid: int) -> float:
    """CPU of a process and its direct children (uvicorn workers)."""
    total = cpu_seconds(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            total += cpu_seconds(int(child))
    return total


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


STAGES = ("blind", "evaluate A", "check A", "evaluate B", "check B", "unblind")


def raw_voprf(inputs: list[bytes], batch: int) -> tuple[float, dict[str, float]]:
    """The chain's crypto in this process: the connector's steps plus both evaluations.

    Returns the wall-clock seconds and the CPU seconds of each stage (``STAGES``)."""
    evaluators = [ristretto.Evaluator(secrets.token_bytes(32)) for _ in range(2)]
    keys = [evaluator.public_key.serialize() for evaluator in evaluators]
    crypto = LocalCrypto()
    stages = dict.fromkeys(STAGES, 0.0)
    clock = time.process_time
    started = time.perf_counter()
    for offset in range(0, len(inputs), batch):
        tick = clock()
        handle, sent = crypto.blind(inputs[offset : offset + batch])
        stages["blind"] += clock() - tick
        for name, evaluator, key in zip("AB", evaluators, keys, strict=True):
            tick = clock()
            elements = [
                ristretto.BlindedInput.deserialize(sent[at : at + ELEMENT_BYTES])
                for at in range(0, len(sent), ELEMENT_BYTES)
            ]
            evaluated, proof = split_binding_batch(evaluator.evaluate_batch(elements).serialize())
            stages[f"evaluate {name}"] += clock() - tick
            tick = clock()
            crypto.verify(sent, evaluated, proof, key)
            stages[f"check {name}"] += clock() - tick
            sent = evaluated
        tick = clock()
        crypto.finalize(handle, sent)
        stages["unblind"] += clock() - tick
    return time.perf_counter() - started, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument(
        "--crypto-workers",
        type=int,
        default=default_crypto_workers(),
        help="connector crypto worker processes (0: blind and verify in the connector process)",
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per evaluator")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    items = [(Kind.PHONE, f"+316{index:08d}") for index in range(args.items)]
    print(
        f"items: {args.items:,}  batch: {args.batch_size}  in flight: {args.in_flight}  "
        f"evaluator workers: {args.workers}  crypto workers: {args.crypto_workers}  "
        f"cores: {os.cpu_count()}  load average: {load_before:.1f}"
    )

    v1 = HmacTokeniserV1(TypeKeys.from_master_salt(secrets.token_bytes(32), epoch=EPOCH))
    started = time.perf_counter()
    v1.tokens(items)
    v1_seconds = time.perf_counter() - started

    raw_seconds, raw_stages = raw_voprf(
        [oprf_input(kind, value) for kind, value in items], args.batch_size
    )

    issuers = {name: GatewayTokenIssuer() for name in ("a", "b")}  # one audience each
    partner_keys = ConnectorKeys.generate()
    with tempfile.TemporaryDirectory() as temp:
        base = Path(temp)
        started_processes = [
            start_evaluator(base, name, issuers[name], args.workers, partner_keys)
            for name in ("a", "b")
        ]
        try:
            for _process, url, _entry in started_processes:
                wait_ready(url)
            pins_file = base / "pins.json"
            pins_file.write_text(
                json.dumps(
                    {
                        "format": PINS_FORMAT,
                        "version": 1,
                        "suite": "ristretto255-SHA512",
                        "evaluators": [entry for _p, _u, entry in started_processes],
                    }
                )
            )
            clients = [
                EvaluatorClient(
                    pin,
                    PartnerTokens(issuers[pin.name], PARTNER_ID),
                    proof_key=partner_keys.signing_key,
                )
                for pin in load_pins(pins_file)
            ]
            with VoprfTokeniserV2(
                clients,
                epoch=EPOCH,
                batch_size=args.batch_size,
                max_in_flight=args.in_flight,
                crypto_workers=args.crypto_workers,
            ) as v2:
                v2.tokens(items[:200])  # warm up connections and token (one chunk: no workers)
                cpu_before = [tree_cpu(p.pid) for p, _u, _e in started_processes]
                own_before = time.process_time()
                workers_before = children_cpu()
                started = time.perf_counter()
                v2_tokens = v2.tokens(items)  # starts the crypto workers: counted
                v2_seconds = time.perf_counter() - started
                own_cpu = time.process_time() - own_before
                cpu_after = [tree_cpu(p.pid) for p, _u, _e in started_processes]
            # The workers are joined by close(), so their CPU is now in RUSAGE_CHILDREN
            # (the evaluators, still running, are not).
            worker_cpu = children_cpu() - workers_before
            for client in clients:
                client.close()
        finally:
            for process, _u, _e in started_processes:
                process.terminate()
                process.wait(timeout=10)

    assert len(set(v2_tokens)) == len(items)
    n = args.items
    print(f"v1 HMAC (baseline)             {n / v1_seconds:12,.0f} tokens/s")
    print(
        f"v2 VOPRF crypto in-process     {n / raw_seconds:12,.0f} tokens/s  "
        f"(chain of 2 evaluations + 2 proof checks per item, no HTTP)"
    )
    print(
        "  CPU per item by stage         "
        + ", ".join(f"{stage} {1e6 * cpu / n:.1f}" for stage, cpu in raw_stages.items())
        + " us"
    )
    connector_stages = sum(cpu for stage, cpu in raw_stages.items() if "evaluate" not in stage)
    print(f"  connector's stages together   {1e6 * connector_stages / n:12.1f} us CPU per item")
    print(
        f"v2 end to end (2-hop chain)    {n / v2_seconds:12,.0f} tokens/s  "
        f"({v2_seconds:.1f} s for {n:,})"
    )
    print(
        f"ratio v2 end-to-end / v1       {v1_seconds / v2_seconds:12.4f}  "
        f"(v1 is {v2_seconds / v1_seconds:,.0f}x faster)"
    )
    for name, before, after in zip(("a", "b"), cpu_before, cpu_after, strict=True):
        print(f"evaluator {name} CPU per item      {1e6 * (after - before) / n:12.1f} us")
    print(
        f"connector CPU per item         {1e6 * (own_cpu + worker_cpu) / n:12.1f} us  "
        f"(process {1e6 * own_cpu / n:.1f} + crypto workers {1e6 * worker_cpu / n:.1f})"
    )
    target = 10_000
    verdict = "meets" if n / v2_seconds >= target else "MISSES"
    print(f"target >= {target:,} tokens/s end to end: {verdict}")
    if args.json:
        figures = {
            "items": n,
            "batch_size": args.batch_size,
            "in_flight": args.in_flight,
            "crypto_workers": args.crypto_workers,
            "evaluator_workers": args.workers,
            "load_average_before": load_before,
            "v1_tokens_per_s": n / v1_seconds,
            "raw_tokens_per_s": n / raw_seconds,
            "raw_stage_cpu_us": {stage: 1e6 * cpu / n for stage, cpu in raw_stages.items()},
            "raw_connector_stages_cpu_us": 1e6 * connector_stages / n,
            "v2_tokens_per_s": n / v2_seconds,
            "v2_seconds": v2_seconds,
            "ratio_v2_v1": v1_seconds / v2_seconds,
            "evaluator_cpu_us": {
                name: 1e6 * (after - before) / n
                for name, before, after in zip(("a", "b"), cpu_before, cpu_after, strict=True)
            },
            "connector_cpu_us": 1e6 * (own_cpu + worker_cpu) / n,
            "connector_process_cpu_us": 1e6 * own_cpu / n,
            "connector_workers_cpu_us": 1e6 * worker_cpu / n,
            "target_tokens_per_s": target,
        }
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
