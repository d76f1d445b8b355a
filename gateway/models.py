"""Imports every area's models so that ``Base.metadata`` knows all tables (for Alembic)."""

from gateway.auth import models as auth_models
from gateway.indicators import models as indicators_models
from gateway.partners import models as partners_models

__all__ = ["auth_models", "indicators_models", "partners_models"]
