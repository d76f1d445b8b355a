"""The counter engine is part of the services: the same database, its own small pool,
disposed when the services' engine is."""

from __future__ import annotations

from sqlalchemy import text

from gateway.abuse.counters import counter_statement, counter_transaction
from gateway.services import Services


def test_counter_engine_is_built_with_the_services_on_the_same_database(
    services: Services,
) -> None:
    assert services.counter_engine is not services.engine
    assert services.counter_engine.url == services.engine.url
    assert services.counter_engine.pool.size() == max(  # type: ignore[attr-defined]
        1, services.settings.database_pool_size // 2
    )
    with counter_transaction(services) as connection:
        assert connection.engine is services.counter_engine
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
    with counter_statement(services) as connection:
        assert connection.engine is services.counter_engine


def test_disposing_the_services_engine_disposes_the_counter_engine(services: Services) -> None:
    with counter_transaction(services) as connection:
        connection.execute(text("SELECT 1"))
    pool = services.counter_engine.pool
    assert pool.checkedin() == 1  # type: ignore[attr-defined]
    services.engine.dispose()
    assert services.counter_engine.pool is not pool  # a disposed engine gets a fresh pool
    assert services.counter_engine.pool.checkedin() == 0  # type: ignore[attr-defined]
