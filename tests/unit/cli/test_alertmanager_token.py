"""Alertmanager sends the API token to the read model's webhook: the shipped config reads it
from a mounted file (compose secret, Kubernetes Secret), the local one from the token file
`odto up --observability` writes, and without a token the local one sends none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from tests.unit.deploy.manifests import COMPOSE_DIR, DEPLOY, compose

from observatory.interfaces.cli.observability import assets
from observatory.interfaces.cli.observability.configs import Timings, alertmanager_config

TOKEN_PATH = "/etc/alertmanager/secrets/api-token"


def shipped() -> dict[str, Any]:
    return dict(yaml.safe_load((assets.deploy_dir() / assets.ALERTMANAGER).read_text()))


def read_model_hook(config: dict[str, Any]) -> dict[str, Any]:
    (receiver,) = config["receivers"]
    (hook,) = receiver["webhook_configs"]
    assert hook["url"].endswith("/webhook/alerts")
    return dict(hook)


def test_the_shipped_webhook_sends_a_bearer_token_read_from_a_file() -> None:
    """No credential in the repository: only the file it is read from."""
    authorization = read_model_hook(shipped())["http_config"]["authorization"]
    assert authorization == {"type": "Bearer", "credentials_file": TOKEN_PATH}


def test_compose_mounts_odto_api_token_where_alertmanager_reads_it() -> None:
    for name in ("compose.yml", "compose.demo.yml"):
        stack = compose(name)
        (mount,) = stack["services"]["alertmanager"]["secrets"]
        assert mount["target"] == TOKEN_PATH, name
        assert stack["secrets"][mount["source"]] == {"environment": "ODTO_API_TOKEN"}, name
    assert "ODTO_API_TOKEN=" in (COMPOSE_DIR / ".env.example").read_text()


def test_kubernetes_mounts_the_secret_key_where_alertmanager_reads_it() -> None:
    documents = yaml.safe_load_all(
        (DEPLOY / "k8s/base/observability/alertmanager.yaml").read_text()
    )
    (deployment,) = [d for d in documents if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    (mount,) = [
        m for m in container["volumeMounts"] if m["mountPath"] == str(Path(TOKEN_PATH).parent)
    ]
    secret = volumes[mount["name"]]["secret"]
    assert secret["secretName"] == "observatory-credentials"
    assert secret["items"] == [{"key": "ODTO_API_TOKEN", "path": Path(TOKEN_PATH).name}]


def test_the_local_config_sends_the_local_token_file_or_no_header_at_all(tmp_path: Path) -> None:
    token_file = tmp_path / "api-token"
    with_token = alertmanager_config(shipped(), "http://127.0.0.1:18080", Timings(), token_file)
    hook = read_model_hook(with_token)
    assert hook["url"] == "http://127.0.0.1:18080/webhook/alerts"
    assert hook["http_config"]["authorization"] == {
        "type": "Bearer",
        "credentials_file": str(token_file),
    }
    original = shipped()
    without = alertmanager_config(original, "http://127.0.0.1:18080", Timings())
    assert "http_config" not in read_model_hook(without)
    assert original == shipped()  # the shipped document is copied, never changed
