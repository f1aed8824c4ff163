"""Local Prometheus and Alertmanager for `odto up --observability`, and their gate checks.

    stack = start_observability({"gateway": "http://127.0.0.1:3000"}, Path(".odto"))
    print(stack.urls)  # then, when done:
    stack.stop()

The configuration is generated from the shipped `deploy/` files (see `assets`).
"""

from observatory.interfaces.cli.observability.configs import Timings
from observatory.interfaces.cli.observability.runner import (
    INSTALL_COMMAND,
    ObservabilityStack,
    start_observability,
)
from observatory.interfaces.cli.observability.settings import ObservabilitySettings

__all__ = [
    "INSTALL_COMMAND",
    "ObservabilitySettings",
    "ObservabilityStack",
    "Timings",
    "start_observability",
]
