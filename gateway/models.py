"""Imports every area's models so that ``Base.metadata`` knows all tables (for Alembic)."""

from gateway import idempotency as idempotency_models
from gateway.abuse import models as abuse_models
from gateway.alerts import models as alerts_models
from gateway.audit_trail import models as audit_trail_models
from gateway.auth import models as auth_models
from gateway.console.helpdesk import models as helpdesk_models
from gateway.disputes import models as disputes_models
from gateway.epochs import models as epochs_models
from gateway.feedback import models as feedback_models
from gateway.indicators import models as indicators_models
from gateway.keys import models as keys_models
from gateway.partners import models as partners_models
from gateway.policy import models as policy_models
from gateway.requests import models as requests_models

__all__ = [
    "abuse_models",
    "alerts_models",
    "audit_trail_models",
    "auth_models",
    "disputes_models",
    "epochs_models",
    "feedback_models",
    "helpdesk_models",
    "idempotency_models",
    "indicators_models",
    "keys_models",
    "partners_models",
    "policy_models",
    "requests_models",
]
