"""Quotas and enumeration detection over HTTP, with two gateway workers on one database.

The gateways run the shipped Rego with tiny quotas (a copy of the policies), so a limit is
reached in a few requests. Each "worker" is a separate app with its own services, pool and
memory, sharing only the database — as uvicorn workers or replicas do.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from connectors.client import GatewayClient
from connectors.keystore import ConnectorKeys
from gateway.abuse.models import EnumerationAlert, QuotaUsage
from gateway.abuse.queries import list_alerts
from gateway.app import create_app
from gateway.audit_trail.events import Actor
from gateway.audit_trail.models import AuditEntry
from gateway.bootstrap import build_services
from gateway.db import transaction
from gateway.partners.service import PartnerRegistry
from gateway.server import BackgroundServer
from tests.support.gateway import Gateway, Partner, running_gateway
from tests.support.policies import with_quotas

SCREEN = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}
BATCH = {"purpose": "batch_screening", "legal_basis": "art6_1_c"}
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
TINY = {
    "payment_screening": {"window_seconds": 3600, "partner": 5, "client": 3},
    "batch_screening": {
        "window_seconds": 3600,
        "partner": 1000,
        "client": 1000,
        "enumeration": {"min_distinct": 50, "max_hit_ratio": 0.05},
    },
    "indicator_submission": {"window_seconds": 3600, "partner": 4, "client": 4},
}


@contextmanager
def tiny_quota_gateway(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    policies = with_quotas(tmp_path / "policies", TINY)
    with running_gateway(database_url, tmp_path / "data", policy_dir=policies) as gateway:
        yield gateway


def second_client(gateway: Gateway, partner_id: str, url: str | None = None) -> GatewayClient:
    keys = ConnectorKeys.generate()
    with transaction(gateway.services.session_factory) as session:
        PartnerRegistry(
            session, gateway.services.audit, actor=Actor(request_id="t", user="t")
        ).add_client(
            partner_id=partner_id,
            jwk=keys.public_jwks(),
            scopes=["match:query"],
            client_id=f"{partner_id}-c2",
        )
    return GatewayClient(
        url or gateway.url,
        f"{partner_id}-c2",
        keys,
        max_attempts=1,
        clock=lambda: gateway.clock.now().timestamp(),
    )


def raw(client: GatewayClient, url: str, body: dict[str, Any]) -> httpx.Response:
    """One POST /v1/match without the connector's retries, to see the bare answer."""
    return httpx.post(
        f"{url}/v1/match",
        json=body,
        headers={"Authorization": f"Bearer {client.access_token()}"},
        timeout=30,
    )


def random_items(partner: Partner, count: int) -> list[dict[str, Any]]:
    return [
        {"kind": "iban", "epoch": partner.tokeniser.epoch, "token": secrets.token_hex(32)}
        for _ in range(count)
    ]


def audit_bodies(gateway: Gateway, tag: str) -> list[dict[str, Any]]:
    with transaction(gateway.services.session_factory) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.tag == tag)).all()
        return [json.loads(entry.body) for entry in entries]


