"""Pushing alerts to partners' webhooks: signed, retried with backoff, never in a request.

Delivery runs in a background thread of each worker and reads alerts that were already
committed, so the request that created an alert never waits for a partner's server. It is
at-least-once and ordered per partner: ``delivered_seq`` advances only after a 2xx answer,
and a failing endpoint is retried with exponential backoff (capped at an hour).

Each delivery carries ``X-PPSGate-Timestamp`` and ``X-PPSGate-Signature: v1=<hex>`` with
``HMAC-SHA256(secret, timestamp + "." + body)``; the receiver recomputes it and refuses
stale timestamps. The secret is derived from K_gw, so it is never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.alerts.destinations import DestinationRefusedError, resolve
from gateway.alerts.disclosures import record_webhook_delivery
from gateway.alerts.models import Alert, WebhookEndpoint
from gateway.alerts.schemas import AlertOut
from gateway.db import transaction
from gateway.services import Services

logger = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)
BATCH = 100
SIGNATURE_HEADER = "X-PPSGate-Signature"
TIMESTAMP_HEADER = "X-PPSGate-Timestamp"


def webhook_secret(services: Services, endpoint: WebhookEndpoint) -> str:
    """The endpoint's signing secret, from the K_gw key current when it was registered.

    Pinning the key id keeps a partner's secret stable across pepper rotations; a new
    registration takes the newest key.
    """
    key_id = endpoint.secret_key_id or services.pepper.entries[0].key_id
    pepper = services.pepper.by_id(key_id)
    return pepper.reference(f"webhook:{endpoint.partner_id}:{endpoint.secret_version}").hex()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(bytes.fromhex(secret), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def alert_out(alert: Alert) -> AlertOut:
    return AlertOut(
        cursor=alert.seq,
        type=alert.type,
        watch_id=alert.watch_id,
        about_request_id=alert.about_request_id,
        about_row=alert.about_row,
        kind=alert.kind or None,
        purpose=alert.purpose or None,
        disclosed=json.loads(alert.disclosed),
        obligations=json.loads(alert.obligations or "[]"),
        created_at=alert.created_at,
    )


def register(session: Session, services: Services, partner_id: str, url: str) -> tuple[str, int]:
    """Set the partner's endpoint; a new registration rotates the secret. Returns it."""
    resolve(url, allow_loopback=services.settings.unsafe_webhook_loopback)
    now = services.clock.now()
    endpoint = session.get(WebhookEndpoint, partner_id)
    if endpoint is None:
        endpoint = WebhookEndpoint(
            partner_id=partner_id,
            url=url,
            secret_version=1,
            secret_key_id=services.pepper.newest.key_id,
            delivered_seq=0,
            attempts=0,
            next_attempt_at=now,
            updated_at=now,
        )
        session.add(endpoint)
    else:
        endpoint.url = url
        endpoint.secret_version += 1
        endpoint.secret_key_id = services.pepper.newest.key_id
        endpoint.attempts = 0
        endpoint.next_attempt_at = now
        endpoint.updated_at = now
    session.flush()
    return webhook_secret(services, endpoint), endpoint.secret_version


def deliver_due(services: Services, http: httpx.Client) -> int:
    """Deliver one batch to every endpoint that is due; returns alerts delivered."""
    delivered = 0
    now = services.clock.now()
    with transaction(services.session_factory) as session:
        due = [
            endpoint.partner_id
            for endpoint in session.execute(
                select(WebhookEndpoint).where(WebhookEndpoint.next_attempt_at <= now)
            ).scalars()
        ]
    for partner_id in due:
        with transaction(services.session_factory) as session:
            endpoint = session.execute(
                select(WebhookEndpoint)
                .where(WebhookEndpoint.partner_id == partner_id)
                .with_for_update(skip_locked=True)
            ).scalar_one_or_none()
            if endpoint is None:
                continue  # another worker is delivering to it
            delivered += _deliver(session, services, http, endpoint, now)
    return delivered


def _deliver(
    session: Session,
    services: Services,
    http: httpx.Client,
    endpoint: WebhookEndpoint,
    now: datetime,
) -> int:
    alerts = list(
        session.execute(
            select(Alert)
            .where(Alert.partner_id == endpoint.partner_id, Alert.seq > endpoint.delivered_seq)
            .order_by(Alert.seq)
            .limit(BATCH)
        ).scalars()
    )
    if not alerts:
        return 0
    body = json.dumps(
        {"alerts": [alert_out(a).model_dump(mode="json", exclude_none=True) for a in alerts]},
        separators=(",", ":"),
    ).encode()
    timestamp = str(int(now.timestamp()))
    secret = webhook_secret(services, endpoint)
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }
    ok, problem = _post(services, http, endpoint.url, body, headers)
    record_webhook_delivery(session, services, endpoint.partner_id, alerts, accepted=ok)
    if ok:
        endpoint.delivered_seq = alerts[-1].seq
        endpoint.attempts = 0
        endpoint.last_error = None
        endpoint.next_attempt_at = now
    else:
        endpoint.attempts += 1
        backoff = min(timedelta(seconds=2 ** min(endpoint.attempts, 12)), MAX_BACKOFF)
        endpoint.next_attempt_at = now + backoff
        endpoint.last_error = problem[:200]
        logger.warning(
            "webhook delivery to %s failed (%s); retry in %s", endpoint.partner_id, problem, backoff
        )
    endpoint.updated_at = now
    session.flush()
    return len(alerts) if ok else 0


def _post(
    services: Services, http: httpx.Client, url: str, body: bytes, headers: dict[str, str]
) -> tuple[bool, str]:
    """Resolve and check the destination again, then post to the checked address."""
    try:
        target = resolve(url, allow_loopback=services.settings.unsafe_webhook_loopback)
    except DestinationRefusedError as exc:
        return False, f"destination refused: {exc.reason}"
    try:
        response = http.post(
            target.url,
            content=body,
            headers={**headers, "Host": target.host_header},
            extensions={"sni_hostname": target.hostname},
        )
    except httpx.HTTPError as exc:
        return False, type(exc).__name__
    return 200 <= response.status_code < 300, f"HTTP {response.status_code}"


class WebhookDispatcher:
    """The background thread of one worker."""

    def __init__(
        self, services: Services, *, poll_seconds: float = 1.0, timeout_seconds: float = 5.0
    ) -> None:
        self.services = services
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        with httpx.Client(timeout=self.timeout_seconds, follow_redirects=False) as http:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    deliver_due(self.services, http)
                except Exception:  # a database outage must not end delivery for good
                    logger.exception("webhook delivery round failed")
                self._stop.wait(max(0.0, self.poll_seconds - (time.monotonic() - started)))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
