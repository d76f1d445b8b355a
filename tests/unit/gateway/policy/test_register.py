"""The Art. 30 register is generated from the live policy data."""

from __future__ import annotations

import csv
import io

from gateway.policy.bundle import PolicyBundle
from gateway.policy.register import RegisterRow, register_rows, render_csv, render_markdown


def test_one_row_per_registration(bundle: PolicyBundle) -> None:
    rows = register_rows(bundle.data)
    expected = sum(len(p["registrations"]) for p in bundle.data["partners"].values())
    assert len(rows) == expected
    police = next(
        r for r in rows if r.partner_id == "police-nl" and r.purpose_id == "police_referral"
    )
    assert "Directive (EU) 2016/680" in police.legal_basis
    assert "UAVG art. 33(1)(a)" in police.art10_condition
    assert "reporter" in police.recipients


def test_csv_has_a_header_and_all_rows(bundle: PolicyBundle) -> None:
    rows = list(csv.reader(io.StringIO(render_csv(bundle.data))))
    assert tuple(rows[0]) == RegisterRow.__slots__
    assert len(rows) == 1 + len(register_rows(bundle.data))


def test_markdown_covers_every_purpose_and_partner(bundle: PolicyBundle) -> None:
    text = render_markdown(bundle.data, digest=bundle.digest, generated_at="2026-01-02")
    assert bundle.digest in text
    assert "2026-01-02" in text
    for purpose_id, purpose in bundle.data["purposes"].items():
        assert f"### {purpose['label_en']} (`{purpose_id}`)" in text
    for partner_id in bundle.data["partners"]:
        assert f"`{partner_id}`" in text
    assert "Transfers to third countries" in text
    assert "Money mule: 1 year" in text


def test_register_follows_a_data_change(bundle: PolicyBundle) -> None:
    data = {**bundle.data, "purposes": {**bundle.data["purposes"]}}
    data["purposes"]["civil_recovery"] = {
        **data["purposes"]["civil_recovery"],
        "retention_days": {"default": 400, "by_category": {}},
    }
    row = next(r for r in register_rows(data) if r.purpose_id == "civil_recovery")
    assert row.retention == "400 days"


def test_retention_reads_in_years_and_months() -> None:
    from gateway.policy.register import duration

    assert [duration(days) for days in (2555, 1825, 730, 365, 180, 90, 30)] == [
        "7 years",
        "5 years",
        "2 years",
        "1 year",
        "6 months",
        "3 months",
        "1 month",
    ]
    assert duration(400) == "400 days"
    assert duration(2555, "nl") == "7 jaar"
    assert duration(180, "nl") == "6 maanden"
