"""The device side of a serial line, with the faults real wiring produces.

Every emulated device (lock boards, card reader, scanner) is a `DeviceFirmware`: it takes the bytes
the terminal wrote and returns the bytes the device answers, and may push unsolicited bytes (a
scanner reading a code). `SerialStubServer` carries that firmware over a TCP socket on loopback
(the driver opens `socket://127.0.0.1:PORT`) or over a pseudo-terminal (the driver opens the pty's
path exactly as it would open `/dev/ttyUSB0`), and injects the faults the integration tests and
the demo need: leading noise, replies split into single bytes, one corrupted reply, silence, and
unplugging (the line goes dead mid-frame and comes back on replug).
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import socket
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class DeviceFirmware(Protocol):
    """What an emulated device does with the bytes it receives."""

    def feed(self, data: bytes) -> bytes:
        """Consume bytes from the terminal; return the reply bytes (possibly empty)."""

    def control(self, command: str, args: dict[str, object]) -> dict[str, object]:
        """Act as the world does (put a card on the reader, open a door by hand, ...)."""


@dataclass
class LineFaults:
    """Faults applied to the next replies; each is cleared when used unless marked sticky."""

    leading_noise: bytes = b""
    split_bytes: bool = False
    byte_delay_s: float = 0.0
    corrupt_next: int = 0
    silent: bool = False
    unplugged: bool = False
    unplug_mid_frame: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


Writer = Callable[[bytes], None]


class SerialStubServer:
    """Serve one `DeviceFirmware` on a loopback TCP port or a pty, with injectable faults."""

    def __init__(
        self,
        firmware: DeviceFirmware,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        use_pty: bool = False,
        pty_link: str | None = None,
        name: str = "device",
    ) -> None:
        self.firmware = firmware
        self.name = name
        self.faults = LineFaults()
        self._host = host
        self._port = port
        self._use_pty = use_pty
        self._pty_link = pty_link
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._clients: list[socket.socket] = []
        self._clients_lock = threading.Lock()
        # The pty's descriptors are plain numbers, which the OS hands out again once closed: an
        # unplug (or stop) closing them while the pty thread waits in select() must not let that
        # thread read, or a reply be written, through a number that now belongs to another file
        # (a driver's freshly opened port, say). Every use checks the generation under the lock.
        self._pty_lock = threading.Lock()
        self._pty_generation = 0
        self._pty_master: int | None = None
        self._pty_slave: int | None = None
        self.pty_path: str | None = None
        self.received = bytearray()  # every byte the device got, for tests to inspect
        self.sent = bytearray()  # every byte it put on the line (after faults), likewise

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> SerialStubServer:
        if self._use_pty:
            self._open_pty()
            self._spawn(self._pty_loop)
        else:
            self._open_listener()
            self._spawn(self._accept_loop)
        return self

    def _open_listener(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 2.0
        while True:
            try:
                listener.bind((self._host, self._port))
                break
            except OSError:
                # On replug the old listener may still be held by an accept() in flight.
                if time.monotonic() > deadline:
                    listener.close()
                    raise
                time.sleep(0.02)
        listener.listen(4)
        listener.settimeout(0.1)
        self._port = listener.getsockname()[1]
        self._listener = listener

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in accept()
            listener.close()

    def stop(self) -> None:
        self._stop.set()
        self._drop_clients()
        self._close_listener()
        for thread in self._threads:
            thread.join(timeout=2)
        self._close_pty()

    def __enter__(self) -> SerialStubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """The pyserial URL a driver opens to reach this stub."""
        if self._use_pty:
            assert self.pty_path is not None
            return self._pty_link or self.pty_path
        return f"socket://{self._host}:{self._port}"

    # -- world actions ------------------------------------------------------------------------
    def unplug(self) -> None:
        """The cable is pulled: open connections die and the port stops answering."""
        self.faults.unplugged = True
        self._drop_clients()
        if self._use_pty:
            self._close_pty()
        else:
            self._close_listener()  # connection refused, as from a port with nothing behind it

    def replug(self) -> None:
        self.faults.unplugged = False
        if self._use_pty and self._pty_master is None:
            self._open_pty()
        elif not self._use_pty and self._listener is None:
            self._open_listener()

    def push(self, data: bytes) -> None:
        """Send unsolicited bytes (a scanner that has read a code) to whoever is connected."""
        self._emit(data)

    def control(self, command: str, args: dict[str, object]) -> dict[str, object]:
        """Line faults handled here; everything else is the firmware's business."""
        faults = self.faults
        if command == "unplug":
            self.unplug()
        elif command == "replug":
            self.replug()
        elif command == "silence":
            faults.silent = bool(args.get("on", True))
        elif command == "corrupt_next":
            faults.corrupt_next = int(str(args.get("count", 1)))
        elif command == "noise":
            faults.leading_noise = bytes.fromhex(str(args.get("hex", "ff00a5")))
        elif command == "split":
            faults.split_bytes = bool(args.get("on", True))
            faults.byte_delay_s = float(str(args.get("delay_s", 0.002)))
        elif command == "unplug_mid_frame":
            faults.unplug_mid_frame = True
        else:
            return self.firmware.control(command, args)
        return {"ok": True}

    # -- transport ----------------------------------------------------------------------------
    def _spawn(self, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=f"stub-{self.name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            listener = self._listener
            if listener is None:
                self._stop.wait(0.02)
                continue
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            if self.faults.unplugged:
                conn.close()
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._clients_lock:
                self._clients.append(conn)
            self._spawn(functools.partial(self._client_loop, conn))

    def _client_loop(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(0.1)
        except OSError:  # an unplug closed it between accept() and this thread starting
            return
        while not self._stop.is_set():
            try:
                data = conn.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            self._handle(data)
        with self._clients_lock:
            if conn in self._clients:
                self._clients.remove(conn)
        with contextlib.suppress(OSError):
            conn.close()

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        # A reply into a full input queue (nobody reading) is dropped, as a UART overruns,
        # rather than blocking the writer while it holds the pty lock.
        os.set_blocking(master, False)
        with self._pty_lock:
            self._pty_master, self._pty_slave = master, slave
            self._pty_generation += 1
        self.pty_path = os.ttyname(slave)
        if self._pty_link:
            # A stable name like /dev/ttyUSB0: replugging gives a new pty behind the same link.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._pty_link)
            os.symlink(self.pty_path, self._pty_link)

    def _close_pty(self) -> None:
        with self._pty_lock:
            master, slave = self._pty_master, self._pty_slave
            self._pty_master = self._pty_slave = None
            self._pty_generation += 1
            if self._pty_link and master is not None:
                # Gone with the device, as /dev/ttyUSB0 goes with its adapter. Left behind, the
                # link would name a freed /dev/pts/N that the next pty (another test's, another
                # program's) may get, and a driver still retrying this port would open that one
                # and answer or swallow its traffic.
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._pty_link)
            for fd in (master, slave):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)

    def _pty_loop(self) -> None:
        while not self._stop.is_set():
            with self._pty_lock:
                master, generation = self._pty_master, self._pty_generation
            if master is None:
                time.sleep(0.02)
                continue
            try:
                ready, _, _ = select.select([master], [], [], 0.1)
            except (OSError, ValueError):  # closed while we waited
                time.sleep(0.02)
                continue
            if not ready:
                continue
            with self._pty_lock:
                if generation != self._pty_generation:
                    continue  # unplugged meanwhile: that number may be another file's now
                try:
                    data = os.read(master, 4096)
                except OSError:
                    data = b""
            if data:
                self._handle(data)

    def _handle(self, data: bytes) -> None:
        self.received.extend(data)
        reply = self.firmware.feed(data)
        if reply:
            self._emit(reply)

    def _drop_clients(self) -> None:
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for conn in clients:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()

    def _emit(self, reply: bytes) -> None:
        faults = self.faults
        with faults.lock:
            if faults.silent or faults.unplugged:
                return
            if faults.corrupt_next > 0 and reply:
                faults.corrupt_next -= 1
                reply = reply[:-1] + bytes([reply[-1] ^ 0x5A])
            if faults.leading_noise:
                reply = faults.leading_noise + reply
                faults.leading_noise = b""
            if faults.unplug_mid_frame:
                faults.unplug_mid_frame = False
                self._write(reply[: max(1, len(reply) // 2)])
                self.unplug()
                return
            if faults.split_bytes:
                for i in range(len(reply)):
                    self._write(reply[i : i + 1])
                    if faults.byte_delay_s:
                        time.sleep(faults.byte_delay_s)
            else:
                self._write(reply)

    def _write(self, data: bytes) -> None:
        self.sent.extend(data)
        if self._use_pty:
            with self._pty_lock:
                if self._pty_master is not None:
                    with contextlib.suppress(OSError):
                        os.write(self._pty_master, data)
            return
        with self._clients_lock:
            clients = list(self._clients)
        for conn in clients:
            with contextlib.suppress(OSError):
                conn.sendall(data)
