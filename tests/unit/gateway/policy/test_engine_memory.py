"""Memory of the embedded engines: one per worker thread, so each one's size counts.

Each test runs in a fresh interpreter: the allocator setting is read when regorus is first
loaded, and the RSS of this test process says nothing about a worker's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gateway.policy.bundle import load_bundle

ROOT = Path(__file__).resolve().parents[4]
THREADS = 12

# Builds THREADS engines, each on its own thread (as the gateway's worker threads do), and
# prints how much the process's RSS grew per engine, in MB.
PER_THREAD_ENGINE = f"""
import threading, time
import gateway.policy
from gateway.policy.bundle import load_bundle
from gateway.policy.regorus_engine import new_engine

def rss():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS:")) / 1024

bundle = load_bundle(None)
bundle.engine_data_json()
new_engine(bundle)
built, release = [], threading.Event()

def work():
    built.append(new_engine(bundle))
    release.wait()

before = rss()
threads = [threading.Thread(target=work) for _ in range({THREADS})]
for thread in threads:
    thread.start()
while len(built) < {THREADS}:
    time.sleep(0.01)
print((rss() - before) / {THREADS}, flush=True)
import os
os._exit(0)
"""


def _per_thread_mb(env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-c", PER_THREAD_ENGINE],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
        timeout=120,
        check=True,
    )
    return float(done.stdout.strip())


def test_a_worker_threads_engine_stays_small() -> None:
    # 2.2 MB with the shipped bundle; 4.1 MB when mimalloc commits arenas eagerly, 6.1 MB
    # when the generated decisions also repeat documents and obligation texts per key.
    assert _per_thread_mb({}) < 3.0


def test_the_operators_allocator_setting_is_kept() -> None:
    eager = _per_thread_mb({"MIMALLOC_ARENA_EAGER_COMMIT": "1"})
    assert eager > _per_thread_mb({}) + 1.0


def test_generated_entries_share_documents_without_texts() -> None:
    generated = json.loads(load_bundle(None).engine_data_json())["ppsgate"]["generated"]
    entries = [
        entry
        for purposes in generated["decisions"].values()
        for actions in purposes.values()
        for bases in actions.values()
        for entry in bases.values()
    ]
    documents = generated["documents"]
    assert {entry["document"] for entry in entries} == set(documents)
    assert len(documents) < len(entries) / 2
    assert all("obligation_texts" not in document for document in documents.values())
    # The texts themselves are in the bundle's data once.
    assert any(document["obligations"] for document in documents.values())