def test_quota_answers_429_with_retry_after_and_audits(database_url: str, tmp_path: Path) -> None:
    with tiny_quota_gateway(database_url, tmp_path) as gateway:
        bank = gateway.partner("bank-a")
        one = {**SCREEN, "items": random_items(bank, 1)}
        for _ in range(3):
            assert raw(bank.client, gateway.url, one).status_code == 200
        refused = raw(bank.client, gateway.url, one)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        window_end = (int(gateway.clock.now().timestamp()) // 3600 + 1) * 3600
        assert int(refused.headers["retry-after"]) == window_end - int(
            gateway.clock.now().timestamp()
        )
        problem = refused.json()
        assert (problem["code"], problem["field"], problem["status"]) == (
            "quota-exceeded",
            "items",
            429,
        )
        assert "client quota" in problem["detail"]

        # The client's quota is used up, the partner's is not: its second client gets 2 more.
        other = second_client(gateway, "bank-a")
        assert [raw(other, gateway.url, one).status_code for _ in range(3)] == [200, 200, 429]
        assert "partner quota" in raw(other, gateway.url, one).json()["detail"]
        denials = audit_bodies(gateway, "match:query:deny")
        assert [d["reasons"] for d in denials] == [["quota-exceeded"]] * 3
        assert {d["actor"]["client"] for d in denials} == {"bank-a-c1", "bank-a-c2"}

        # The next window refills both quotas (this client signs with the gateway's clock).
        gateway.clock.current += timedelta(hours=1)
        other.invalidate_token()
        assert raw(other, gateway.url, one).status_code == 200
        other.close()


def test_submissions_are_metered_too(database_url: str, tmp_path: Path) -> None:
    with tiny_quota_gateway(database_url, tmp_path) as gateway:
        marketplace = gateway.partner("marketplace-a")
        item = {
            **marketplace.item("iban", "NL91ABNA0417164300"),
            "category": "purchase_fraud",
            "observed_at": gateway.clock.now().isoformat(),
        }
        token = marketplace.client.access_token()
        answers = [
            httpx.post(
                f"{gateway.url}/v1/indicators",
                json={**SUBMIT, "items": [{**item, "reference": f"case-{n}"}] * 2},
                headers={"Authorization": f"Bearer {token}"},
            )
            for n in range(3)
        ]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[0].json()["accepted"] == 1
        assert answers[2].headers["retry-after"].isdigit()
        denial = audit_bodies(gateway, "indicator:batch:deny")[-1]
        assert denial["reasons"] == ["quota-exceeded"]


def test_quota_holds_across_two_workers_under_concurrency(
    database_url: str, tmp_path: Path
) -> None:
    with tiny_quota_gateway(database_url, tmp_path) as gateway:
        bank = gateway.partner("bank-a")
        other = second_client(gateway, "bank-a")
        # A second worker: its own services (pool, policy engine, memory), same database.
        settings = gateway.services.settings
        services = build_services(settings, clock=gateway.clock)
        worker = BackgroundServer(create_app(settings, services=services)).start()
        try:
            one = {**SCREEN, "items": random_items(bank, 1)}
            calls = [
                (client, url)
                for client in (bank.client, other)
                for url in (gateway.url, worker.url)
                for _ in range(4)
            ]
            with ThreadPoolExecutor(max_workers=8) as pool:
                statuses = Counter(
                    pool.map(lambda call: raw(call[0], call[1], one).status_code, calls)
                )
        finally:
            worker.stop()
            services.engine.dispose()
            other.close()
        # 16 attempts, partner quota 5: exactly 5 admitted whichever worker served them.
        assert statuses == Counter({200: 5, 429: 11})
        with transaction(gateway.services.session_factory) as session:
            rows = session.scalars(select(QuotaUsage)).all()
        used = {(row.scope, row.subject): row.used for row in rows}
        assert used[("partner", "bank-a")] == 5
        assert used[("client", "bank-a-c1")] + used[("client", "bank-a-c2")] == 5
        assert len(audit_bodies(gateway, "match:query:deny")) == 11


def test_dictionary_run_alerts_the_dpo_once(database_url: str, tmp_path: Path) -> None:
    with tiny_quota_gateway(database_url, tmp_path) as gateway:
        prober, screener = gateway.partner("bank-a"), gateway.partner("marketplace-a")
        # The marketplace screens the same 30 sellers three times: repeats, not distinct.
        sellers = random_items(screener, 30)
        rescreen = {"purpose": "batch_screening", "legal_basis": "art6_1_f", "items": sellers}
        for _ in range(3):
            assert screener.post("/v1/match", rescreen)["hits"] == 0
        # bank-a tries 25 guessed tokens at a time: misses, all distinct.
        for _ in range(4):
            answer = prober.post("/v1/match", {**BATCH, "items": random_items(prober, 25)})
            assert answer["hits"] == 0  # detection alerts; it does not change answers
        with transaction(gateway.services.session_factory) as session:
            alerts = session.scalars(select(EnumerationAlert)).all()
            (view,) = list_alerts(session)
        (alert,) = alerts
        assert (alert.partner_id, alert.purpose, alert.kind) == (
            "bank-a",
            "batch_screening",
            "dictionary-querying",
        )
        assert (alert.items, alert.distinct_tokens, alert.hits) == (50, 50, 0)
        assert view.audit_seq == alert.audit_seq
        (detected,) = audit_bodies(gateway, "abuse:enumeration:detect")
        assert detected["actor"]["partner"] == "bank-a"
        assert detected["counts"]["distinct_tokens"] == 50
