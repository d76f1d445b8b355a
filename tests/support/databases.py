"""Fresh, migrated databases per test on SQLite and PostgreSQL.

Each backend is migrated once per run into a template; every test then gets its own copy
(a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), so tests are isolated
even when they commit, run several processes or kill a server mid-request.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from gateway.config import load_settings
from gateway.db import build_engine
from gateway.migrate import upgrade

PG_ENV = "PPSGATE_TEST_DATABASE_URL"


def postgres_base_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _admin_conninfo(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


class PostgresTemplates:
    """Creates a migrated template database once and clones it per test."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.prefix = f"ppsgate_t_{secrets.token_hex(3)}"
        self.template = f"{self.prefix}_tpl"
        self.created: list[str] = []
        self._ready = False

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(_admin_conninfo(self.base_url), autocommit=True)

    def _prepare(self) -> None:
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.template}"')
        engine = build_engine(
            load_settings(database_url=_with_database(self.base_url, self.template))
        )
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        self._ready = True

    def fresh(self) -> str:
        if not self._ready:
            self._prepare()
        name = f"{self.prefix}_{len(self.created)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return _with_database(self.base_url, name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self._admin() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

    def close(self) -> None:
        if self._ready:
            self.drop(_with_database(self.base_url, self.template))


class SqliteTemplates:
    """Migrates one SQLite file and copies it per test."""

    def __init__(self, directory: Path) -> None:
        self.template = directory / "template.sqlite3"
        self.count = 0
        self._ready = False

    def fresh(self, directory: Path) -> str:
        if not self._ready:
            url = f"sqlite+pysqlite:///{self.template}"
            engine = build_engine(load_settings(database_url=url))
            try:
                upgrade(engine)
            finally:
                engine.dispose()
            self._ready = True
        self.count += 1
        target = directory / f"ppsgate-{self.count}.sqlite3"
        shutil.copyfile(self.template, target)
        return f"sqlite+pysqlite:///{target}"
