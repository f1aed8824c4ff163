"""deploy/make_env.py: the env files of compose and kind get random passwords, once."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from tests.unit.deploy.manifests import COMPOSE_DIR, DEPLOY, env_keys


def make_env() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_env", DEPLOY / "make_env.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fills_every_empty_password_and_copies_the_rest(tmp_path: Path) -> None:
    target = tmp_path / ".env"
    assert make_env().main([str(COMPOSE_DIR / ".env.example"), str(target)]) == 0

    example, made = env_keys(COMPOSE_DIR / ".env.example"), env_keys(target)
    assert made.keys() == example.keys()
    for key, value in made.items():
        if key.endswith("_PASSWORD"):
            assert len(value) >= 30
            assert value.replace("-", "").replace("_", "").isalnum()  # URL-safe
        else:
            assert value == example[key]
    assert made["ODTO_API_TOKEN"] == ""  # optional: auth stays off unless chosen
    assert len({v for k, v in made.items() if k.endswith("_PASSWORD")}) == 4 + 3
    assert target.stat().st_mode & 0o777 == 0o600


def test_never_overwrites_existing_credentials(tmp_path: Path) -> None:
    target = tmp_path / ".env"
    target.write_text("POSTGRES_PASSWORD=kept\n")
    assert make_env().main([str(COMPOSE_DIR / ".env.example"), str(target)]) == 0
    assert target.read_text() == "POSTGRES_PASSWORD=kept\n"


def test_kind_secrets_example_has_the_same_keys_as_compose() -> None:
    """One list of credentials for both deployments, plus the Erlang cookie of the
    Kubernetes RabbitMQ cluster (overlay kind-rabbitmq-cluster; compose runs one node)."""
    kind = env_keys(DEPLOY / "k8s/overlays/kind/secrets.env.example")
    assert kind == {**env_keys(COMPOSE_DIR / ".env.example"), "RABBITMQ_ERLANG_COOKIE": ""}


def test_the_erlang_cookie_is_generated_like_a_password(tmp_path: Path) -> None:
    target = tmp_path / "secrets.env"
    example = DEPLOY / "k8s/overlays/kind/secrets.env.example"
    assert make_env().main([str(example), str(target)]) == 0
    cookie = env_keys(target)["RABBITMQ_ERLANG_COOKIE"]
    assert len(cookie) >= 30
    assert cookie.replace("-", "").replace("_", "").isalnum()
