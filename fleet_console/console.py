"""Composition of the console: store → ingest → MQTT link → web dashboard, in one process.

`RunningConsole` is what `kiosk fleet console` runs in the foreground and what the tests start in
a thread: the same graph either way. The HTTP socket is bound before uvicorn starts, so port 0
works and the caller learns the real port first (tests run in parallel on one machine).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .ingest import Ingest
from .link import BrokerSettings, ConsoleLink
from .store import ConsoleStore
from .web import LOOPBACK_NAMES, create_app


@dataclass(frozen=True)
class ConsoleOptions:
    broker: BrokerSettings
    database: Path
    console_id: str = "console"
    issuer: str = "technician"
    signing_key: Ed25519PrivateKey | None = None
    host: str = "127.0.0.1"
    port: int = 8780
    refresh_s: int = 15
    allowed_hosts: tuple[str, ...] = ()  # names a proxy in front uses, beside the loopback ones


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    return sock


class RunningConsole:
    def __init__(self, options: ConsoleOptions, clock: Callable[[], float] = time.time) -> None:
        self.options = options
        self.store = ConsoleStore(options.database)
        self.ingest = Ingest(self.store, clock)
        self.link = ConsoleLink(
            options.broker,
            self.ingest,
            console_id=options.console_id,
            issuer=options.issuer,
            signing_key=options.signing_key,
            clock=clock,
        )
        self._sock = bind(options.host, options.port)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://{options.host}:{self.port}"
        app = create_app(
            self.store,
            self.link if options.signing_key is not None else None,
            clock=clock,
            refresh_s=options.refresh_s,
            host_names=(*LOOPBACK_NAMES, options.host, *options.allowed_hosts),
        )
        self._server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        )
        self._thread: threading.Thread | None = None

    def start(self, timeout_s: float = 20.0) -> RunningConsole:
        self.link.start(timeout_s)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the fleet console did not start listening")
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Foreground, for the CLI: returns on Ctrl-C (uvicorn handles the signal)."""
        self.link.start()
        try:
            self._server.run(sockets=[self._sock])
        finally:
            self.close()

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.close()

    def close(self) -> None:
        self.link.stop()
        self._sock.close()
        self.store.close()

    def __enter__(self) -> RunningConsole:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
