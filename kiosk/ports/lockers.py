"""The locker port: one column of compartments, whatever the wire (RS485 boards or MQTT).

The terminal treats a serial lock-board column and a networked MQTT column alike: both adapters
implement `LockerColumn`, both publish the same events, both report the same unlock outcomes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

from kiosk.config import LockerColumnSettings

from .health import DeviceHealth, EventSink

CompartmentSize = Literal["S", "M", "L"]


class UnlockOutcome(StrEnum):
    OPENED = "opened"  # closed before, reported open after the pulse
    ALREADY_OPEN = "already_open"  # open before the command (the pulse is still sent)
    JAMMED = "jammed"  # the board answered but the door still reads closed after a re-check
    UNKNOWN = "unknown"  # the command went out but no valid answer came back


class DoorState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CompartmentSpec:
    """Where a compartment is on the wire and on the column (for the UI drawing)."""

    number: int  # the number printed on the door, unique on the terminal
    column: str  # column name, e.g. "A"
    board: int  # board address on the RS485 bus, or on the MQTT controller
    lock: int  # 1-based lock/channel on the board
    size: CompartmentSize
    row: int  # 1 = top row of the column
    col: int = 1  # 1 = left cell of the row


@dataclass(frozen=True)
class CompartmentReading:
    door: DoorState
    item_present: bool | None  # None where the board has no item sensor


def compartment_specs(column: LockerColumnSettings) -> list[CompartmentSpec]:
    """The configured compartment map of one column, as both locker adapters use it."""
    return [
        CompartmentSpec(
            number=c.number,
            column=column.name,
            board=c.board,
            lock=c.lock,
            size=c.size,
            row=c.row,
            col=c.col,
        )
        for c in column.compartments
    ]


# Events (past tense). `compartment` is CompartmentSpec.number.
@dataclass(frozen=True)
class DoorOpened:
    compartment: int


@dataclass(frozen=True)
class DoorClosed:
    compartment: int


@dataclass(frozen=True)
class ItemDetected:
    compartment: int


@dataclass(frozen=True)
class ItemRemoved:
    compartment: int


@dataclass(frozen=True)
class DoorOpenedWithoutCommand:
    """A door opened that nobody unlocked (forced, or a lock that released by itself): an alarm."""

    compartment: int


class LockerError(Exception):
    """A locker operation failed; the message names the column and what went wrong."""


class LockerColumn(Protocol):
    """One column of compartments. Blocking calls: the core runs them off the UI thread."""

    @property
    def name(self) -> str: ...

    def compartments(self) -> Sequence[CompartmentSpec]: ...

    def start(self, sink: EventSink) -> None:
        """Begin polling/subscribing; events and health changes go to `sink`."""

    def stop(self) -> None: ...

    def unlock(self, compartment: int) -> UnlockOutcome:
        """Pulse the lock once; never raises for a missing answer (that is UNKNOWN)."""

    def readings(self) -> Mapping[int, CompartmentReading]:
        """The latest known state of every compartment (UNKNOWN until first read)."""

    def expect_movement(self, compartment: int, seconds: float) -> None:
        """Poll fast (≥ 2 Hz) for a while: a door is expected to open or close."""

    def health(self) -> DeviceHealth: ...
