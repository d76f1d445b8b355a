"""No credential reaches the log: the redacting filter and the library levels."""

from __future__ import annotations

import logging

import pytest

from gateway.logging import REDACTED, CredentialRedactor, RateLimitedLog, configure_logging

JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJiYW5rLWEtMSJ9.c2lnbmF0dXJlLXBhcnQ"


@pytest.mark.parametrize(
    ("message", "secret"),
    [
        (f"Issue token {{'access_token': '{JWT}', 'expires_in': 300}}", JWT),
        (f"client_assertion={JWT}&grant_type=client_credentials", JWT),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("cookie __Host-ppsgate-session=s3ss10n-t0ken; other=1", "s3ss10n-t0ken"),
        ("form password=hunter2hunter2&totp=123456", "hunter2hunter2"),
        ("form password=hunter2hunter2&totp=123456", "123456"),
        ("{'password': 'correct horse', 'username': 'anna'}", "horse"),
        ('{"totp": "654321"}', "654321"),
    ],
)
def test_credentials_are_redacted(message: str, secret: str) -> None:
    record = logging.LogRecord("x", logging.DEBUG, __file__, 1, "%s", (message,), None)
    assert CredentialRedactor().filter(record)
    assert secret not in record.getMessage()
    assert REDACTED in record.getMessage()


def test_plain_lines_are_left_alone() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "refused: %s", ("quota",), None)
    CredentialRedactor().filter(record)
    assert record.getMessage() == "refused: quota"


def test_authlib_never_logs_below_info() -> None:
    configure_logging("DEBUG", as_json=False)
    assert not logging.getLogger("authlib.oauth2.rfc6749.grants").isEnabledFor(logging.DEBUG)


def test_rate_limited_log_samples_and_counts(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    log = RateLimitedLog(
        logging.getLogger("sampled"), interval_seconds=60, monotonic=lambda: now[0]
    )
    caplog.set_level(logging.INFO, logger="sampled")
    for _ in range(10):
        log.log(logging.INFO, "refused: %s", "x")
    now[0] = 61.0
    log.log(logging.INFO, "refused: %s", "x")
    lines = [record.getMessage() for record in caplog.records if record.name == "sampled"]
    assert lines == [
        "refused: x (0 more since the last such line)",
        "refused: x (9 more since the last such line)",
    ]
