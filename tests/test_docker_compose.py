"""docker-compose.yml runs the whole stack (validated by docker-compose in CI)."""

from __future__ import annotations

from pathlib import Path

import yaml

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[1] / "docker-compose.yml").read_text())


def test_compose_names_every_service() -> None:
    assert set(COMPOSE["services"]) == {"db", "redis", "web", "worker", "beat"}


def test_every_service_has_a_health_check() -> None:
    for name, service in COMPOSE["services"].items():
        assert "healthcheck" in service, name


def test_redis_persists_and_never_evicts_queued_tasks() -> None:
    command = COMPOSE["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert any(v.endswith(":/data") for v in COMPOSE["services"]["redis"]["volumes"])


def test_data_lives_in_volumes() -> None:
    assert {"pgdata", "redisdata", "appdata"} <= set(COMPOSE["volumes"])
    assert any("pgdata:" in v for v in COMPOSE["services"]["db"]["volumes"])


def test_app_services_run_with_production_settings() -> None:
    for name in ("web", "worker", "beat"):
        env = COMPOSE["services"][name]["environment"]
        assert env["DEBUG"] == "0", name
        assert "REDIS_URL" in env and "DATABASE_URL" in env
    assert "gunicorn" in COMPOSE["services"]["web"]["command"]
    assert "worker" in COMPOSE["services"]["worker"]["command"]
    assert "beat" in COMPOSE["services"]["beat"]["command"]
