"""The credential scanner: what it flags and what it lets through (the scan of the whole
repository, which asks git for the file list, is in tests/integration/deploy)."""

from __future__ import annotations

import pytest
from tests.unit.deploy.credentials import scan_text

# Built from pieces so that this file itself holds no credential-shaped literal.
USER_PASS = "guest" + ":" + "guest"


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("deploy/k8s/x.yaml", "  POSTGRES_PASSWORD: " + "password123"),
        ("deploy/compose/x.yml", "      - GF_SECURITY_ADMIN_PASSWORD=" + "admin"),
        ("deploy/x.env", "REDIS_PASSWORD=" + "s3cr3t"),
        ("deploy/x.json", '  "apiToken": "' + 'abc"'),
        ("src/observatory/x.py", f'URL = "amqp://{USER_PASS}@rabbitmq:5672/"'),
        ("tests/e2e/x.py", f'URL = "postgresql://admin:{"pw"}@db.internal:5432/x"'),
        (".ci/run", "export PGPASSWORD=" + "hunter2"),
        (".github/workflows/x.yml", "          GH_TOKEN: " + "literal-token-value"),
        ("deploy/x.yml", "  id-token: " + "write"),  # a permission level only in a workflow
    ],
)
def test_the_scanner_finds_credentials(path: str, line: str) -> None:
    assert scan_text(path, line + "\n"), line


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("deploy/compose/compose.yml", "  RABBITMQ_DEFAULT_PASS: ${RABBITMQ_PASSWORD:?set it}"),
        ("deploy/k8s/x.yaml", "  value: amqp://observatory:$(RABBITMQ_PASSWORD)@rabbitmq:5672/"),
        ("deploy/k8s/x.yaml", "  - name: POSTGRES_PASSWORD"),
        ("deploy/k8s/x.yaml", "          key: POSTGRES_PASSWORD"),
        ("deploy/compose/.env.example", "POSTGRES_PASSWORD="),
        ("deploy/compose/.env.example", "ODTO_API_TOKEN="),
        ("src/observatory/x.py", "token: SecretStr | None = Field(default=None)"),
        ("tests/conftest.py", f'URL = "amqp://{USER_PASS}@127.0.0.1:5672/"'),
        ("tests/unit/x.py", 'ODTO_API_TOKEN = "fake-token-for-tests"'),
        ("deploy/compose/compose.yml", "    command: ['--requirepass', \"$$REDIS_PASSWORD\"]"),
        (".github/workflows/release.yml", "      id-token: write # trusted publishing"),
        (".github/workflows/release.yml", "          GH_TOKEN: ${{ github.token }}"),
    ],
)
def test_the_scanner_accepts_references_placeholders_and_local_test_urls(
    path: str, line: str
) -> None:
    assert scan_text(path, line + "\n") == []
