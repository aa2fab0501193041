"""Test and bench helpers: the real hall in a subprocess, and a fault-injecting proxy before it.

Not used at run time. The hall is started through the real `kiosk hall` CLI (no import of
service_hall, so the architecture rules hold here too); the proxy speaks just enough HTTP/1.1
to pick a fault per request — answer 500 itself, cut the request half-way, let the hall process
the request and then lose its answer, or hold the answer past the client's timeout.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from types import TracebackType

REPO_ROOT = Path(__file__).resolve().parents[1]
_LISTENING = re.compile(r"listening on (http://[0-9.]+:(\d+))")
_TOKEN = re.compile(r"kiosk (\S+) token: (\S+)")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "bootstrap.cli", *args]


def seed_hall(db_path: Path) -> str:
    """Create and seed a hall database; return the demo kiosk's token."""
    done = subprocess.run(
        _cli("hall", "seed", "--db", f"sqlite:///{db_path}", "--staff-password", "staff-pass-1"),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = _TOKEN.search(done.stdout)
    if found is None:
        raise RuntimeError(f"kiosk hall seed printed no token:\n{done.stdout}\n{done.stderr}")
    return found.group(2)


def add_kiosk(db_path: Path, name: str, kiosk_id: str | None = None) -> str:
    args = ["hall", "add-kiosk", name, "--db", f"sqlite:///{db_path}"]
    if kiosk_id:
        args += ["--id", kiosk_id]
    done = subprocess.run(
        _cli(*args), cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    found = _TOKEN.search(done.stdout)
    if found is None:
        raise RuntimeError(f"kiosk hall add-kiosk printed no token:\n{done.stdout}")
    return found.group(2)


class HallProcess:
    """`kiosk hall serve` on a free loopback port; `kill()` is SIGKILL, restart with `start()`."""

    def __init__(self, db_path: Path, port: int = 0) -> None:
        self.db_path = db_path
        self.port = port
        self.url = ""
        self._process: subprocess.Popen[str] | None = None

    def start(self, timeout_s: float = 60.0) -> HallProcess:
        command = _cli(
            "hall",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--db",
            f"sqlite:///{self.db_path}",
        )
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self._process = process
        assert process.stdout is not None
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or process.poll() is not None:
                self.kill()
                raise RuntimeError("the service hall did not start listening")
            ready, _, _ = select.select([process.stdout], [], [], remaining)
            if not ready:
                continue
            line = process.stdout.readline()
            found = _LISTENING.search(line)
            if found:
                self.url, self.port = found.group(1), int(found.group(2))
                return self

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def kill(self) -> None:
        """SIGKILL, as a power cut or an OOM kill would."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def _end(self, how: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            os.kill(process.pid, how)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> HallProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class Fault(StrEnum):
    PASS = "pass"
    ERROR_500 = "error_500"  # the proxy answers 500 itself; the hall never sees the request
    CUT_REQUEST = "cut_request"  # half the request reaches the hall, then both sides are closed
    LOSE_RESPONSE = "lose_response"  # the hall processes the request; its answer is thrown away
    SLOW_RESPONSE = "slow_response"  # the answer is held `slow_s` (past the client's timeout)
    STALL_REQUEST = "stall_request"  # half the request is sent, then held until `release()`
    NOT_FOUND_404 = "not_found_404"  # the proxy answers 404 itself, as a hall older than the path


FaultChooser = Callable[[int, str, str], Fault]  # (request number, method, path) -> fault


def _always_pass(_index: int, _method: str, _path: str) -> Fault:
    return Fault.PASS


def _canned(status: str, code: str, message: str) -> bytes:
    body = f'{{"error":{{"code":"{code}","message":"{message}"}}}}'.encode()
    head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
    return head.encode() + f"content-length: {len(body)}\r\n\r\n".encode() + body


_CANNED_500 = _canned("500 Internal Server Error", "injected", "fault injected by the proxy")
_CANNED_404 = _canned("404 Not Found", "not_found", "Not Found")


class _Closed(Exception):
    pass


class FaultProxy:
    """An HTTP/1.1 proxy on a free loopback port that injects one chosen fault per request."""

    def __init__(
        self,
        upstream_url: str,
        choose: FaultChooser = _always_pass,
        *,
        slow_s: float = 2.0,
    ) -> None:
        self.upstream_url = upstream_url
        self.choose = choose
        self.slow_s = slow_s
        self.requests = 0
        self.faults: dict[Fault, int] = {}
        self.stalled = threading.Event()  # set when a STALL_REQUEST is being held
        self._release = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def release(self) -> None:
        """Let a stalled request end (its connection is closed, as when the hall died)."""
        self._release.set()

    def stop(self) -> None:
        self._stopping.set()
        self._release.set()
        _close(self._listener)  # shutdown() is what wakes a thread blocked in accept()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _close(sock)
        self._thread.join(5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals ------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._track(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _upstream(self) -> socket.socket:
        host, port = self.upstream_url.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)), timeout=30)
        self._track(sock)
        return sock

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        buffered = b""
        try:
            while not self._stopping.is_set():
                head, body, buffered = _read_message(client, buffered, request=True)
                method, path = head.split(b" ", 2)[:2]
                with self._lock:
                    index = self.requests
                    self.requests += 1
                fault = self.choose(index, method.decode(), path.decode())
                with self._lock:
                    self.faults[fault] = self.faults.get(fault, 0) + 1
                if fault is Fault.ERROR_500:
                    client.sendall(_CANNED_500)
                    continue
                if fault is Fault.NOT_FOUND_404:
                    client.sendall(_CANNED_404)
                    continue
                if upstream is None:
                    upstream = self._upstream()
                if fault in (Fault.CUT_REQUEST, Fault.STALL_REQUEST):
                    upstream.sendall(head + body[: len(body) // 2])
                    if fault is Fault.STALL_REQUEST:
                        self.stalled.set()
                        self._release.wait()
                    return
                upstream.sendall(head + body)
                reply_head, reply_body, _ = _read_message(upstream, b"", request=False)
                if fault is Fault.LOSE_RESPONSE:
                    return
                if fault is Fault.SLOW_RESPONSE and self._stopping.wait(self.slow_s):
                    return
                client.sendall(reply_head + reply_body)
        except (_Closed, OSError, ValueError):
            return
        finally:
            _close(client)
            if upstream is not None:
                _close(upstream)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _read_message(
    sock: socket.socket, buffered: bytes, *, request: bool
) -> tuple[bytes, bytes, bytes]:
    """(head with its blank line, body, bytes read beyond this message)."""
    while b"\r\n\r\n" not in buffered:
        buffered += _recv(sock)
    end = buffered.index(b"\r\n\r\n") + 4
    head, rest = buffered[:end], buffered[end:]
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (
            line.partition(b":") for line in head.split(b"\r\n")[1:] if b":" in line
        )
    }
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while b"0\r\n\r\n" not in rest:
            rest += _recv(sock)
        end = rest.index(b"0\r\n\r\n") + 5
        return head, rest[:end], rest[end:]
    length = int(headers.get(b"content-length", b"0"))
    if not request and b"content-length" not in headers:
        raise ValueError("responses without a length are not supported by this proxy")
    while len(rest) < length:
        rest += _recv(sock)
    return head, rest[:length], rest[length:]


def _recv(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        raise _Closed
    return data
