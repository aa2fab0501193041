"""Running the hall: in the foreground for `kiosk hall serve`, or in a thread for tests and benches.

We bind the socket ourselves so port 0 works: the caller learns the real port before the first
request, which lets tests run in parallel without fixed ports.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from .app import create_app
from .service import HallService


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only disables Nagle (TCP_NODELAY) for such sockets, and
    # without it every keep-alive reply waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _uvicorn(service: HallService) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(service), log_level="warning", lifespan="off", access_log=False
    )
    return uvicorn.Server(config)


def serve_forever(service: HallService, sock: socket.socket) -> None:
    service.start_notifications()  # queued SMS and pickup reminders go out while serving
    _uvicorn(service).run(sockets=[sock])


class HallServer:
    """The real HTTP server on loopback, in a background thread."""

    def __init__(self, service: HallService, host: str = "127.0.0.1", port: int = 0) -> None:
        self.service = service
        self._sock = bind(host, port)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self._server = _uvicorn(service)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self, timeout_s: float = 20.0) -> HallServer:
        self.service.start_notifications()
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the service hall did not start listening")
            time.sleep(0.01)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout_s)
        self._sock.close()

    def __enter__(self) -> HallServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
