"""``ppsgate-connector hash`` end to end through the CLI's single exit point."""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from connectors.canonical.kinds import Kind
from connectors.cli import main
from connectors.cli.hash_command import hash_file
from connectors.cli.hash_io import MAX_LINE_BYTES
from connectors.errors import InputFileError
from connectors.hashing import HmacTokeniserV1, TypeKeys, token, type_key


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def salt(tmp_path: Path) -> tuple[bytes, Path]:
    value = secrets.token_bytes(32)
    path = tmp_path / "salt.hex"
    path.write_text(value.hex() + "\n", encoding="ascii")
    path.chmod(0o600)
    return value, path


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str | Path
) -> Run:
    monkeypatch.setattr("sys.argv", ["ppsgate-connector", *map(str, args)])
    with pytest.raises(SystemExit) as caught:
        main()
    captured = capsys.readouterr()
    code = caught.value.code
    return Run(code if isinstance(code, int) else 1, captured.out, captured.err)


def expected_token(salt: bytes, kind: Kind, canonical: str) -> str:
    return token(kind, canonical, type_key(salt, kind))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


MIXED_CSV = (
    "value,type,case_id,note\n"
    'NL91 ABNA 0417 1643 00,iban,c1,"a, b"\n'
    "06-12345678,,c2,\n"
    "jan@bücher.de,EMAIL,c3,ü\n"
    "https://www.Shop-Example.co.uk/x,,c4,\n"
    "NL92ABNA0417164300,,c5,wrong check\n"
    "12.34.56.78,,c6,\n"
    "06-1234,phone,c7,\n"
    "x,web page,c8,\n"
)


def test_csv_is_hashed_in_order_with_carried_columns_and_rejects(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    salt: tuple[bytes, Path],
) -> None:
    master, salt_file = salt
    source = write(tmp_path / "in.csv", MIXED_CSV)
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.csv"
    result = run(
        monkeypatch,
        capsys,
        "hash",
        source,
        "--salt-file",
        salt_file,
        "--epoch",
        "12",
        "--out",
        out,
        "--rejects",
        rejects,
    )
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines == [
        {
            "row": 1,
            "type": "iban",
            "epoch": 12,
            "case_id": "c1",
            "note": "a, b",
            "token": expected_token(master, Kind.IBAN, "NL91ABNA0417164300"),
        },
        {
            "row": 2,
            "type": "phone",
            "epoch": 12,
            "case_id": "c2",
            "note": "",
            "token": expected_token(master, Kind.PHONE, "+31612345678"),
        },
        {
            "row": 3,
            "type": "email",
            "epoch": 12,
            "case_id": "c3",
            "note": "ü",
            "token": expected_token(master, Kind.EMAIL, "jan@xn--bcher-kva.de"),
        },
        {
            "row": 4,
            "type": "url",
            "epoch": 12,
            "case_id": "c4",
            "note": "",
            "token": expected_token(master, Kind.URL, "https://www.shop-example.co.uk/x"),
        },
    ]
    assert list(json.loads(out.read_text(encoding="utf-8").splitlines()[0])) == [
        "row",
        "type",
        "epoch",
        "token",
        "case_id",
        "note",
    ]
    with rejects.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["row", "reason", "case_id", "note"],
        ["5", "IBAN check digits do not match", "c5", "wrong check"],
        ["6", "ambiguous: could be a phone number or an IP address", "c6", ""],
        ["7", "not a valid phone number for region NL", "c7", ""],
        [
            "8",
            "unknown identifier type (expected iban, phone, email, domain, url, crypto_address,"
            " social_account)",
            "c8",
            "",
        ],
    ]
    text = rejects.read_text(encoding="utf-8")
    for raw in ("NL92", "0417164300", "12.34.56.78", "06-1234"):
        assert raw not in text, "the rejects file must never hold the value"
    for word in ("accepted", "rejected", "rows/s"):
        assert word in result.err
    assert "IBAN check digits do not match" in result.err
    assert not list(tmp_path.glob("*.partial"))


def test_jsonl_input_and_stdout_output(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    salt: tuple[bytes, Path],
) -> None:
    master, salt_file = salt
    source = write(
        tmp_path / "in.jsonl",
        '{"value": "+31 6 12345678", "ref": {"case": 1}}\n'
        "\n"
        '{"value": "nep-winkel.github.io", "type": "domain", "score": 0.5}\n'
        "not json\n"
        '["a list"]\n'
        '{"value": 31612345678}\n'
        '{"ref": 2}\n'
        '{"value": "jan@example.nl", "token": "x"}\n',
    )
    rejects = tmp_path / "rejects.csv"
    result = run(
        monkeypatch, capsys, "hash", source, "--salt-file", salt_file, "--rejects", rejects
    )
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert lines == [
        {
            "row": 1,
            "type": "phone",
            "epoch": 1,
            "ref": {"case": 1},
            "token": expected_token(master, Kind.PHONE, "+31612345678"),
        },
        {
            "row": 2,
            "type": "domain",
            "epoch": 1,
            "score": 0.5,
            "token": expected_token(master, Kind.DOMAIN, "nep-winkel.github.io"),
        },
    ]
    with rejects.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["row", "reason", "carried"],
        ["3", "line is not valid JSON", ""],
        ["4", "line is not a JSON object", ""],
        ["5", "'value' is not a JSON string", ""],
        ["6", "no 'value' field", '{"ref":2}'],
        ["7", "field 'token' clashes with an output field", ""],
    ]


