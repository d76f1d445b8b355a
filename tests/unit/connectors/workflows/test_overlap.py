"""During an overlap window a row is tokenised under two epochs and its answers merged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import connectors.cli  # noqa: F401 - first: workflows.rows imports connectors.cli.hash_io
from connectors.canonical import Kind
from connectors.hashing import HmacTokeniserV1, TypeKeys
from connectors.workflows.operations import batched_by_row, merge_disclosed
from connectors.workflows.rows import HashedRow, hash_on_the_fly, looks_hashed

ANSWER = st.fixed_dictionaries(
    {"hit": st.booleans()},
    optional={
        "reports": st.integers(0, 50),
        "reporters": st.integers(0, 5),
        # The gateway answers with sorted lists without repeats.
        "categories": st.lists(
            st.sampled_from(["phishing", "purchase_fraud", "spoofing"]), unique=True
        ).map(sorted),
        "sectors": st.lists(st.sampled_from(["bank", "telecom"]), unique=True).map(sorted),
        "disputed": st.booleans(),
        "first_seen": st.sampled_from(["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"]),
    },
)


@given(st.lists(ANSWER, min_size=1, max_size=3))
def test_merged_answers_never_lose_or_inflate_what_was_disclosed(answers: list[Any]) -> None:
    merged = merge_disclosed([dict(a) for a in answers])
    assert merged["hit"] == any(a["hit"] for a in answers)
    counts = [a["reports"] for a in answers if "reports" in a]
    if counts:
        assert merged["reports"] == max(counts)  # a re-hashed report is not counted twice
    for name in ("categories", "sectors"):
        union = {value for a in answers for value in a.get(name, [])}
        if any(name in a for a in answers):
            assert merged[name] == sorted(union)
    if any(a.get("disputed") for a in answers):
        assert merged["disputed"] is True
    seen = [a["first_seen"] for a in answers if "first_seen" in a]
    if seen:
        assert merged["first_seen"] == min(seen)
    # Merging is insensitive to the order the epochs were asked in.
    assert merge_disclosed([dict(a) for a in reversed(answers)]) == merged


def test_rows_are_hashed_under_both_epochs_and_never_split(tmp_path: Path) -> None:
    new = HmacTokeniserV1(TypeKeys.from_master_salt(b"\x02" * 32, epoch=2))
    old = HmacTokeniserV1(TypeKeys.from_master_salt(b"\x01" * 32, epoch=1, kinds=(Kind.PHONE,)))
    source = tmp_path / "raw.csv"
    source.write_text("value\n0612345678\nNL91ABNA0417164300\n0201234567\n", encoding="utf-8")
    assert not looks_hashed(source)
    rows = list(hash_on_the_fly(source, new, region="NL", also=(old,)))
    assert [(r.row, r.epoch) for r in rows if isinstance(r, HashedRow)] == [
        (1, 2),
        (1, 1),
        (2, 2),
        (3, 2),
        (3, 1),  # epoch 1 holds no IBAN key: asked under 2
    ]
    assert rows[0].token == new.token(Kind.PHONE, "+31612345678")
    assert rows[1].token == old.token(Kind.PHONE, "+31612345678")
    chunks = [[r.row for r in chunk] for chunk in batched_by_row(rows, 2)]
    assert chunks == [[1, 1], [2, 3, 3]]
    hashed = tmp_path / "hashed.jsonl"
    hashed.write_text('{"row":1,"type":"phone","epoch":2,"token":"ab"}\n', encoding="utf-8")
    assert looks_hashed(hashed)
