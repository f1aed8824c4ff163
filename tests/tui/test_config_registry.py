"""Settings from flags and the environment, the UI registry override, and the launch command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from observatory.core.clock import FixedClock
from observatory.interfaces.tui.app import ObservatoryApp
from observatory.interfaces.tui.config import (
    DEFAULT_GATEWAY_URL,
    DEFAULT_READ_MODEL_URL,
    TuiConfig,
)
from observatory.interfaces.tui.runner import default_command, launch_env
from observatory.interfaces.tui.screens.dashboard import DashboardScreen
from observatory.interfaces.tui.screens.ui_launcher import UiLauncherScreen
from tests.tui.conftest import screen_text, showing, wait_for
from tests.tui.fake_backend import FakeBackend


def test_defaults_are_the_local_ports() -> None:
    config = TuiConfig.from_env({})
    assert (config.gateway_url, config.read_model_url) == (
        DEFAULT_GATEWAY_URL,
        DEFAULT_READ_MODEL_URL,
    )
    assert config.registry_path is None
    assert config.launch_command is None


def test_environment_is_read_and_flags_win() -> None:
    env = {
        "ODTO_GATEWAY_URL": "http://gw:1",
        "ODTO_READ_MODEL_URL": "http://rm:2",
        "ODTO_UI_REGISTRY": "/etc/odto/registry.json",
        "ODTO_API_TOKEN": "tok",
        "ODD_DASHBOARD_LAUNCH_CMD": "python '/a b/fake.py' success",
    }
    config = TuiConfig.from_env(env, read_model_url="http://flag:3", gateway_url=None)
    assert config.gateway_url == "http://gw:1"
    assert config.read_model_url == "http://flag:3"
    assert config.registry_path == Path("/etc/odto/registry.json")
    assert config.api_token == "tok"
    assert config.launch_command == ("python", "/a b/fake.py", "success")


def test_the_default_launch_runs_odto_up_json_beside_this_python() -> None:
    local = default_command(cluster=False)
    assert local[-2:] == ["up", "--json"]
    assert Path(local[0]).parent == Path(sys.executable).parent
    assert default_command(cluster=True)[-3:] == ["cluster", "up", "--json"]


def test_the_child_listens_where_the_tui_will_look() -> None:
    env = launch_env({"PATH": "/bin"}, "http://127.0.0.1:13000", "http://localhost:18080")
    assert env["GATEWAY_PORT"] == "13000"
    assert env["READ_MODEL_PORT"] == "18080"
    assert env["PYTHONUNBUFFERED"] == "1"
    remote = launch_env({"GATEWAY_PORT": "4000"}, "http://127.0.0.1:13000", "http://example.org:80")
    assert remote["GATEWAY_PORT"] == "4000"  # an explicit choice is kept
    assert "READ_MODEL_PORT" not in remote  # not ours to start


async def open_launcher(registry: Path) -> str:
    app = ObservatoryApp(
        TuiConfig(registry_path=registry),
        clock=FixedClock(),
        transport=FakeBackend().transport,
        env={},
        platform="linux",
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: showing(app, DashboardScreen))
        await pilot.press("u")
        await wait_for(pilot, lambda: showing(app, UiLauncherScreen))
        return screen_text(app)


async def test_a_registry_override_file_replaces_the_packaged_list(tmp_path: Path) -> None:
    registry = tmp_path / "registry.json"
    registry.write_text(
        json.dumps(
            {
                "registryVersion": "1.0.0",
                "baseUrl": "http://observatory.example",
                "entries": [
                    {
                        "id": "ops",
                        "name": "Ops Portal",
                        "port": 9443,
                        "path": "/ops",
                        "emoji": "🛠",
                        "description": "The operations portal",
                    }
                ],
            }
        )
    )
    text = await open_launcher(registry)
    assert "The operations portal" in text
    assert "http://observatory.example:9443/ops" in text


async def test_a_broken_registry_override_is_reported_not_fatal(tmp_path: Path) -> None:
    registry = tmp_path / "registry.json"
    registry.write_text('{"registryVersion": "1.0.0", "baseUrl": "ftp://x", "entries": []}')
    text = await open_launcher(registry)
    assert "Could not load the UI registry" in text
    assert str(registry) in text
