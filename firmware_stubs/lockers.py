"""A bus of emulated lock boards (Kerong CU16 or 8A/80), for the demo and the tests.

Each board has doors (hooks), locks that can be jammed, and — on Kerong boards — infrared item
sensors. An unlock pulse opens the door unless the lock is jammed; a `slow_door` opens only after
the unlock reply has gone out (it reads closed in the reply and open at the next status read), so
the driver's re-check path runs for real. People act through `control`: open or close a door by
hand, jam or free a lock, put an item in or take it out. Line faults (noise, split bytes, silence,
unplug, ...) are the `SerialStubServer`'s business.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from devices.lockers.board_protocol import BoardProtocol, FrameScanner
from devices.lockers.messages import (
    BoardStatus,
    LockerReply,
    LockerRequest,
    StatusRequest,
    UnlockAck,
)
from devices.lockers.protocols import protocol_by_name

from .serial_stub import SerialStubServer


@dataclass
class EmulatedBoard:
    address: int
    locks: int
    has_item_sensors: bool
    status_bytes: int | None = None  # 8A: send this many status bytes (boards often send more)
    door_open: list[bool] = field(default_factory=list)
    jammed: list[bool] = field(default_factory=list)
    item: list[bool] = field(default_factory=list)
    slow: list[bool] = field(default_factory=list)
    released: list[bool] = field(default_factory=list)  # slow door unlocked, not yet swung open
    unlocks: int = 0

    def __post_init__(self) -> None:
        for name in ("door_open", "jammed", "item", "slow", "released"):
            if not getattr(self, name):
                setattr(self, name, [False] * self.locks)

    def status(self) -> BoardStatus:
        closed = tuple(not is_open for is_open in self.door_open)
        if self.status_bytes is not None:
            closed += (False,) * (self.status_bytes * 8 - len(closed))
        items = tuple(self.item) if self.has_item_sensors else None
        return BoardStatus(self.address, closed, items)


class LockerBusFirmware:
    """The boards on one bus; only the addressed board answers, an absent address stays silent."""

    def __init__(
        self,
        protocol: BoardProtocol,
        boards: dict[int, int],
        *,
        status_bytes: int | None = None,
        compartments: dict[int, tuple[int, int]] | None = None,
    ) -> None:
        """`boards` maps address → lock count; `compartments` maps a door number → (board, lock)
        so the demo can say "open compartment 5" instead of wiring coordinates."""
        self.protocol = protocol
        self.boards = {
            address: EmulatedBoard(address, locks, protocol.has_item_sensors, status_bytes)
            for address, locks in boards.items()
        }
        self.compartments = dict(compartments or {})
        self._decoder: FrameScanner[LockerRequest] = protocol.request_decoder()
        self._lock = threading.Lock()

    # -- the wire -------------------------------------------------------------------------------
    def feed(self, data: bytes) -> bytes:
        with self._lock:
            return b"".join(self._answer(request) for request in self._decoder.feed(data))

    def _answer(self, request: LockerRequest) -> bytes:
        board = self.boards.get(request.board)
        if board is None:
            return b""
        if isinstance(request, StatusRequest):
            for index, released in enumerate(board.released):
                if released:
                    board.door_open[index] = True
                    board.released[index] = False
            return self.protocol.encode_reply(board.status())
        index = request.lock - 1
        if index >= board.locks:
            return b""  # a channel the board is not fitted with: real boards stay silent
        board.unlocks += 1
        if board.jammed[index]:
            pass
        elif board.slow[index]:
            board.released[index] = True
            board.slow[index] = False  # one slow opening per `slow_door`
        else:
            board.door_open[index] = True
        reply: LockerReply = UnlockAck(
            board.address, request.lock, not board.door_open[index], board.status()
        )
        return self.protocol.encode_reply(reply)

    # -- the world ------------------------------------------------------------------------------
    def control(self, command: str, args: dict[str, object]) -> dict[str, object]:
        with self._lock:
            if command == "state":
                return {"boards": {str(a): self._describe(b) for a, b in self.boards.items()}}
            board, index = self._locate(args)
            actions = {
                "open_door": ("door_open", True),
                "close_door": ("door_open", False),
                "jam": ("jammed", True),
                "unjam": ("jammed", False),
                "put_item": ("item", True),
                "remove_item": ("item", False),
                "slow_door": ("slow", True),
            }
            if command not in actions:
                raise KeyError(
                    f"unknown command {command!r}; known: state, {', '.join(sorted(actions))}"
                )
            attribute, value = actions[command]
            if attribute == "item" and not board.has_item_sensors:
                raise ValueError(f"{self.protocol.name} boards have no item sensors")
            getattr(board, attribute)[index] = value
            return {"board": board.address, "lock": index + 1, **self._describe(board)}

    def _locate(self, args: dict[str, object]) -> tuple[EmulatedBoard, int]:
        if "compartment" in args:
            number = int(str(args["compartment"]))
            if number not in self.compartments:
                raise ValueError(f"no compartment {number} is wired on this bus")
            address, lock = self.compartments[number]
        else:
            address, lock = int(str(args.get("board", 0))), int(str(args["lock"]))
        board = self.boards.get(address)
        if board is None:
            raise ValueError(f"no board {address} on this bus; boards: {sorted(self.boards)}")
        if not 1 <= lock <= board.locks:
            raise ValueError(f"board {address} has locks 1-{board.locks}, not {lock}")
        return board, lock - 1

    @staticmethod
    def _describe(board: EmulatedBoard) -> dict[str, object]:
        def numbered(flags: list[bool]) -> list[int]:
            return [i + 1 for i, flag in enumerate(flags) if flag]

        return {
            "open": numbered(board.door_open),
            "jammed": numbered(board.jammed),
            "items": numbered(board.item) if board.has_item_sensors else None,
            "unlocks": board.unlocks,
        }


def start_from_settings(settings: Any) -> list[SerialStubServer]:
    """Start one emulated bus per serial locker column that points at a loopback socket URL.

    The stub is called `lockers` when the terminal has one such column, else `lockers-<name>`.
    """
    columns = [
        column
        for column in settings.devices.locker_columns
        if column.transport == "serial" and _loopback_port(column.port) is not None
    ]
    servers: list[SerialStubServer] = []
    for column in columns:
        protocol_name: str = column.protocol
        locks_by_board: dict[int, int] = {}
        for compartment in column.compartments:
            locks_by_board[compartment.board] = max(
                locks_by_board.get(compartment.board, 0), compartment.lock
            )
        highest = max(locks_by_board.values(), default=8)
        channels = None if protocol_name == "kerong-cu16" else max(8, -(-highest // 8) * 8)
        protocol = protocol_by_name(protocol_name, channels)
        firmware = LockerBusFirmware(
            protocol,
            {board: protocol.locks_per_board for board in locks_by_board},
            compartments={c.number: (c.board, c.lock) for c in column.compartments},
        )
        name = "lockers" if len(columns) == 1 else f"lockers-{column.name}"
        port = _loopback_port(column.port)
        assert port is not None
        servers.append(SerialStubServer(firmware, port=port, name=name).start())
    return servers


def _loopback_port(url: str) -> int | None:
    parts = urlsplit(url)
    if parts.scheme != "socket" or parts.hostname not in ("127.0.0.1", "localhost"):
        return None
    return parts.port
