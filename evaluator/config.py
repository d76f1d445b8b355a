"""The evaluator's settings: the one place that reads its environment (``PPSGATE_EVALUATOR_*``).

An evaluator is deployed by a party other than the gateway operator, so it has settings of
its own rather than a share of the gateway's. Production refuses development conveniences:
an implicit seed file in the data directory, an unconfigured token key or database, no pinned
client keys, and the gateway's URL as token audience (which would let one evaluator replay a
partner's token at the other).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.oprf.suite import MAX_BATCH
from evaluator.errors import EvaluatorConfigurationError

SUPPORTED_DATABASE_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
ENV_PREFIX = "PPSGATE_EVALUATOR_"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("ppsgate-evaluator", appauthor=False))


class EvaluatorSettings(BaseSettings):
    """All evaluator settings (documented in docs/oprf.md; a test keeps the two equal)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    env: Environment = Field(
        default=Environment.DEVELOPMENT, description="development, test or production."
    )
    name: str = Field(
        default="evaluator",
        min_length=1,
        max_length=64,
        description="This evaluator's name as partners pin it (shown in keys and logs).",
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Directory for the embedded SQLite database and the development seed file.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL for quota windows and the volume log; empty means SQLite "
        "in the data directory.",
    )
    seed_file: Path | None = Field(
        default=None,
        description="File (mode 0600, outside the database) with one 32-byte seed per epoch; "
        "keys are derived from it with RFC 9497 DeriveKeyPair. Required in production.",
    )
    token_issuer: str = Field(
        default="http://127.0.0.1:8000",
        description="The gateway's public URL: the iss access tokens must carry.",
    )
    token_audience: str = Field(
        default="",
        description="The aud access tokens must carry: this evaluator's URL as pinned, the "
        "RFC 8707 resource connectors request tokens for (the gateway lists it in "
        "PPSGATE_TOKEN_RESOURCES). Empty means the issuer, which lets an evaluator replay a "
        "partner's token at another: refused in production.",
    )
    client_keys_file: Path | None = Field(
        default=None,
        description="The partners' connector public keys pinned at this evaluator (JSON, "
        "`ppsgate evaluator clients add`). When set, every request needs a DPoP proof signed "
        "by the pinned key of the token's client, so the gateway operator, which can mint "
        "tokens, cannot query in a partner's name. Required in production.",
    )
    token_jwks_file: Path | None = Field(
        default=None,
        description="JWKS file with the gateway's token-signing public key(s).",
    )
    token_jwks_url: str = Field(
        default="",
        description="URL of the gateway's JWKS (/.well-known/jwks.json), used when no file "
        "is given; fetched at start and again when a token names an unknown key.",
    )
    required_scope: str = Field(
        default="oprf:evaluate",
        min_length=1,
        description="Scope an access token must carry to be evaluated for.",
    )
    quota_window_seconds: Annotated[int, Field(ge=60, le=31 * 86400)] = Field(
        default=86400, description="Length of a quota window, in seconds (fixed windows)."
    )
    quota_per_window: Annotated[int, Field(ge=0)] = Field(
        default=2_000_000, description="Elements one partner may have evaluated per window."
    )
    partner_quotas: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict,
        description='Per-partner overrides of the quota, as JSON ({"bank-a": 5000000}); '
        "0 blocks a partner.",
    )
    max_batch: Annotated[int, Field(ge=1, le=MAX_BATCH)] = Field(
        default=10_000, description="Most blinded elements accepted in one request."
    )
    max_body_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = Field(
        default=2 * 1024 * 1024, description="Largest request body accepted, in bytes."
    )
    log_level: str = Field(default="INFO", description="Python log level name.")

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and value.split("://", 1)[0] not in SUPPORTED_DATABASE_SCHEMES:
            allowed = ", ".join(SUPPORTED_DATABASE_SCHEMES)
            raise ValueError(f"unsupported scheme; use one of {allowed}")
        return value

    @field_validator("token_issuer", "token_jwks_url", "token_audience")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return upper

    @model_validator(mode="after")
    def _production_is_explicit(self) -> EvaluatorSettings:
        if self.env is Environment.PRODUCTION:
            missing = [
                name
                for name, value in (
                    ("SEED_FILE", self.seed_file),
                    ("DATABASE_URL", self.database_url),
                    ("TOKEN_JWKS_FILE or _URL", self.token_jwks_file or self.token_jwks_url),
                    ("CLIENT_KEYS_FILE", self.client_keys_file),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    "production needs explicit "
                    + ", ".join(ENV_PREFIX + name for name in missing)
                    + " (development defaults are refused)"
                )
            if not self.token_issuer.startswith("https://"):
                raise ValueError(f"{ENV_PREFIX}TOKEN_ISSUER must use https in production")
            if self.audience == self.token_issuer:
                raise ValueError(
                    f"production needs {ENV_PREFIX}TOKEN_AUDIENCE set to this evaluator's own "
                    "URL (RFC 8707): with the gateway as audience, a partner's token shown to "
                    "one evaluator is accepted by the other"
                )
        if self.client_keys_file is not None and not self.token_audience:
            raise ValueError(
                f"{ENV_PREFIX}CLIENT_KEYS_FILE needs {ENV_PREFIX}TOKEN_AUDIENCE (this evaluator's "
                "URL as pinned): proofs are checked against it, not against the Host header"
            )
        return self

    @property
    def audience(self) -> str:
        return self.token_audience or self.token_issuer

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+pysqlite:///{self.data_dir / 'evaluator.sqlite3'}"

    @property
    def effective_seed_file(self) -> Path:
        return self.seed_file or self.data_dir / "keys" / "evaluator-seeds"

    def quota_for(self, partner_id: str) -> int:
        return self.partner_quotas.get(partner_id, self.quota_per_window)


def load_evaluator_settings(**overrides: object) -> EvaluatorSettings:
    """Settings from the environment and overrides; a validation error becomes one line."""
    try:
        return EvaluatorSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "settings"
        variable = f"{ENV_PREFIX}{field.upper()}" if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise EvaluatorConfigurationError(f"{variable}: {message}") from None