def test_semicolon_separated_csv_from_a_dutch_spreadsheet(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    salt: tuple[bytes, Path],
) -> None:
    master, salt_file = salt
    source = tmp_path / "export.csv"
    source.write_bytes("\ufeffKlant;Value\r\nA;06-12345678\r\n".encode())
    result = run(monkeypatch, capsys, "hash", source, "--salt-file", salt_file)
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "row": 1,
        "type": "phone",
        "epoch": 1,
        "Klant": "A",
        "token": expected_token(master, Kind.PHONE, "+31612345678"),
    }


def test_region_option_reads_national_numbers(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    salt: tuple[bytes, Path],
) -> None:
    master, salt_file = salt
    source = write(tmp_path / "in.csv", "value\n030 123456\n")
    result = run(monkeypatch, capsys, "hash", source, "--salt-file", salt_file, "--region", "de")
    assert json.loads(result.out)["token"] == expected_token(master, Kind.PHONE, "+4930123456")


def test_header_only_file_succeeds_with_nothing_to_do(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    salt: tuple[bytes, Path],
) -> None:
    source = write(tmp_path / "in.csv", "value,type\n")
    result = run(monkeypatch, capsys, "hash", source, "--salt-file", salt[1])
    assert result.code == 0
    assert result.out == ""


def test_row_with_the_wrong_number_of_columns_is_a_reject(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    salt: tuple[bytes, Path],
) -> None:
    source = write(tmp_path / "in.csv", "value,ref\n06-12345678,a,extra\n06-12345678,b\n")
    rejects = tmp_path / "r.csv"
    result = run(monkeypatch, capsys, "hash", source, "--salt-file", salt[1], "--rejects", rejects)
    assert result.code == 0
    assert len(result.out.splitlines()) == 1
    assert '1,"row has 3 columns, the header has 2",a' in rejects.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id,ref\n1,2\n", "the header has no 'value' column"),
        (b"value,Value\n1,2\n", "duplicate column names in the header: value"),
        (b"value,token\n1,2\n", "column 'token' clashes with an output field"),
        (b'value,ref\n"06-12345678,a\n06,"b"x\n', "broken CSV quoting near line"),
        (b"value\n06-12345678\n\xff\xfe\n", "line 3 is not UTF-8 text"),
        (
            b"value\n" + b"1" * (MAX_LINE_BYTES + 10) + b"\n",
            f"line 2 is longer than {MAX_LINE_BYTES} bytes",
        ),
        (b"", "is empty"),
    ],
)
def test_file_level_errors_exit_1_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    salt: tuple[bytes, Path],
    content: bytes,
    message: str,
) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(content)
    out = tmp_path / "out.jsonl"
    result = run(monkeypatch, capsys, "hash", source, "--salt-file", salt[1], "--out", out)
    assert result.code == 1
    assert message in result.err
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith("error: Input file error:")
    assert not out.exists(), "a failed run must not leave an output that looks complete"
    assert not list(tmp_path.glob("*.partial"))


def test_a_field_spanning_lines_past_the_limit_is_refused(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    salt: tuple[bytes, Path],
) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b'value\n"' + (b"1" * 1000 + b"\n") * 80 + b'"\n')
    result = run(monkeypatch, capsys, "hash", source, "--salt-file", salt[1])
    assert result.code == 1
    assert "a field is too long" in result.err


def test_unreadable_input(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    salt: tuple[bytes, Path],
) -> None:
    missing = run(monkeypatch, capsys, "hash", tmp_path / "nope.csv", "--salt-file", salt[1])
    assert missing.code == 1
    assert "cannot open" in missing.err
    assert "No such file" in missing.err
    directory = run(monkeypatch, capsys, "hash", tmp_path, "--salt-file", salt[1])
    assert directory.code == 1
    assert "cannot open" in directory.err


