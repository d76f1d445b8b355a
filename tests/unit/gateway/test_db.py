from __future__ import annotations

from sqlalchemy import inspect

from gateway.config import load_settings
from gateway.db import build_engine
from gateway.migrate import is_up_to_date


def test_fresh_database_is_migrated_to_head(database_url: str) -> None:
    engine = build_engine(load_settings(database_url=database_url))
    try:
        assert is_up_to_date(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"partners", "partner_clients", "indicators"} <= tables
    finally:
        engine.dispose()
