"""The messages of the locker-column MQTT protocol (docs/mqtt-locker-protocol.md), as values.

They are frozen so a message read off the wire can be handed between threads (paho's network
thread, the caller waiting in `unlock`) without anyone changing it under the other's feet.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

PROTOCOL_VERSION = 1


class DoorPosition(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CommandResult(StrEnum):
    OPENED = "opened"  # closed before, open after the pulse
    ALREADY_OPEN = "already_open"  # open before the command (the pulse is still given)
    JAMMED = "jammed"  # pulsed, but the door still reads closed after the controller's re-check
    REFUSED = "refused"  # not carried out at all; `reason` says why


class RefusalReason(StrEnum):
    EXPIRED = "expired"  # arrived after its `expires_at_ms`: a late command never opens a door
    NO_SUCH_LOCK = "no_such_lock"  # the controller has no such board/lock
    BAD_COMMAND = "bad_command"  # the payload did not follow the schema


@dataclass(frozen=True)
class UnlockCommand:
    """Pulse one lock once; the id makes a redelivery harmless, the expiry makes a late one so."""

    command_id: str
    board: int
    lock: int
    expires_at_ms: int  # Unix time in milliseconds; the controller refuses the command after it
    reply_to: str  # the topic the reply goes to


@dataclass(frozen=True)
class CommandReply:
    command_id: str
    result: CommandResult
    reason: RefusalReason | None = None  # set only when result is REFUSED
    replayed: bool = False  # True when the controller had already handled this id


@dataclass(frozen=True)
class LockState:
    board: int
    lock: int
    door: DoorPosition
    item: bool | None  # None where the compartment has no item sensor


@dataclass(frozen=True)
class ColumnState:
    """The whole column, published retained after every change so a newcomer knows the doors."""

    seq: int  # grows by one with every publication; lets a reader drop an older snapshot
    locks: tuple[LockState, ...]


@dataclass(frozen=True)
class ControllerStatus:
    """Retained; `online: false` is also the controller's last will, published by the broker."""

    online: bool
