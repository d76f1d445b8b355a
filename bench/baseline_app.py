"""The "minimal durable request" baseline: a bare FastAPI endpoint, one indexed SELECT and one
INSERT with COMMIT on the same database, served exactly like the gateway.

    uvicorn --factory bench.baseline_app:create --loop uvloop --http httptools
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import create_engine, text


class Item(BaseModel):
    token: str


def create() -> FastAPI:
    url = os.environ["BENCH_DATABASE_URL"]
    engine = create_engine(url, pool_size=20, max_overflow=20)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE IF NOT EXISTS bench_requests (id bigserial PRIMARY KEY, "
                "token_hash bytea, hits int, at timestamptz DEFAULT now())"
            )
        )
    app = FastAPI()

    @app.post("/baseline")
    def baseline(item: Item) -> dict[str, int]:
        token_hash = bytes.fromhex(item.token)
        with engine.begin() as connection:
            hits = connection.execute(
                text("SELECT count(*) FROM indicators WHERE token_hash = :t"), {"t": token_hash}
            ).scalar_one()
            connection.execute(
                text("INSERT INTO bench_requests (token_hash, hits) VALUES (:t, :h)"),
                {"t": token_hash, "h": hits},
            )
        return {"hits": int(hits)}

    return app
