"""``hash --workers``: worker processes must produce exactly the single-process output."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.cli.hash_chunks import ENCODE, carried_formatter
from connectors.cli.hash_command import hash_file
from connectors.hashing import HmacTokeniserV1, TypeKeys

KEYS = TypeKeys.from_master_salt(bytes(range(32)), epoch=3)

CSV_ROWS = [
    "value,ref,note",
    '"NL91 ABNA 0417 1643 00",r1,"a, b"',
    "06-12345678,r2,é",
    ' Jan.Jansen@Example.NL ,r3,"quote ""x"""',
    "https://www.shop-example.co.uk/x?y=1,r4,",
    "NL00ABNA0417164300,r5,bad check digits",
    "only-two,columns",
    "12.34.56.78,r7,phone or IP",
    "+49 30 123456,r8,foreign",
    "not an identifier,r9,",
]


def _run(source: Path, workers: int) -> tuple[str, str, int]:
    out, rejects = io.StringIO(), io.StringIO()
    summary = hash_file(
        source,
        tokeniser=HmacTokeniserV1(KEYS),
        out=out,
        rejects=rejects,
        workers=workers,
        parallel_min_bytes=0,
    )
    return out.getvalue(), rejects.getvalue(), summary.workers


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_workers_give_the_single_process_output_byte_for_byte(tmp_path: Path, suffix: str) -> None:
    # Many chunks (CHUNK_ROWS is 2048), so order across workers is exercised.
    body = CSV_ROWS[1:] * 1500
    source = tmp_path / f"in{suffix}"
    if suffix == ".csv":
        source.write_text("\n".join([CSV_ROWS[0], *body]) + "\n", encoding="utf-8")
    else:
        lines = [
            json.dumps({"value": row.split(",")[0].strip('"'), "ref": n})
            for n, row in enumerate(body)
        ]
        lines[5] = "{broken json"
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    single_out, single_rejects, single_workers = _run(source, 1)
    parallel_out, parallel_rejects, parallel_workers = _run(source, 2)
    assert (single_workers, parallel_workers) == (1, 2)
    assert single_out.count("\n") > 5000
    assert single_rejects.count("\n") > 1000
    assert parallel_out == single_out
    assert parallel_rejects == single_rejects


def test_small_inputs_stay_in_one_process(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("\n".join(CSV_ROWS) + "\n", encoding="utf-8")
    out = io.StringIO()
    summary = hash_file(source, tokeniser=HmacTokeniserV1(KEYS), out=out, workers=4)
    assert summary.workers == 1
    assert summary.accepted_total == 5


@given(st.lists(st.text(), min_size=1, max_size=3))
def test_carried_csv_columns_render_as_the_json_encoder_does(cells: list[str]) -> None:
    names = tuple(f'col{i}é"' for i in range(len(cells)))
    expected = "".join(
        f",{ENCODE(name)}:{ENCODE(cell)}" for name, cell in zip(names, cells, strict=True)
    )
    assert carried_formatter(names)(tuple(cells)) == expected