@pytest.mark.parametrize(
    "content",
    [b"", b"00" * 31, b"zz" * 32, b"00" * 33, b"salt=" + b"00" * 32, "é".encode() * 32],
)
def test_bad_salt_file_exits_1_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    content: bytes,
) -> None:
    salt_file = tmp_path / "salt.hex"
    salt_file.write_bytes(content)
    source = write(tmp_path / "in.csv", "value\n06-12345678\n")
    result = run(monkeypatch, capsys, "hash", source, "--salt-file", salt_file)
    assert result.code == 1
    assert "error: Key material error: salt file: must hold the 32-byte master salt" in result.err
    if content:
        assert content.decode("utf-8") not in result.err
    assert result.out == ""


def test_missing_salt_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = write(tmp_path / "in.csv", "value\n06-12345678\n")
    result = run(monkeypatch, capsys, "hash", source, "--salt-file", tmp_path / "none.hex")
    assert result.code == 1
    assert "cannot read salt file" in result.err


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_world_readable_salt_file_is_warned_about(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    salt: tuple[bytes, Path],
) -> None:
    salt[1].chmod(0o644)
    source = write(tmp_path / "in.csv", "value\n06-12345678\n")
    result = run(monkeypatch, capsys, "hash", source, "--salt-file", salt[1])
    assert result.code == 0
    assert "accessible to other users" in result.err


def test_unknown_region_is_a_one_line_usage_error(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    salt: tuple[bytes, Path],
) -> None:
    source = write(tmp_path / "in.csv", "value\n06-12345678\n")
    result = run(monkeypatch, capsys, "hash", source, "--salt-file", salt[1], "--region", "XX")
    assert result.code == 1
    assert result.err.strip() == (
        "error: Usage error: region: unknown region (use a two-letter ISO 3166 country code "
        "such as NL)"
    )


def test_unwritable_output_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    salt: tuple[bytes, Path],
) -> None:
    source = write(tmp_path / "in.csv", "value\n06-12345678\n")
    result = run(
        monkeypatch,
        capsys,
        "hash",
        source,
        "--salt-file",
        salt[1],
        "--out",
        tmp_path / "missing-dir" / "out.jsonl",
    )
    assert result.code == 1
    assert "error: Output file error: cannot create" in result.err


def test_out_and_rejects_must_differ(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    salt: tuple[bytes, Path],
) -> None:
    source = write(tmp_path / "in.csv", "value\n06-12345678\n")
    same = tmp_path / "both"
    result = run(
        monkeypatch, capsys, "hash", source, "--salt-file", salt[1], "--out", same,
        "--rejects", same,
    )  # fmt: skip
    assert result.code == 1
    assert "must be different files" in result.err


def test_usage_errors_and_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, capsys, "hash", "--bogus").code == 2
    helped = run(monkeypatch, capsys, "hash", "--help")
    assert helped.code == 0
    assert "--salt-file" in helped.out
    assert "--rejects" in helped.out
    root = run(monkeypatch, capsys, "--help")
    assert root.code == 0
    assert "hash" in root.out


def test_progress_bar_stays_off_when_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    salt: tuple[bytes, Path],
) -> None:
    source = write(tmp_path / "in.csv", "value\n" + "06-12345678\n" * 5000)
    result = run(
        monkeypatch, capsys, "hash", source, "--salt-file", salt[1], "--out", tmp_path / "o"
    )
    assert result.code == 0
    assert "━" not in result.err
    assert "\r" not in result.err


def test_hash_file_reports_progress_and_counts(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", "value\n" + "06-12345678\n" * 5000 + "bad\n")
    seen: list[int] = []
    summary = hash_file(
        source,
        tokeniser=HmacTokeniserV1(TypeKeys.from_master_salt(bytes(32), epoch=1)),
        out=io.StringIO(),
        on_progress=seen.append,
    )
    assert summary.accepted == {"phone": 5000}
    assert summary.rejected_total == 1
    assert summary.rows == 5001
    assert seen == sorted(seen)
    assert seen[-1] == source.stat().st_size


def test_hash_file_raises_input_file_error_for_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError):
        hash_file(
            tmp_path / "none.csv",
            tokeniser=HmacTokeniserV1(TypeKeys.from_master_salt(bytes(32), epoch=1)),
            out=io.StringIO(),
        )


def test_progress_bar_is_shown_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    salt: tuple[bytes, Path],
) -> None:
    screen = io.StringIO()

    def terminal(**_kwargs: object) -> Console:
        return Console(file=screen, force_terminal=True, width=100)

    monkeypatch.setattr("connectors.cli.hash_command.Console", terminal)
    source = write(tmp_path / "in.csv", "value\n" + "06-12345678\n" * 5000)
    result = run(
        monkeypatch, capsys, "hash", source, "--salt-file", salt[1], "--out", tmp_path / "o"
    )
    assert result.code == 0
    assert "hashing" in screen.getvalue()
    assert "━" in screen.getvalue()
