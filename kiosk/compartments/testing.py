"""Hand-written fakes for tests of anything that uses compartments; not used at run time.

`FakeLockerColumn` behaves like a column of lock boards (doors, item sensors, jams, a silent
board) and records every call, so a test asserts what was asked of the hardware instead of
mocking it. The "by hand" methods are what a citizen or an intruder does to the door; they emit
the same events a real column's poller would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from kiosk.ports.health import DeviceHealth, EventSink, HealthState
from kiosk.ports.lockers import (
    CompartmentReading,
    CompartmentSize,
    CompartmentSpec,
    DoorClosed,
    DoorOpened,
    DoorOpenedWithoutCommand,
    DoorState,
    ItemDetected,
    ItemRemoved,
    LockerError,
    UnlockOutcome,
)


def column_specs(column: str, sizes: str, *, first_number: int = 1) -> list[CompartmentSpec]:
    """A column map from a string of sizes, e.g. "SSMMLL": one lock per compartment, 2 a row."""
    specs = []
    for index, size in enumerate(sizes):
        if size not in ("S", "M", "L"):
            raise ValueError(f"size {size!r} is not S, M or L")
        specs.append(
            CompartmentSpec(
                number=first_number + index,
                column=column,
                board=index // 8,
                lock=index % 8 + 1,
                size=_size(size),
                row=index // 2 + 1,
                col=index % 2 + 1,
            )
        )
    return specs


def _size(letter: str) -> CompartmentSize:
    return "S" if letter == "S" else "M" if letter == "M" else "L"


class FakeLockerColumn:
    """Implements `kiosk.ports.lockers.LockerColumn` in memory; every door starts closed, empty."""

    def __init__(
        self, name: str, specs: Sequence[CompartmentSpec], *, item_sensor: bool = True
    ) -> None:
        self._name = name
        self._specs = list(specs)
        self.item_sensor = item_sensor
        self.doors: dict[int, DoorState] = {s.number: DoorState.CLOSED for s in self._specs}
        self.items: dict[int, bool] = {s.number: False for s in self._specs}
        self.calls: list[tuple[object, ...]] = []
        self.jammed: set[int] = set()  # unlock answers JAMMED, the door stays shut
        self.silent = False  # the board does not answer: unlock UNKNOWN, readings UNKNOWN
        self.unlock_error: LockerError | None = None  # raised by unlock (a broken adapter)
        # runs after the pulse, before unlock returns: a test raises here to "crash"
        self.after_pulse: Callable[[int], None] | None = None
        self._sink: EventSink | None = None

    @property
    def name(self) -> str:
        return self._name

    def compartments(self) -> Sequence[CompartmentSpec]:
        return list(self._specs)

    def start(self, sink: EventSink) -> None:
        self.calls.append(("start",))
        self._sink = sink

    def stop(self) -> None:
        self.calls.append(("stop",))
        self._sink = None

    def unlock(self, compartment: int) -> UnlockOutcome:
        self.calls.append(("unlock", compartment))
        if compartment not in self.doors:
            raise LockerError(f"column {self._name} has no compartment {compartment}")
        if self.unlock_error is not None:
            raise self.unlock_error
        if self.silent:
            outcome = UnlockOutcome.UNKNOWN
        elif self.doors[compartment] is DoorState.OPEN:
            outcome = UnlockOutcome.ALREADY_OPEN
        elif compartment in self.jammed:
            outcome = UnlockOutcome.JAMMED
        else:
            self.doors[compartment] = DoorState.OPEN
            self._emit(DoorOpened(compartment))
            outcome = UnlockOutcome.OPENED
        if self.after_pulse is not None:
            self.after_pulse(compartment)
        return outcome

    def readings(self) -> Mapping[int, CompartmentReading]:
        if self.silent:
            return {n: CompartmentReading(DoorState.UNKNOWN, None) for n in self.doors}
        return {
            n: CompartmentReading(door, self.items[n] if self.item_sensor else None)
            for n, door in self.doors.items()
        }

    def expect_movement(self, compartment: int, seconds: float) -> None:
        self.calls.append(("expect_movement", compartment, seconds))

    def health(self) -> DeviceHealth:
        if self.silent:
            return DeviceHealth(self._name, HealthState.OFFLINE, "the fake board is silent")
        return DeviceHealth(self._name, HealthState.OK)

    # -- what people do to the doors ------------------------------------------------------------

    def close_by_hand(self, compartment: int) -> None:
        if self.doors[compartment] is DoorState.OPEN:
            self.doors[compartment] = DoorState.CLOSED
            self._emit(DoorClosed(compartment))

    def force_open(self, compartment: int) -> None:
        """A door opened with no unlock: a crowbar, or a lock that let go by itself."""
        if self.doors[compartment] is DoorState.CLOSED:
            self.doors[compartment] = DoorState.OPEN
            self._emit(DoorOpened(compartment))
            self._emit(DoorOpenedWithoutCommand(compartment))

    def put_item(self, compartment: int) -> None:
        if not self.items[compartment]:
            self.items[compartment] = True
            if self.item_sensor:
                self._emit(ItemDetected(compartment))

    def take_item(self, compartment: int) -> None:
        if self.items[compartment]:
            self.items[compartment] = False
            if self.item_sensor:
                self._emit(ItemRemoved(compartment))

    def unlocks(self) -> list[int]:
        return [int(str(call[1])) for call in self.calls if call[0] == "unlock"]

    def _emit(self, event: object) -> None:
        if self._sink is not None and not self.silent:
            self._sink(event)


class FakeWallClock:
    """A UTC clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 6, 2, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
