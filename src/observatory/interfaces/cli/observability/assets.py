"""Where the shipped Prometheus and Alertmanager configuration lives.

One source of truth: the files under the repository's `deploy/` (mounted by compose and
Kubernetes). A wheel carries them as package data at `observatory/deploy/` (hatch
`force-include` in pyproject.toml); an editable install or a checkout reads `deploy/`
itself. Either way the local stack is generated from the very same rules and routes.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

RULES = Path("prometheus/rules/observatory.rules.yml")
PROMETHEUS = Path("prometheus/prometheus.yml")
ALERTMANAGER = Path("alertmanager/alertmanager.yml")


class AssetsMissingError(RuntimeError):
    """Neither the installed package nor a checkout holds the deploy files."""


def _complete(folder: Path) -> bool:
    return all((folder / part).is_file() for part in (RULES, PROMETHEUS, ALERTMANAGER))


def deploy_dir() -> Path:
    """The folder holding `prometheus/` and `alertmanager/` (packaged copy first)."""
    packaged = Path(str(resources.files("observatory"))) / "deploy"
    if _complete(packaged):
        return packaged
    # src/observatory/interfaces/cli/observability/assets.py -> the checkout's root.
    checkout = Path(__file__).resolve().parents[5] / "deploy"
    if _complete(checkout):
        return checkout
    raise AssetsMissingError(
        f"Prometheus/Alertmanager configuration not found in {packaged} or {checkout}"
    )
