"""No identifier in the clear: the gateway's database, logs, audit log and answers hold none.

Three runs with known raw identifiers, scanned afterwards for every raw and canonical form
(UTF-8 and UTF-16, as text and inside binary database files):

* the demo (``ppsgate demo --no-serve``) in this process;
* the matching stories of ``test_matching_story`` against a gateway of each backend;
* a gateway *process* (logging at DEBUG) that receives submissions, matches and watch-list
  writes, whose stderr is read from its log file.

Scanned: database files byte for byte (SQLite with its WAL, where freed pages still hold old
data) and every row of every table (both backends, audit entries and details included),
every log record (``caplog``) and everything written to stdout/stderr (``capfd``), and the
body of every HTTP response any ``httpx`` client in this process received (and, for the
demo, every request its connectors sent: tokens only).
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

import tests.functional.test_matching_story as story
import tests.functional.test_new_kinds_story as new_kinds
from connectors.canonical import Kind, canonicalize
from connectors.client import GatewayClient
from connectors.hashing import HmacTokeniserV1, TypeKeys
from gateway.cli.demo import demo
from gateway.db import Base, build_engine
from gateway.demo import cast
from gateway.demo.setup import demo_settings
from gateway.models import __all__ as _all_models  # noqa: F401 - every table is registered
from tests.support.databases import PostgresTemplates, SqliteTemplates
from tests.support.gateway import running_gateway
from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.slow

STORY_IDENTIFIERS = [
    (Kind.IBAN, story.SELLER),
    (Kind.IBAN, story.HONEST),
    (Kind.PHONE, story.HELPDESK),
    (Kind.PHONE, "+31 6 12345678"),
    (Kind.URL, new_kinds.PHISHING_PAGE),
    (Kind.CRYPTO_ADDRESS, new_kinds.CASH_OUT),
    (Kind.SOCIAL_ACCOUNT, new_kinds.RECRUITER),
]
DEMO_IDENTIFIERS = [
    (Kind.IBAN, cast.SELLER_IBAN),
    (Kind.IBAN, cast.HONEST_IBAN),
    *((Kind.IBAN, iban) for iban in cast.BANK_A_CUSTOMERS),
    (Kind.PHONE, cast.BANK_A_HELPDESK),
    *((Kind.PHONE, number) for number in cast.CALLER_IDS),
    (Kind.URL, cast.PHISHING_PAGE),
    (Kind.CRYPTO_ADDRESS, cast.CASH_OUT_ADDRESS),
    (Kind.SOCIAL_ACCOUNT, cast.RECRUITER_ACCOUNT),
    (Kind.IBAN, cast.MULE_IBAN),
]
PROCESS_IDENTIFIERS = [
    (Kind.IBAN, "NL20INGB0001234567"),
    (Kind.EMAIL, "Oplichter@Voorbeeld-Shop.nl"),
    (Kind.DOMAIN, "https://www.nep-winkel-demo.nl/kassa"),
]


def needles(identifiers: Iterable[tuple[Kind, str]]) -> list[str]:
    """Every form an identifier could leak in: as given, compacted, canonical."""
    found: set[str] = set()
    for kind, value in identifiers:
        canonical = canonicalize(kind, value)
        found.update({value, value.replace(" ", "").replace("-", ""), canonical})
        if kind is Kind.PHONE:
            found.add(canonical.removeprefix("+"))
    return sorted(found)


def leaks(blob: bytes, forms: list[str]) -> list[str]:
    return [
        form
        for form in forms
        if form.encode() in blob
        or form.encode("utf-16-le") in blob
        or form.lower().encode() in blob.lower()
    ]


@pytest.fixture
def exchanged(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[bytes]]:
    """Bodies of every request and response of every httpx client in this process."""
    bodies: dict[str, list[bytes]] = {"requests": [], "responses": []}
    original = httpx.Client.send

    def recording_send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> Any:
        response = original(self, request, **kwargs)
        bodies["requests"].append(request.content)
        bodies["responses"].append(response.read())
        return response

    monkeypatch.setattr(httpx.Client, "send", recording_send)
    return bodies


def everything(exchanged: dict[str, list[bytes]]) -> bytes:
    return b"\n".join(exchanged["requests"] + exchanged["responses"])


def database_rows(engine: Engine) -> Iterator[bytes]:
    """Every value of every row of every table, as bytes."""
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    yield value if isinstance(value, bytes) else str(value).encode()


def database_files(database_url: str) -> bytes:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return b""
    path = Path(str(url.database))
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def credentials(exchanged: dict[str, list[bytes]]) -> list[str]:
    """The signed parts of every client assertion sent and every access token received.

    A JWS's payload and signature segments are unique to it, so finding either in a log
    means the credential (or most of it) was logged.
    """
    found: set[str] = set()
    for body in exchanged["requests"]:
        found.update(parse_qs(body.decode("latin-1")).get("client_assertion", []))
    for body in exchanged["responses"]:
        try:
            answer = json.loads(body)
        except ValueError:
            continue
        if isinstance(answer, dict) and isinstance(answer.get("access_token"), str):
            found.add(answer["access_token"])
    return sorted({part for jws in found for part in jws.split(".")[1:] if len(part) > 20})


def assert_no_credentials(where: str, blob: bytes, exchanged: dict[str, list[bytes]]) -> None:
    issued = credentials(exchanged)
    assert issued, "no credential was exchanged: nothing to look for"
    found = [part[:12] + "..." for part in issued if part.encode() in blob]
    assert not found, f"credentials in {where}: {found}"


def assert_clean(where: str, blob: bytes, forms: list[str]) -> None:
    found = leaks(blob, forms)
    assert not found, f"identifiers in the clear in {where}: {found}"


def captured(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> bytes:
    out, err = capfd.readouterr()
    records = "\n".join(
        f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        for record in caplog.records
    )
    return (out + err + records).encode()


def test_demo_leaves_no_identifier_behind(
    tmp_path: Path,
    exchanged: dict[str, list[bytes]],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    directory = tmp_path / "demo"
    demo(serve=False, data_dir=directory)
    forms = needles(DEMO_IDENTIFIERS)
    logs = captured(caplog, capfd)
    assert b"What happened" in logs  # the demo ran and printed its summary
    # The partners' own story log (the demo prints what each partner did) is partner-side
    # text; the gateway's log records are what must be clean.
    gateway_records = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("rich")
    ).encode()
    assert_clean("the gateway's log records", gateway_records, forms)
    database = f"sqlite+pysqlite:///{directory / 'ppsgate.sqlite3'}"
    assert_clean("the demo database files", database_files(database), forms)
    engine = build_engine(demo_settings(directory, public_url="http://127.0.0.1:8000"))
    try:
        assert_clean("the demo database rows", b"\n".join(database_rows(engine)), forms)
    finally:
        engine.dispose()
    assert len(exchanged["responses"]) > 20
    assert_clean("HTTP bodies of the demo", everything(exchanged), forms)


@pytest.fixture
def fresh_database(
    backend: str,
    tmp_path: Path,
    _pg_templates: PostgresTemplates | None,
    _sqlite_templates: SqliteTemplates,
) -> Iterator[Callable[[], str]]:
    """Fresh migrated databases of the parametrised backend, one per story."""
    made: list[str] = []

    def make() -> str:
        if backend == "sqlite":
            directory = tmp_path / f"db-{len(made)}"
            directory.mkdir()
            made.append(_sqlite_templates.fresh(directory))
        else:
            assert _pg_templates is not None
            made.append(_pg_templates.fresh())
        return made[-1]

    yield make
    if backend == "postgres" and _pg_templates is not None:
        for url in made:
            _pg_templates.drop(url)


# Every story that takes only a gateway; the webhook story repeats the others' identifiers
# and mostly waits for its retry back-off, so it is left to its own module.
STORIES = [
    function
    for module in (story, new_kinds)
    for name, function in vars(module).items()
    if name.startswith("test_")
    and "webhook" not in name
    and list(inspect.signature(function).parameters) == ["gateway"]
]


# On PostgreSQL (a database per story costs a CREATE and a DROP) the stories that write the
# most — reports, alerts, disputes, retractions, refused rows — run; SQLite runs them all.
POSTGRES_STORIES = (
    "test_three_marketplace_reports_alert_the_sellers_bank",
    "test_dispute_hides_category_until_reporter_decides",
    "test_retraction_reaches_everyone_who_was_told",
    "test_bad_rows_are_reported_and_the_rest_stored",
)


def test_matching_stories_leave_no_identifier_behind(
    backend: str,
    fresh_database: Callable[[], str],
    tmp_path: Path,
    exchanged: dict[str, list[bytes]],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    forms = needles(STORY_IDENTIFIERS)
    assert len(STORIES) >= 8
    files = b""
    plays = [s for s in STORIES if backend == "sqlite" or s.__name__ in POSTGRES_STORIES]
    assert len(plays) >= len(POSTGRES_STORIES)
    for number, play in enumerate(plays):
        database_url = fresh_database()
        with running_gateway(database_url, tmp_path / f"data-{number}", log_level="DEBUG") as gw:
            play(gw)
            size = httpx.get(f"{gw.url}/v1/audit/leaves", params={"start": 0, "end": 0})
            assert size.status_code in {200, 422}
            rows = b"\n".join(database_rows(gw.services.engine))
        assert_clean(f"the database rows after {play.__name__}", rows, forms)
        files += database_files(database_url)
    assert_clean("the database files", files, forms)
    logs = captured(caplog, capfd)
    assert_clean("logs and output", logs, forms)
    assert_no_credentials("logs and output at DEBUG", logs, exchanged)
    # Requests include the stories' deliberate mistakes (an IBAN where a token belongs);
    # what the gateway answered must not repeat them.
    assert_clean("HTTP responses", b"\n".join(exchanged["responses"]), forms)


def test_gateway_process_logs_no_identifier(
    backend: str, database_url: str, tmp_path: Path, exchanged: dict[str, list[bytes]]
) -> None:
    """A gateway process at DEBUG: its stderr, rows and answers, for submit/match/watch."""
    if backend != "postgres":
        pytest.skip("the deployed form (a process on PostgreSQL); SQLite runs in-process above")
    forms = needles(PROCESS_IDENTIFIERS)
    data_dir = tmp_path / "data"
    with running_gateway(database_url, data_dir) as setup:
        salt = setup.master_salt
        clients = {}
        for partner_id in ("marketplace-a", "bank-a"):
            partner = setup.partner(partner_id)
            assert partner.keys is not None
            clients[partner_id] = (partner.client_id, partner.keys)
    tokeniser = HmacTokeniserV1(TypeKeys.from_master_salt(salt, epoch=1))
    items = [
        {"kind": kind.value, "epoch": 1, "token": tokeniser.token(kind, canonicalize(kind, value))}
        for kind, value in PROCESS_IDENTIFIERS
    ]
    log = tmp_path / "gateway.log"
    process = GatewayProcess(
        database_url, data_dir, log, extra_env={"PPSGATE_LOG_LEVEL": "DEBUG"}
    ).start()
    try:
        marketplace = GatewayClient(process.url, *clients["marketplace-a"], max_attempts=1)
        bank = GatewayClient(process.url, *clients["bank-a"], max_attempts=1)
        observed = (datetime.now(tz=UTC) - timedelta(hours=1)).isoformat()
        reports = [
            {**item, "category": "fake_webshop", "observed_at": observed, "reference": f"r{n}"}
            for n, item in enumerate(items)
        ]
        submitted = marketplace.post_json(
            "/v1/indicators",
            {"purpose": "indicator_submission", "legal_basis": "art6_1_f", "items": reports},
        )
        assert submitted["accepted"] + submitted["rejected"] == len(items)
        bank.request(
            "PUT",
            "/v1/watchlist",
            json={"purpose": "watchlist_alerts", "legal_basis": "art6_1_f", "items": items[:1]},
        )
        bank.post_json(
            "/v1/match",
            {"purpose": "payment_screening", "legal_basis": "art6_1_c", "items": items[:1]},
        )
        # A partner mistake: the identifier itself where the token belongs. Refused, and
        # neither echoed nor logged.
        mistaken = {**items[0], "token": PROCESS_IDENTIFIERS[0][1]}
        refused = httpx.post(
            f"{process.url}/v1/match",
            json={"purpose": "payment_screening", "legal_basis": "art6_1_c", "items": [mistaken]},
            headers={"Authorization": f"Bearer {bank.access_token()}"},
        )
        assert refused.status_code == 422
        marketplace.close()
        bank.close()
    finally:
        process.stop()
    stderr = log.read_bytes()
    assert stderr, "the gateway process wrote nothing at DEBUG"
    assert_clean("the gateway process's stderr", stderr, forms)
    assert_no_credentials("the gateway process's stderr at DEBUG", stderr, exchanged)
    engine = build_engine(process.settings())
    try:
        assert_clean("the database rows", b"\n".join(database_rows(engine)), forms)
    finally:
        engine.dispose()
    assert_clean("the database files", database_files(database_url), forms)
    # Requests hold the partner's deliberate mistake above; the answers must not repeat it.
    assert_clean("HTTP responses", b"\n".join(exchanged["responses"]), forms)
