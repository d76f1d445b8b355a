"""The gateway's settings: the one place that reads the environment.

Everything configurable is a field here, read from ``PPSGATE_*`` variables or an optional
``.env`` file, validated once in :func:`load_settings` and passed down explicitly. Production
mode refuses development conveniences (generated keys, permissive test components) so that a
misconfigured deployment fails at start-up instead of running unsafely.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Annotated, ClassVar
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.errors import ConfigurationError

SUPPORTED_DATABASE_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")


class Environment(StrEnum):
    """Where the gateway runs; production forbids development shortcuts."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def default_data_dir() -> Path:
    """The per-user data directory used by the embedded defaults."""
    return Path(platformdirs.user_data_dir("ppsgate", appauthor=False))


class Settings(BaseSettings):
    """All gateway settings. Field docs are rendered into the README's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="PPSGATE_", env_file=".env", extra="ignore", frozen=True
    )

    env: Environment = Field(
        default=Environment.DEVELOPMENT, description="development, test or production."
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory for the embedded SQLite database and development keys.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means SQLite in the data directory. "
        "PostgreSQL: postgresql+psycopg://user@host/db.",
    )
    database_pool_size: Annotated[int, Field(ge=1, le=200)] = Field(
        default=10, description="PostgreSQL connection pool size per worker."
    )
    database_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = Field(
        default=5.0,
        description="Bound of every database wait (connect, statement, and on the client side a "
        "server that stops answering); a request fails with 503 after it.",
    )
    opa_url: str = Field(
        default="",
        description="OPA server base URL; empty means the embedded Rego engine (regorus).",
    )
    policy_dir: Path | None = Field(
        default=None, description="Policy bundle directory; empty means the bundled policies."
    )
    policy_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = Field(
        default=1.0, description="Time limit for one policy decision; exceeding it denies."
    )
    policy_cache_seconds: Annotated[float, Field(ge=0, le=60)] = Field(
        default=1.0,
        description="How long a worker reuses the embedded engine's decision for an identical "
        "request (same policy version; never with OPA); 0 decides every request afresh.",
    )
    registry_cache_seconds: Annotated[float, Field(ge=0, le=3600)] = Field(
        default=60.0,
        description="PostgreSQL: how long a worker may reuse what it read of a client, its "
        "partner and the key epochs; every change to them ends it at once (LISTEN/NOTIFY), "
        "and while the worker cannot listen it reads them on every request. 0 reads them on "
        "every request.",
    )
    pepper_file: Path | None = Field(
        default=None,
        description="File (mode 0600) holding K_gw, the keys that pepper tokens at rest: "
        "one `<first salt epoch>:<hex>` line per key (`ppsgate pepper add`). "
        "Development generates one in the data directory.",
    )
    audit_signing_key_file: Path | None = Field(
        default=None,
        description="File (mode 0600) with the Ed25519 key that signs audit checkpoints. "
        "Development generates one in the data directory.",
    )
    audit_origin: str = Field(
        default="ppsgate.local/audit",
        description="Checkpoint origin line (C2SP tlog-checkpoint); unique per log.",
    )
    audit_checkpoint_max_entries: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=1000, description="Sign a new audit checkpoint after at most this many entries."
    )
    audit_checkpoint_max_seconds: Annotated[float, Field(gt=0, le=86_400)] = Field(
        default=60.0,
        description="Sign a new audit checkpoint at least this often (seconds) while entries "
        "arrive.",
    )
    audit_witness_keys: list[str] = Field(
        default_factory=list,
        description="Witness verifier keys (C2SP vkeys, type 0x04) whose cosignatures the "
        "gateway accepts and publishes; a JSON list in the environment.",
    )
    audit_detail_retention_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        default=180,
        description="Days an audit detail record (peppered tokens asked, what was disclosed) "
        "is kept before purging; entries themselves are kept for good.",
    )
    max_body_bytes: Annotated[int, Field(ge=1024, le=256 * 1024 * 1024)] = Field(
        default=8 * 1024 * 1024, description="Largest request body accepted, in bytes."
    )
    maintenance_interval_seconds: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=10.0,
        description="How often each worker checks for a newly activated policy version.",
    )
    purge_interval_seconds: Annotated[float, Field(gt=0, le=7 * 86_400)] = Field(
        default=3600.0,
        description="How often each worker runs the retention purge (ppsgate purge does it "
        "on demand).",
    )
    key_epoch_overlap_days: Annotated[int, Field(ge=0, le=365)] = Field(
        default=30,
        description="Days the previous salt epoch stays valid after the next one is "
        "activated (partners re-hash meanwhile); then its indicators and watch entries are "
        "purged. The custodian may choose another window per activation.",
    )
    log_level: str = Field(default="INFO", description="Python log level name.")
    log_json: bool = Field(default=False, description="Emit logs as JSON lines.")
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The gateway's public base URL: issuer (iss) and audience (aud) of its "
        "access tokens; the token endpoint is this URL plus /oauth/token. Must be https "
        "(plain http only for a loopback address outside production).",
    )
    token_signing_key_file: Path | None = Field(
        default=None,
        description="File (mode 0600) with the P-256 key (hex scalar) that signs access tokens "
        "(ES256). Development generates one in the data directory.",
    )
    access_token_lifetime_seconds: Annotated[int, Field(ge=30, le=3600)] = Field(
        default=300, description="Lifetime of issued access tokens, in seconds."
    )
    token_resources: list[str] = Field(
        default_factory=list,
        description="Resource servers (RFC 8707) the token endpoint issues audience-restricted "
        "tokens for: the VOPRF evaluators' URLs, a JSON list in the environment. A token "
        "requested with resource=<one of them> carries it as aud (and scope oprf:evaluate "
        "only), so an evaluator cannot replay it at another.",
    )
    client_assertion_max_lifetime_seconds: Annotated[int, Field(ge=10, le=900)] = Field(
        default=300,
        description="Longest exp - now accepted in a client assertion (private_key_jwt); "
        "longer-lived assertions are refused.",
    )
    console_session_lifetime_seconds: Annotated[int, Field(ge=300, le=86400)] = Field(
        default=8 * 3600, description="Absolute lifetime of a console session, in seconds."
    )
    console_idle_timeout_seconds: Annotated[int, Field(ge=60, le=86400)] = Field(
        default=1800, description="A console session unused this long ends, in seconds."
    )
    console_max_failed_signins: Annotated[int, Field(ge=1, le=100)] = Field(
        default=5, description="Failed console sign-ins in a row before the account locks."
    )
    console_lockout_seconds: Annotated[int, Field(ge=1, le=86400)] = Field(
        default=900, description="How long a locked console account stays locked, in seconds."
    )
    unsafe_webhook_loopback: bool = Field(
        default=False,
        description="UNSAFE, for tests only: let webhooks point at loopback addresses "
        "(http or https). Every other non-public address stays refused; production refuses "
        "this setting.",
    )
    forwarded_allow_ips: list[str] = Field(
        default_factory=list,
        description="Addresses of the TLS-terminating reverse proxy whose X-Forwarded-For and "
        "X-Forwarded-Proto headers `ppsgate serve` trusts (a JSON list; `*` trusts everyone, "
        "only for a socket nobody else reaches); empty trusts no forwarded header.",
    )

    # Whether production requires the key files and public URL; the database-only settings
    # (``db upgrade``) and ``init`` (which makes the keys) do without them.
    keys_required: ClassVar[bool] = True

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and value.split("://", 1)[0] not in SUPPORTED_DATABASE_SCHEMES:
            scheme = value.split("://", 1)[0]
            allowed = ", ".join(SUPPORTED_DATABASE_SCHEMES)
            raise ValueError(f"unsupported scheme {scheme!r}; use one of {allowed}")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return upper

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if (
            parts.scheme not in {"https", "http"}
            or not parts.hostname
            or parts.query
            or parts.fragment
        ):
            raise ValueError("must be an http(s) URL without query or fragment")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ValueError(
                "must use https unless it names a loopback address (OAuth 2 needs TLS)"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _no_unsafe_in_production(self) -> Settings:
        if self.env is Environment.PRODUCTION and self.unsafe_webhook_loopback:
            raise ValueError("PPSGATE_UNSAFE_WEBHOOK_LOOPBACK is for tests; production refuses it")
        return self

    @field_validator("token_resources")
    @classmethod
    def _resource_urls(cls, values: list[str]) -> list[str]:
        checked = []
        for value in values:
            parts = urlsplit(value)
            if (
                parts.scheme not in {"https", "http"}
                or not parts.hostname
                or parts.fragment
                or parts.query
            ):
                raise ValueError(
                    f"{value!r}: a resource is an absolute http(s) URL without "
                    "query or fragment (RFC 8707)"
                )
            checked.append(value.rstrip("/"))
        return checked

    @model_validator(mode="after")
    def _resources_are_not_the_gateway(self) -> Settings:
        if self.public_url in self.token_resources:
            raise ValueError(
                "PPSGATE_TOKEN_RESOURCES lists the gateway's own URL; it names "
                "the evaluators (tokens for the gateway need no resource)"
            )
        return self

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, values: list[str]) -> list[str]:
        for value in values:
            if value == "*":
                continue
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError(f"{value!r} is not an IP address or network (or *)") from None
        return values

    @model_validator(mode="after")
    def _auth_production_rules(self) -> Settings:
        if self.env is Environment.PRODUCTION and self.keys_required:
            if not self.public_url.startswith("https://"):
                raise ValueError("PPSGATE_PUBLIC_URL must use https in production")
            if self.token_signing_key_file is None:
                raise ValueError(
                    "production needs explicit PPSGATE_TOKEN_SIGNING_KEY_FILE "
                    "(development defaults are refused)"
                )
        return self

    @property
    def token_endpoint_url(self) -> str:
        """Where clients get tokens; also the ``aud`` their assertions must name."""
        return f"{self.public_url}/oauth/token"

    @model_validator(mode="after")
    def _production_is_explicit(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            required: list[tuple[str, object]] = [("PPSGATE_DATABASE_URL", self.database_url)]
            if self.keys_required:
                required += [
                    ("PPSGATE_PEPPER_FILE", self.pepper_file),
                    ("PPSGATE_AUDIT_SIGNING_KEY_FILE", self.audit_signing_key_file),
                ]
            missing = [name for name, value in required if not value]
            if missing:
                raise ValueError(
                    "production needs explicit "
                    + ", ".join(missing)
                    + " (development defaults are refused)"
                )
        return self

    @property
    def effective_database_url(self) -> str:
        """The URL actually used: the configured one or SQLite in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+pysqlite:///{self.data_dir / 'ppsgate.sqlite3'}"

    @property
    def is_postgres(self) -> bool:
        return self.effective_database_url.startswith("postgresql")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DatabaseSettings(Settings):
    """The settings of commands that touch only the schema (``ppsgate db upgrade``).

    Production still needs an explicit database URL, but no key file and no public URL:
    migrating a fresh database comes before the keys are distributed, and never needs them.
    """

    keys_required: ClassVar[bool] = False


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation errors into one clear line."""
    return _load(Settings, overrides)


def load_database_settings(**overrides: object) -> Settings:
    """Settings for schema-only commands: production needs no key file (see DatabaseSettings)."""
    return _load(DatabaseSettings, overrides)


def _load(kind: type[Settings], overrides: dict[str, object]) -> Settings:
    try:
        return kind(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "settings"
        variable = f"PPSGATE_{field.upper()}" if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigurationError(f"{variable}: {message}") from None


def settings_table() -> str:
    """The README's configuration table, generated so that it cannot drift from the code."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        if info.default_factory is not None:
            if name == "data_dir":
                default = "(per user data directory)"
            else:
                made = info.get_default(call_default_factory=True, validated_data={})
                default = "(empty)" if made in ([], {}) else "(computed)"
        elif info.default in (None, ""):
            default = "(empty)"
        else:
            default = f"`{info.default}`"
        rows.append(f"| `PPSGATE_{name.upper()}` | {default} | {info.description or ''} |")
    return "\n".join(rows)
