"""`odto doctor` reports each configured backend as answering or not, over real sockets."""

from __future__ import annotations

import socket

from observatory.core.settings import Backends
from observatory.interfaces.cli.doctor import backend_checks
from observatory.interfaces.tui.doctor import Level


def test_configured_backends_are_probed() -> None:
    """A listening port is OK, a closed one FAILs with the URL (without credentials)."""
    with socket.socket() as listening, socket.socket() as closed:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        closed.bind(("127.0.0.1", 0))
        up, down = listening.getsockname()[1], closed.getsockname()[1]
        checks = backend_checks(
            Backends.model_validate(
                {
                    "RABBITMQ_URL": f"amqp://user:secret@127.0.0.1:{up}/",
                    "REDIS_URL": f"redis://127.0.0.1:{down}/0",
                }
            )
        )
    by_name = {c.name: c for c in checks}
    assert by_name["RabbitMQ"].level is Level.OK
    assert by_name["Redis"].level is Level.FAIL
    assert "secret" not in by_name["RabbitMQ"].detail
