"""docker/: the compose file and its env file give the production gateway every setting.

No Docker engine runs here, so the file is read as the engine would read it: each service's
``env_file`` and ``environment`` (plus the image's ENV), secrets mounted at
``/run/secrets/<name>`` from the files the compose file names. The secret files are made by
``ppsgate init`` under the names the compose file expects, and the gateway's own settings
validator and key loaders must accept the result.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values

from gateway.audit_trail.keys import load_signing_key
from gateway.auth.keys import load_token_signing_key
from gateway.config import Settings, load_database_settings, load_settings
from gateway.keys.bootstrap import initialise
from gateway.pepper import load_pepper

ROOT = Path(__file__).resolve().parents[3]
DOCKER = ROOT / "docker"
SECRETS = "/run/secrets/"
# Services built from docker/Dockerfile that run the gateway's code with gateway.env.
GATEWAY_SERVICES = ("migrate", "gateway")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DOCKER / "docker-compose.yml").read_text())
    return loaded


def _image_env() -> dict[str, str]:
    text = (DOCKER / "Dockerfile").read_text()
    final_stage = text.rsplit("\nFROM ", 1)[1]
    found = re.search(r"^ENV (.+?)(?<!\\)$", final_stage, re.MULTILINE | re.DOTALL)
    assert found, "the final stage sets no ENV"
    pairs = found.group(1).replace("\\\n", " ").split()
    return dict(pair.split("=", 1) for pair in pairs)


def _service_env(name: str) -> dict[str, str]:
    service = _compose()["services"][name]
    env = _image_env()
    for env_file in service.get("env_file", []):
        values = dotenv_values(DOCKER / env_file)
        env.update({key: value for key, value in values.items() if value is not None})
    env.update({key: str(value) for key, value in (service.get("environment") or {}).items()})
    return env


def _secret_files(name: str, staged: Path) -> dict[str, Path]:
    """Where each secret of the service would be mounted, mapped to a staged copy."""
    compose = _compose()
    mounted = {}
    for secret in compose["services"][name].get("secrets", []):
        source = Path(compose["secrets"][secret]["file"]).name
        mounted[SECRETS + secret] = staged / source
    return mounted


def _settings_for(name: str, staged: Path, loader: Any, *, keys: bool = True) -> Settings:
    """The service's settings; without ``keys``, files it does not mount are left unset."""
    env = _service_env(name)
    mounted = _secret_files(name, staged)
    fields: dict[str, object] = {}
    for variable, value in env.items():
        if not variable.startswith("PPSGATE_"):
            continue
        if value.startswith(SECRETS):
            if not keys and value not in mounted:
                continue
            assert value in mounted, f"{name}: {variable}={value} is not a secret of the service"
        given = str(mounted[value]) if value in mounted else value
        fields[variable.removeprefix("PPSGATE_").lower()] = (
            yaml.safe_load(given) if given.startswith("[") else given
        )
    settings: Settings = loader(**fields)
    return settings


@pytest.fixture
def staged(tmp_path: Path) -> Path:
    """The secret files, made by `ppsgate init` with the origin gateway.env names."""
    origin = dotenv_values(DOCKER / "gateway.env")["PPSGATE_AUDIT_ORIGIN"]
    assert origin
    initialise(tmp_path, audit_origin=origin)
    return tmp_path


def test_the_gateway_service_has_every_production_setting(staged: Path) -> None:
    settings = _settings_for("gateway", staged, load_settings)
    assert settings.env == "production"
    assert settings.public_url.startswith("https://")
    assert settings.opa_url
    # The files `ppsgate init` made, mounted where the settings say, load as the gateway does.
    load_pepper(settings)
    load_signing_key(settings)
    load_token_signing_key(settings)


def test_migrations_need_the_database_only(staged: Path) -> None:
    settings = _settings_for("migrate", staged, load_database_settings, keys=False)
    assert settings.env == "production"
    assert settings.is_postgres
    assert set(_compose()["services"]["migrate"]["secrets"]) == {"pgpass"}


def test_forwarded_headers_are_trusted_from_the_proxy_only(staged: Path) -> None:
    settings = _settings_for("gateway", staged, load_settings)
    services = _compose()["services"]
    proxy = services["nginx"]["networks"]["edge"]["ipv4_address"]
    assert settings.forwarded_allow_ips == [proxy]
    assert "ports" not in services["gateway"], "the gateway must be reached through nginx only"


def test_the_proxy_uses_the_template_the_runbook_uses() -> None:
    nginx = _compose()["services"]["nginx"]
    template = "./nginx/ppsgate.conf.template"
    assert any(volume.startswith(template + ":") for volume in nginx["volumes"])
    text = (DOCKER / template).read_text()
    variables = set(re.findall(r"\$\{([A-Z_]+)\}", text))
    assert variables <= set(nginx["environment"]), "a template variable is not set"


def test_images_are_pinned_and_long_running_services_have_healthchecks() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        image = service.get("image")
        if image is not None:
            tag = image.rpartition(":")[2]
            assert ":" in image, f"{name}: {image} has no tag"
            assert re.match(r"\d+(\.\d+)+", tag), f"{name}: {image} is not pinned to a release"
        one_shot = name in {"bundle", "migrate"}
        if not one_shot:
            assert "healthcheck" in service, f"{name} has no healthcheck"
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            if dependency not in {"bundle", "migrate"}:
                assert condition == {"condition": "service_healthy"}, (name, dependency)


def test_the_secret_names_are_the_ones_init_makes(tmp_path: Path) -> None:
    initialise(tmp_path / "made", audit_origin="gateway.example.nl/audit")
    made = {path.name for path in (tmp_path / "made").iterdir()}
    key_secrets = {"pepper", "audit_signing_key", "token_signing_key"}
    named = {Path(_compose()["secrets"][secret]["file"]).name for secret in key_secrets}
    assert named == made


def test_the_compose_file_points_to_a_section_that_exists() -> None:
    header = (DOCKER / "docker-compose.yml").read_text()
    operations = (ROOT / "docs" / "operations.md").read_text()
    for section in re.findall(r'"([^"]+)"', header.split("services:", 1)[0]):
        assert re.search(rf"^#+ {re.escape(section)}$", operations, re.MULTILINE), section
