"""One serial line to one device: open with backoff, read in a thread, reopen after an unplug.

Every serial driver (lock-board bus, ID-card reader, barcode scanner) sits on a `SerialLink`. The
link owns the only `serial.Serial` object, so no driver holds a half-open handle: a read error
closes the port, resets the frame decoder (a frame cut by an unplug is dropped, never glued to the
next one) and goes back to opening, retrying with exponential backoff. Ports are pyserial URLs, so
the same code runs on `/dev/ttyUSB0`, on a stub at `socket://127.0.0.1:7101` and under
`spy:///dev/ttyUSB0`.

Frames are decoded by the device's pure codec (`FrameDecoder`). A request/response `exchange`
holds the bus for one command at a time and discards replies that do not match the request;
frames that arrive while nobody waits (a scanner's codes) go to `on_frame`.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

import serial

from kiosk.ports.health import DeviceHealth, HealthState

from .errors import DeviceOffline, NoReply

FrameT = TypeVar("FrameT")

# pyserial's POSIX flush() calls termios.tcdrain, which raises termios.error (not an OSError) when
# a pty or USB adapter vanishes mid-write.
try:
    import termios

    _WRITE_ERRORS: tuple[type[BaseException], ...] = (
        serial.SerialException,
        OSError,
        termios.error,
    )
except ImportError:  # Windows
    _WRITE_ERRORS = (serial.SerialException, OSError)


class FrameDecoder(Protocol[FrameT]):
    """An incremental, pure decoder: bytes in, complete frames out, garbage skipped."""

    def feed(self, data: bytes) -> list[FrameT]: ...

    def reset(self) -> None: ...


class SerialLink(Generic[FrameT]):
    """Keeps one serial URL open for one device and reports its health."""

    def __init__(
        self,
        url: str,
        decoder: FrameDecoder[FrameT],
        *,
        device: str,
        baudrate: int = 9600,
        on_frame: Callable[[FrameT], None] | None = None,
        on_health: Callable[[DeviceHealth], None] | None = None,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 2.0,
        read_timeout_s: float = 0.02,
    ) -> None:
        self.url = url
        self.device = device
        self._decoder = decoder
        self._baudrate = baudrate
        self._on_frame = on_frame
        self._on_health = on_health
        self._backoff_initial = backoff_initial_s
        self._backoff_max = backoff_max_s
        self._read_timeout = read_timeout_s
        self._port: serial.SerialBase | None = None
        self._port_lock = threading.RLock()
        self._exchange_lock = threading.Lock()
        self._replies: queue.Queue[FrameT] = queue.Queue()
        self._awaiting_reply = False
        self._stop = threading.Event()
        self._opened = threading.Event()
        self._thread: threading.Thread | None = None
        self._health = DeviceHealth(
            device,
            HealthState.OFFLINE,
            f"{device} on {url} has not been opened yet.",
            time.monotonic(),
        )
        self._device_health: tuple[HealthState, str] | None = None

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"serial-{self.device}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self._close()

    def wait_open(self, timeout: float) -> bool:
        """True once the port is open (tests and start-up diagnostics wait on this)."""
        return self._opened.wait(timeout)

    @property
    def is_open(self) -> bool:
        return self._opened.is_set()

    # -- I/O ------------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        with self._port_lock:
            port = self._port
            if port is None:
                raise DeviceOffline(self._offline_sentence())
            try:
                port.write(data)
                port.flush()
            except _WRITE_ERRORS as err:
                self._mark_lost(err)
                raise DeviceOffline(
                    f"{self.device} on {self.url}: writing failed ({err}); the line was closed "
                    "and will be reopened."
                ) from err

    def exchange(self, request: bytes, accept: Callable[[FrameT], bool], timeout: float) -> FrameT:
        """Send one request and return the first reply `accept` takes; others are discarded.

        One exchange at a time per link: on an RS485 bus two commands in flight would collide.
        """
        with self._exchange_lock:
            self._drain_replies()
            self._awaiting_reply = True
            try:
                self.write(request)
                deadline = time.monotonic() + timeout
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise NoReply(
                            f"{self.device} on {self.url} did not answer within {timeout:.1f} s."
                        )
                    try:
                        frame = self._replies.get(timeout=remaining)
                    except queue.Empty:
                        continue
                    if accept(frame):
                        return frame
            finally:
                self._awaiting_reply = False

    # -- health --------------------------------------------------------------------------
    def health(self) -> DeviceHealth:
        return self._health

    def report_device_health(self, state: HealthState, reason: str = "") -> None:
        """The driver's own verdict while the line is up (e.g. paper out, no answer)."""
        self._device_health = (state, reason)
        if self.is_open:
            self._set_health(state, reason)

    def _set_health(self, state: HealthState, reason: str) -> None:
        if (state, reason) == (self._health.state, self._health.reason):
            return
        self._health = DeviceHealth(self.device, state, reason, time.monotonic())
        if self._on_health is not None:
            self._on_health(self._health)

    def _offline_sentence(self, detail: str = "") -> str:
        extra = f" ({detail})" if detail else ""
        return (
            f"{self.device} on {self.url} is not connected{extra}; check the cable and power — "
            "the terminal keeps retrying."
        )

    # -- reader thread ---------------------------------------------------------------------
    def _run(self) -> None:
        backoff = self._backoff_initial
        while not self._stop.is_set():
            if self._port is None:
                if self._try_open():
                    backoff = self._backoff_initial
                else:
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, self._backoff_max)
                continue
            self._read_once()

    def _try_open(self) -> bool:
        try:
            port = serial.serial_for_url(
                self.url, baudrate=self._baudrate, timeout=self._read_timeout, write_timeout=1.0
            )
        except (serial.SerialException, OSError, ValueError) as err:
            self._set_health(HealthState.OFFLINE, self._offline_sentence(str(err)))
            return False
        with self._port_lock:
            self._port = port
        self._decoder.reset()
        self._opened.set()
        state, reason = self._device_health or (HealthState.OK, "")
        self._set_health(state, reason)
        return True

    def _read_once(self) -> None:
        port = self._port
        if port is None:
            return
        try:
            data = port.read(max(1, port.in_waiting))
        except (serial.SerialException, OSError, TypeError, AttributeError) as err:
            # TypeError/AttributeError: pyserial's socket handler after a concurrent close.
            self._mark_lost(err)
            return
        if not data:
            return
        for frame in self._decoder.feed(data):
            if self._awaiting_reply:
                self._replies.put(frame)
            elif self._on_frame is not None:
                self._on_frame(frame)

    def _mark_lost(self, err: BaseException) -> None:
        # Health first: closing a socket:// port sleeps 0.3 s inside pyserial, and the line is
        # already gone for everybody who asks meanwhile.
        self._set_health(HealthState.OFFLINE, self._offline_sentence(f"line lost: {err}"))
        self._close()

    def _close(self) -> None:
        with self._port_lock:
            port, self._port = self._port, None
        self._opened.clear()
        self._decoder.reset()
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def _drain_replies(self) -> None:
        while True:
            try:
                self._replies.get_nowait()
            except queue.Empty:
                return
