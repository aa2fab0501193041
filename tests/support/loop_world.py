"""The physical world of the loop crash test: one Kerong lock board whose truth outlives the kiosk.

The kiosk process under test is killed with SIGKILL again and again; the board, the doors, the
things inside the compartments and the people's hands must not die with it, exactly as real
hardware and real people do not. So the world lives in the test (parent) process:

* `LoopWorldFirmware` is the real Kerong CU16 firmware stub (`firmware_stubs.lockers`) with two
  additions the test needs: every unlock frame it receives is logged per compartment (to compare
  with the audit trail), and every physical thing has a name and a place — a citizen's papers
  (`materials:<reference>`), a result envelope (`result:<tracking number>`) — in a compartment or
  in someone's hands. The item sensors read what the places say.
* People act through the stub control port (`put`, `take`, `close`, `hands`, `phones`, ...), so
  the kiosk's "hands" are as external as its board: a kill between putting a parcel in and
  confirming it leaves the parcel in the compartment.

Places: `citizen` (papers not yet handed in), `centre` (papers the courier took), `bag` (result
envelopes the courier carries), `home` (results the citizen took), `compartment:<n>`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from devices.lockers.messages import LockerRequest, UnlockRequest
from devices.lockers.protocols import protocol_by_name
from firmware_stubs.control import StubControlServer
from firmware_stubs.lockers import LockerBusFirmware
from firmware_stubs.serial_stub import SerialStubServer
from kiosk.ports.lockers import CompartmentSize, CompartmentSpec

COLUMN = "A"
BOARD = 0
SIZES: tuple[CompartmentSize, ...] = ("S", "S", "S", "M", "M", "M", "L", "L")
STUB_NAME = "lockers"


def loop_specs() -> list[CompartmentSpec]:
    """The compartment map both the kiosk and the checker use: door n is lock n of board 0."""
    return [
        CompartmentSpec(number, COLUMN, BOARD, number, size, row=number)
        for number, size in enumerate(SIZES, start=1)
    ]


def compartment_place(number: int) -> str:
    return f"compartment:{number}"


class LoopWorldFirmware(LockerBusFirmware):
    """Kerong firmware that also knows what is where, who holds what, and every unlock frame."""

    def __init__(self) -> None:
        super().__init__(
            protocol_by_name("kerong-cu16", None),
            {BOARD: 16},
            compartments={spec.number: (BOARD, spec.lock) for spec in loop_specs()},
        )
        self.places: dict[str, str] = {}  # item label -> place
        self.phones: dict[str, dict[str, str]] = {}  # tracking number -> {"code", "qr"}
        self.unlock_frames: Counter[int] = Counter()

    # -- the wire: log unlocks before the board acts on them ----------------------------------
    def _answer(self, request: LockerRequest) -> bytes:
        if isinstance(request, UnlockRequest) and request.board == BOARD:
            self.unlock_frames[request.lock] += 1
        return super()._answer(request)

    # -- the people ------------------------------------------------------------------------------
    def control(self, command: str, args: dict[str, object]) -> dict[str, object]:
        handlers = {
            "put": self._put,
            "take": self._take,
            "close": self._close,
            "hands": self._hands,
            "phones": self._phones,
            "snapshot": self._snapshot,
        }
        handler = handlers.get(command)
        if handler is None:
            return super().control(command, args)
        with self._lock:
            return handler(args)

    def add_item(self, label: str, place: str) -> None:
        with self._lock:
            self.places.setdefault(label, place)
            self._sync_sensors()

    def learn_phone(self, tracking: str, code: str, qr: str) -> None:
        with self._lock:
            self.phones[tracking] = {"code": code, "qr": qr}

    def _door(self, number: int) -> int:
        if number not in self.compartments:
            raise ValueError(f"no compartment {number} is wired on this bus")
        return self.compartments[number][1] - 1

    def _put(self, args: dict[str, object]) -> dict[str, object]:
        label, number = str(args["label"]), int(str(args["compartment"]))
        index = self._door(number)
        if not self.boards[BOARD].door_open[index]:
            raise ValueError(f"compartment {number} is shut; nothing can be put in")
        if self.places.get(label) != str(args["from"]):
            raise ValueError(f"{label} is not in the {args['from']}'s hands")
        self.places[label] = compartment_place(number)
        self._sync_sensors()
        return {"label": label}

    def _take(self, args: dict[str, object]) -> dict[str, object]:
        number, to = int(str(args["compartment"])), str(args["to"])
        index = self._door(number)
        if not self.boards[BOARD].door_open[index]:
            raise ValueError(f"compartment {number} is shut; nothing can be taken")
        taken = sorted(k for k, v in self.places.items() if v == compartment_place(number))
        for label in taken:
            self.places[label] = _owner_of(label) if to == "owner" else to
        self._sync_sensors()
        return {"taken": taken}

    def _close(self, args: dict[str, object]) -> dict[str, object]:
        self.boards[BOARD].door_open[self._door(int(str(args["compartment"])))] = False
        return {}

    def _hands(self, args: dict[str, object]) -> dict[str, object]:
        place = str(args["place"])
        return {"items": sorted(k for k, v in self.places.items() if v == place)}

    def _phones(self, _args: dict[str, object]) -> dict[str, object]:
        waiting = {
            tracking: phone
            for tracking, phone in self.phones.items()
            if self.places.get(f"result:{tracking}", "").startswith("compartment:")
        }
        return {"phones": waiting}

    def _snapshot(self, _args: dict[str, object]) -> dict[str, object]:
        return {"places": dict(self.places), "unlocks": dict(self.unlock_frames)}

    def _sync_sensors(self) -> None:
        board = self.boards[BOARD]
        occupied = {v for v in self.places.values()}
        for number, (_, lock) in self.compartments.items():
            board.item[lock - 1] = compartment_place(number) in occupied

    # -- for the checker -------------------------------------------------------------------------
    def contents(self) -> dict[int, list[str]]:
        with self._lock:
            inside: dict[int, list[str]] = {number: [] for number in self.compartments}
            for label, place in self.places.items():
                if place.startswith("compartment:"):
                    inside[int(place.split(":")[1])].append(label)
            return inside

    def count_at(self, place: str) -> int:
        with self._lock:
            return sum(1 for where in self.places.values() if where == place)

    def where(self, label: str) -> str | None:
        with self._lock:
            return self.places.get(label)

    def unlocks(self) -> Counter[int]:
        with self._lock:
            return Counter(self.unlock_frames)


def _owner_of(label: str) -> str:
    """Where a technician gives back what they found: papers to the citizen, envelopes to the
    courier's bag (both are handed in again later)."""
    return "citizen" if label.startswith("materials:") else "bag"


@dataclass
class RunningWorld:
    firmware: LoopWorldFirmware
    board: SerialStubServer
    control: StubControlServer

    @property
    def url(self) -> str:
        return self.board.url

    def stop(self) -> None:
        self.control.stop()
        self.board.stop()


def start_world() -> RunningWorld:
    """The board on a free loopback port and its control port (also free): parallel-safe."""
    firmware = LoopWorldFirmware()
    board = SerialStubServer(firmware, name=STUB_NAME).start()
    control = StubControlServer({STUB_NAME: board.control}).start()
    return RunningWorld(firmware, board, control)
