"""A control interface on loopback so tests, journeys or a person can act as the world does.

Protocol: one JSON object per line over TCP, one JSON object per line back.
Request  `{"stub": "lockers", "cmd": "open_door", "args": {"board": 0, "lock": 3}}`
Reply    `{"ok": true, ...}` or `{"ok": false, "error": "<plain sentence>"}`.
`{"stub": "*", "cmd": "list"}` lists the stubs served. Try it by hand with
`socat - TCP:127.0.0.1:7100` and type a request.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
from collections.abc import Callable, Mapping
from typing import Any

ControlHandler = Callable[[str, dict[str, object]], dict[str, object]]

DEFAULT_CONTROL_PORT = 7100


class StubControlServer:
    """Routes control requests to the named stub's handler."""

    def __init__(self, handlers: Mapping[str, ControlHandler], port: int = 0) -> None:
        self._handlers = dict(handlers)
        outer = self

        class _Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for raw in self.rfile:
                    reply = outer.dispatch(raw)
                    self.wfile.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")
                    self.wfile.flush()

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="stub-control", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def add(self, name: str, handler: ControlHandler) -> None:
        self._handlers[name] = handler

    def start(self) -> StubControlServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def dispatch(self, raw: bytes) -> dict[str, object]:
        try:
            request = json.loads(raw)
            stub = str(request["stub"])
            cmd = str(request["cmd"])
            args = dict(request.get("args") or {})
        except (ValueError, KeyError, TypeError):
            return {"ok": False, "error": 'a request is one JSON object: {"stub", "cmd", "args"}'}
        if stub == "*" and cmd == "list":
            return {"ok": True, "stubs": sorted(self._handlers)}
        handler = self._handlers.get(stub)
        if handler is None:
            return {
                "ok": False,
                "error": f"no stub called {stub!r}; served: {sorted(self._handlers)}",
            }
        try:
            result = handler(cmd, args)
        except (ValueError, KeyError, TypeError) as err:
            return {"ok": False, "error": f"{stub} cannot do {cmd!r}: {err}"}
        return {"ok": True, **result} if "ok" not in result else result


def send_control(
    stub: str, cmd: str, port: int = DEFAULT_CONTROL_PORT, timeout: float = 5.0, **args: Any
) -> dict[str, Any]:
    """Send one control request and return the reply (what a test or journey calls)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(json.dumps({"stub": stub, "cmd": cmd, "args": args}).encode() + b"\n")
        buffer = b""
        while not buffer.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            buffer += chunk
    with contextlib.suppress(ValueError):
        reply: dict[str, Any] = json.loads(buffer)
        return reply
    return {"ok": False, "error": "the stub control server closed the connection"}
