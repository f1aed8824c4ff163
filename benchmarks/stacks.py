"""The systems under test, each started as processes we own and torn down by pid:
the four services (and the web dashboard) on real backends under a fresh namespace,
gateways alone, the read model alone, and the embedded profile (`odto up`, no backend
URLs)."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.procs import Sampler, Service, free_port, odto, spawn, stop_all, wait_ready
from benchmarks.stores import Backends, EmbeddedStores, RealStores, clean_namespace

REAL_SERVICES = ("gateway", "processor", "metrics-engine", "read-model")


NAMESPACES: list[str] = []  # every namespace this invocation created (all deleted again)


def new_namespace(kind: str) -> str:
    name = f"bench_{kind}_{secrets.token_hex(3)}"
    NAMESPACES.append(name)
    return name


def _port_var(name: str) -> str:
    return name.upper().replace("-", "_") + "_PORT"


# The read model runs as deployed (compose, Kubernetes): a few warm connections per store.
QUERY_API_ENV = {"ODTO_PG_POOL_MIN": "4"}


def _links(ports: dict[str, int]) -> dict[str, dict[str, str]]:
    """Per-service extra environment: the read model's warm pools; the web service proxies
    to this stack's gateway and read model (its GATEWAY_URL / READ_MODEL_URL settings)."""
    if "web" not in ports:
        return {"read-model": QUERY_API_ENV}
    return {
        "read-model": QUERY_API_ENV,
        "web": {
            "GATEWAY_URL": f"http://127.0.0.1:{ports['gateway']}",
            "READ_MODEL_URL": f"http://127.0.0.1:{ports['read-model']}",
        },
    }


@dataclass
class Stack:
    """Processes of one system under test, and where their logs go."""

    log_dir: Path
    services: list[Service] = field(default_factory=list)
    sampler: Sampler | None = None

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def url(self, name: str) -> str:
        url = self.service(name).url
        assert url is not None, name
        return url

    @property
    def gateway_urls(self) -> list[str]:
        return [s.url for s in self.services if s.name.startswith("gateway") and s.url]

    async def start_sampling(self) -> None:
        self.sampler = Sampler(self.services)
        self.sampler.start()

    async def stop(self) -> None:
        if self.sampler:
            await self.sampler.stop()
        stop_all(self.services)

    def peak_rss_mb(self) -> dict[str, float]:
        return {s.name: round(s.peak_rss_kib / 1024, 1) for s in self.services}


@dataclass
class RealStack(Stack):
    """gateway(s) [+ processor + metrics-engine + read-model] [+ web] on real backends,
    or any subset of them (e.g. the read model alone)."""

    backends: Backends | None = None
    namespace: str = ""
    stores: RealStores | None = None

    @classmethod
    async def start(
        cls,
        backends: Backends,
        log_dir: Path,
        *,
        kind: str,
        services: tuple[str, ...] = REAL_SERVICES,
        gateways: int = 1,
        processors: int = 1,
        env: dict[str, str] | None = None,
    ) -> RealStack:
        ns = new_namespace(kind)
        stack = cls(log_dir=log_dir, backends=backends, namespace=ns)
        ports = {name: free_port() for name in services}
        links = _links(ports)
        base = {
            **backends.env(),
            "ODTO_NAMESPACE": ns,
            **{_port_var(n): str(p) for n, p in ports.items()},
            **(env or {}),
        }
        try:
            for name in services:
                copies = {"gateway": gateways, "processor": processors}.get(name, 1)
                for index in range(copies):
                    port = ports[name] if index == 0 else free_port()
                    label = name if copies == 1 else f"{name}-{index + 1}"
                    stack.services.append(
                        spawn(
                            f"{ns}-{label}",
                            odto("serve", name),
                            {**base, **links.get(name, {}), _port_var(name): str(port)},
                            log_dir,
                            url=f"http://127.0.0.1:{port}",
                        )
                    )
                    stack.services[-1].name = label
            await wait_ready(stack.services)
            stack.stores = RealStores(backends, ns)
            await stack.stores.open()
        except BaseException:
            await stack.stop()
            raise
        await stack.start_sampling()
        return stack

    async def stop(self) -> None:
        await super().stop()
        if self.stores:
            await self.stores.close()
        if self.backends:
            await clean_namespace(self.backends, self.namespace)


@dataclass
class EmbeddedStack(Stack):
    """`odto up` with no backend URLs and a temporary data directory."""

    data_dir: Path | None = None
    stores: EmbeddedStores | None = None

    @property
    def gateway_urls(self) -> list[str]:
        return [s.url for s in self.services if s.url]

    @classmethod
    async def start(cls, log_dir: Path, env: dict[str, str] | None = None) -> EmbeddedStack:
        data_dir = Path(tempfile.mkdtemp(prefix="odto-bench-"))
        stack = cls(log_dir=log_dir, data_dir=data_dir, stores=EmbeddedStores(data_dir))
        ports = {name: free_port() for name in (*REAL_SERVICES, "web")}
        stack_env = {
            "ODTO_DATA_DIR": str(data_dir),
            **{_port_var(n): str(p) for n, p in ports.items()},
            **(env or {}),
        }
        service = spawn(
            "embedded", odto("up"), stack_env, log_dir, url=f"http://127.0.0.1:{ports['gateway']}"
        )
        stack.services.append(service)
        try:
            await wait_ready(stack.services)
            others = [f"http://127.0.0.1:{ports[n]}" for n in ("processor", "metrics-engine")]
            await wait_ready(
                [
                    Service(f"embedded-{i}", service.process, service.log_path, url)
                    for i, url in enumerate(others)
                ]
            )
        except BaseException:
            await stack.stop()
            raise
        await stack.start_sampling()
        return stack

    async def stop(self) -> None:
        await super().stop()
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
