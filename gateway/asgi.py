"""ASGI entry point for servers: ``uvicorn --factory gateway.asgi:app_from_environment``."""

from __future__ import annotations

from fastapi import FastAPI

from gateway.app import create_app
from gateway.config import load_settings


def app_from_environment() -> FastAPI:
    """Build the app from ``PPSGATE_*`` settings (each worker process calls this once)."""
    return create_app(load_settings())
