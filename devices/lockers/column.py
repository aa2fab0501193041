"""A column of compartments on serial lock boards: the `LockerColumn` port over a `LockerBus`.

One poller thread reads every board of the column in turn (one batch status request per board,
covering all its locks) and publishes only changes. It polls fast while a door is expected to move
(after an unlock, or when the core says a citizen is about to close a door) and slowly otherwise,
so an idle bus stays quiet but a forced door is still noticed within about a second.

A door that opens without an unlock of that compartment in the last `alarm_window_s` seconds
raises `DoorOpenedWithoutCommand` (after the plain `DoorOpened`, so state followers need not care
about alarms). The first reading after start-up is the baseline and produces no events: whatever
was open at boot shows in `readings()`, and the core reconciles it with its own records.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from devices.errors import BadFrame, DeviceError, DeviceOffline, NoReply
from kiosk.config import LockerColumnSettings
from kiosk.ports.health import DeviceHealth, DeviceHealthChanged, EventSink, HealthState
from kiosk.ports.lockers import (
    CompartmentReading,
    CompartmentSpec,
    DoorClosed,
    DoorOpened,
    DoorOpenedWithoutCommand,
    DoorState,
    ItemDetected,
    ItemRemoved,
    LockerError,
    UnlockOutcome,
    compartment_specs,
)

from .board_protocol import BoardProtocol
from .bus import LockerBus
from .messages import BoardStatus
from .protocols import protocol_by_name

FAST_POLL_S = 0.25  # 4 Hz while a door is expected to move
IDLE_POLL_S = 1.0  # 1 Hz otherwise: a forced door is still seen within about a second
ALARM_WINDOW_S = 10.0  # an opening this long after our unlock is still "ours"
FAST_AFTER_UNLOCK_S = 10.0
POLL_TIMEOUT_S = 0.3  # short, so a silent board holds the bus (and a waiting unlock) briefly
UNLOCK_TIMEOUT_S = 1.0

_UNKNOWN = CompartmentReading(DoorState.UNKNOWN, None)


class SerialLockerColumn:
    """Implements `kiosk.ports.lockers.LockerColumn` for an RS485 bus of lock boards."""

    def __init__(
        self,
        name: str,
        url: str,
        protocol: BoardProtocol,
        compartments: Sequence[CompartmentSpec],
        *,
        baud: int | None = None,
        fast_poll_s: float = FAST_POLL_S,
        idle_poll_s: float = IDLE_POLL_S,
        alarm_window_s: float = ALARM_WINDOW_S,
        poll_timeout_s: float = POLL_TIMEOUT_S,
        unlock_timeout_s: float = UNLOCK_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._name = name
        self._protocol = protocol
        self._specs = sorted(compartments, key=lambda spec: spec.number)
        self._by_number = {spec.number: spec for spec in self._specs}
        self._boards = sorted({spec.board for spec in self._specs})
        self._fast_poll_s = fast_poll_s
        self._idle_poll_s = idle_poll_s
        self._alarm_window_s = alarm_window_s
        self._poll_timeout_s = poll_timeout_s
        self._unlock_timeout_s = unlock_timeout_s
        self._clock = clock
        self._sink: EventSink | None = None
        self._state_lock = threading.RLock()
        self._readings: dict[int, CompartmentReading] = {s.number: _UNKNOWN for s in self._specs}
        self._unlocked_at: dict[int, float] = {}
        self._jammed: set[int] = set()
        self._silent_boards: set[int] = set()
        self._fast_until = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bus = LockerBus(
            url,
            protocol,
            baud=baud,
            device=f"locker column {name}",
            timeout_s=unlock_timeout_s,
            on_health=self._publish_health,
        )

    @classmethod
    def from_settings(cls, settings: LockerColumnSettings, **options: Any) -> SerialLockerColumn:
        """Build the column the settings describe (8A boards get channels from the map).

        `options` are the constructor's tuning keywords (poll periods, alarm window, timeouts).
        """
        specs = compartment_specs(settings)
        highest_lock = max((c.lock for c in settings.compartments), default=1)
        channels = None if settings.protocol == "kerong-cu16" else settings.channels or highest_lock
        try:
            protocol = protocol_by_name(settings.protocol, channels)
        except ValueError as err:
            raise LockerError(f"locker column {settings.name}: {err}.") from err
        for spec in specs:
            if spec.board > protocol.max_board or spec.lock > protocol.locks_per_board:
                raise LockerError(
                    f"locker column {settings.name}: compartment {spec.number} is wired to board "
                    f"{spec.board} lock {spec.lock}, which a {protocol.name} bus cannot address."
                )
        return cls(settings.name, settings.port, protocol, specs, baud=settings.baud, **options)

    # -- the port -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    def compartments(self) -> Sequence[CompartmentSpec]:
        return tuple(self._specs)

    def start(self, sink: EventSink) -> None:
        if self._thread is not None:
            return
        self._sink = sink
        self._stop.clear()
        self._bus.start()
        self._thread = threading.Thread(
            target=self._poll_loop, name=f"lockers-{self._name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
            self._thread = None
        self._bus.stop()

    def health(self) -> DeviceHealth:
        return self._bus.health()

    def readings(self) -> Mapping[int, CompartmentReading]:
        with self._state_lock:
            return dict(self._readings)

    def expect_movement(self, compartment: int, seconds: float) -> None:
        self._spec(compartment)
        with self._state_lock:
            self._fast_until = max(self._fast_until, self._clock() + seconds)
        self._wake.set()

    def unlock(self, compartment: int) -> UnlockOutcome:
        """Pulse the lock; raises `LockerError` only when nothing could be sent (line down)."""
        spec = self._spec(compartment)
        with self._state_lock:
            now = self._clock()
            self._unlocked_at[compartment] = now
            self._fast_until = max(self._fast_until, now + FAST_AFTER_UNLOCK_S)
        try:
            result = self._bus.unlock_and_verify(
                spec.board, spec.lock, timeout=self._unlock_timeout_s
            )
        except DeviceOffline as err:
            raise LockerError(f"compartment {compartment} was not unlocked: {err}") from err
        if result.latest is not None:
            self._apply(result.latest)
        with self._state_lock:
            if result.outcome is UnlockOutcome.JAMMED:
                self._jammed.add(compartment)
            elif result.outcome in (UnlockOutcome.OPENED, UnlockOutcome.ALREADY_OPEN):
                self._jammed.discard(compartment)
        self._report_health()
        self._wake.set()
        return result.outcome

    # -- polling --------------------------------------------------------------------------------
    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            if not self._bus.wait_open(0.2):
                continue
            self.poll_once()
            with self._state_lock:
                fast = self._clock() < self._fast_until
            self._wake.wait(self._fast_poll_s if fast else self._idle_poll_s)
            self._wake.clear()

    def poll_once(self) -> None:
        """One batch read of every board of the column (the poller's cycle; tests call it too)."""
        for board in self._boards:
            if self._stop.is_set():
                return
            try:
                status = self._bus.status(board, self._poll_timeout_s)
            except (NoReply, BadFrame):
                with self._state_lock:
                    self._silent_boards.add(board)
                continue
            except DeviceError as err:
                # Line down. The link reports offline itself, but it restores the last verdict
                # when it reopens; make that verdict "offline" so health turns ok only once a
                # board has answered again, not merely because a socket connected.
                self._bus.link.report_device_health(HealthState.OFFLINE, str(err))
                return
            with self._state_lock:
                self._silent_boards.discard(board)
            self._apply(status)
        self._report_health()

    def _apply(self, status: BoardStatus) -> None:
        with self._state_lock:
            now = self._clock()
            for spec in self._specs:
                if spec.board != status.board:
                    continue
                closed = status.door_closed(spec.lock)
                if closed is None:
                    continue
                door = DoorState.CLOSED if closed else DoorState.OPEN
                item = status.item_present(spec.lock)
                new = CompartmentReading(door, item)
                old = self._readings[spec.number]
                self._readings[spec.number] = new
                if old.door is DoorState.UNKNOWN:
                    continue  # the baseline
                self._emit_changes(spec.number, old, new, now)

    def _emit_changes(
        self, number: int, old: CompartmentReading, new: CompartmentReading, now: float
    ) -> None:
        if old.door is DoorState.CLOSED and new.door is DoorState.OPEN:
            self._emit(DoorOpened(number))
            unlocked_at = self._unlocked_at.get(number)
            if unlocked_at is None or now - unlocked_at > self._alarm_window_s:
                self._emit(DoorOpenedWithoutCommand(number))
            self._jammed.discard(number)
        elif old.door is DoorState.OPEN and new.door is DoorState.CLOSED:
            self._emit(DoorClosed(number))
        if old.item_present is False and new.item_present is True:
            self._emit(ItemDetected(number))
        elif old.item_present is True and new.item_present is False:
            self._emit(ItemRemoved(number))

    # -- health -----------------------------------------------------------------------------------
    def _report_health(self) -> None:
        with self._state_lock:
            silent = sorted(self._silent_boards)
            jammed = sorted(self._jammed)
        url = self._bus.url
        if silent and len(silent) == len(self._boards):
            state = HealthState.OFFLINE
            reason = (
                f"no lock board of column {self._name} on {url} answers; check the bus power, "
                f"the RS485 cable and that the protocol is {self._protocol.name}."
            )
        elif silent:
            state = HealthState.FAULT
            numbers = [s.number for s in self._specs if s.board in silent]
            reason = (
                f"lock board(s) {_listed(silent)} of column {self._name} on {url} do not answer; "
                f"compartments {_listed(numbers)} cannot be opened — check their power and "
                "address switches."
            )
        elif jammed:
            state = HealthState.DEGRADED
            reason = (
                f"compartment(s) {_listed(jammed)} of column {self._name} did not open when "
                "unlocked; the lock may be jammed or the door held — check and take them out "
                "of service if needed."
            )
        else:
            state, reason = HealthState.OK, ""
        self._bus.link.report_device_health(state, reason)

    def _publish_health(self, health: DeviceHealth) -> None:
        self._emit(DeviceHealthChanged(health))

    def _emit(self, event: object) -> None:
        if self._sink is not None:
            self._sink(event)

    def _spec(self, compartment: int) -> CompartmentSpec:
        try:
            return self._by_number[compartment]
        except KeyError as err:
            raise LockerError(
                f"column {self._name} has no compartment {compartment}; it has "
                f"{_listed([s.number for s in self._specs])}."
            ) from err


def _listed(numbers: Sequence[int]) -> str:
    return ", ".join(str(n) for n in numbers)
