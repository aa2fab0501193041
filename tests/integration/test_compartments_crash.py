"""SIGKILL a terminal process in the middle of hand-ins and collections; door truth must hold.

The child (this file run as a script) loops: reserve, open, put the papers in, close, confirm,
then open for the courier, take them out, close, confirm — with an occasional jammed lock. Its
lock "board" is a fake column whose physical state lives outside the process, in an append-only
log (one line per pulse and per hand movement, written before the call returns), so the doors
and contents survive the kill as real doors would. After every kill the test rebuilds the board
from the log, runs start-up on the same database file and checks: every pulse has its committed
intent (at most one intent more than pulses: the kill between commit and pulse), no intent is
left without an outcome, never two parcels in one compartment, no free compartment holding one.
Then the child is started again on the same files and the loop goes on.

What this does not prove: power loss (SIGKILL leaves the OS page cache alone); see
kiosk/storage/database.py for why synchronous=FULL covers that.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from kiosk.compartments import (
    CompartmentService,
    CompartmentState,
    DepositStatus,
    MaterialsForCentre,
    ParcelStatus,
    PickupCodeHasher,
    subject_of,
)
from kiosk.compartments.testing import FakeLockerColumn, FakeWallClock, column_specs
from kiosk.ports.lockers import DoorState, UnlockOutcome
from kiosk.storage import DOOR_OPEN, AuditLog, Database
from kiosk.storage.audit import Actor, ActorKind

KILLS = 20
WAIT_S = 30.0
SIZES = "SSMMLL"
CITIZEN = Actor(ActorKind.CITIZEN, "crash-citizen")
COURIER = Actor(ActorKind.COURIER, "crash-courier")


class LoggedColumn(FakeLockerColumn):
    """A fake column whose physical state is replayed from, and appended to, a log file."""

    def __init__(self, log: Path) -> None:
        super().__init__("A", column_specs("A", SIZES))
        self._log_path = log
        for line in log.read_text().splitlines() if log.exists() else []:
            self._replay(line)
        self._fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _replay(self, line: str) -> None:
        verb, _, rest = line.partition(" ")
        number = int(rest)
        if verb == "pulse" and number not in self.jammed:
            self.doors[number] = DoorState.OPEN
        elif verb == "close":
            self.doors[number] = DoorState.CLOSED
        elif verb in ("put", "take"):
            self.items[number] = verb == "put"
        elif verb == "jam":
            self.jammed.add(number)
        elif verb == "unjam":
            self.jammed.discard(number)

    def _write(self, line: str) -> None:
        os.write(self._fd, f"{line}\n".encode())
        self._replay(line)

    def unlock(self, compartment: int) -> UnlockOutcome:
        was_open = self.doors[compartment] is DoorState.OPEN
        self._write(f"pulse {compartment}")  # the lock has moved: this is the physical fact
        self.calls.append(("unlock", compartment))
        if was_open:
            return UnlockOutcome.ALREADY_OPEN
        if compartment in self.jammed:
            return UnlockOutcome.JAMMED
        return UnlockOutcome.OPENED

    def act(self, verb: str, compartment: int) -> None:
        self._write(f"{verb} {compartment}")

    def pulses(self) -> Counter[int]:
        lines = self._log_path.read_text().splitlines() if self._log_path.exists() else []
        return Counter(int(line.split()[1]) for line in lines if line.startswith("pulse "))


def open_service(folder: Path) -> tuple[Database, AuditLog, LoggedColumn, CompartmentService]:
    database = Database.open(folder / "terminal.sqlite3")
    clock = FakeWallClock()
    audit = AuditLog(database, clock=clock)
    column = LoggedColumn(folder / "board.log")
    service = CompartmentService(
        database, audit, [column], clock=clock, code_hasher=PickupCodeHasher(n=2, r=1, p=1)
    )
    column.start(service.locker_event_sink())
    service.start_up()
    return database, audit, column, service


# -- the child ------------------------------------------------------------------------------------


def run_terminal(folder: Path, seed: int) -> None:
    rng = random.Random(seed)
    _, _, column, service = open_service(folder)

    def step(what: str) -> None:
        # progress after every action, so the parent's kill lands all over the cycle
        print(f"step {what}", flush=True)

    while True:
        if rng.random() < 0.05:
            column.act("jam", rng.randint(1, len(SIZES)))
        reservation = service.reserve(rng.choice("SML"), holder=CITIZEN)  # type: ignore[arg-type]
        step("reserved")
        if reservation is None:
            for parcel in service.stored_parcels():  # a courier empties everything
                take_out(service, column, parcel.id, parcel.compartment, step)
            repair(service, column)
            step("repaired")
            continue
        number = reservation.compartment
        opening = service.open_for_deposit(reservation.id, actor=CITIZEN)
        step(f"opened {opening.outcome.value}")
        if not opening.opened:
            continue
        column.act("put", number)
        column.act("close", number)
        step("closed")
        result = service.confirm_deposit(reservation.id, MaterialsForCentre("s"), actor=CITIZEN)
        step(result.status.value)
        if result.status is DepositStatus.DEPOSITED and result.parcel and rng.random() < 0.5:
            take_out(service, column, result.parcel.id, number, step)


def take_out(
    service: CompartmentService,
    column: LoggedColumn,
    parcel_id: str,
    number: int,
    step: Callable[[str], None],
) -> None:
    if not service.open_for_removal(parcel_id, actor=COURIER, reason="collect").opened:
        return
    step("opened for removal")
    column.act("take", number)
    column.act("close", number)
    step("emptied")
    service.confirm_removed(parcel_id, ending=ParcelStatus.COLLECTED, actor=COURIER)
    step("collected")


def repair(service: CompartmentService, column: LoggedColumn) -> None:
    """A technician frees the locks, empties and returns what is out of service."""
    for compartment in service.compartments():
        if compartment.state is CompartmentState.OUT_OF_SERVICE:
            number = compartment.number
            column.act("unjam", number)
            column.act("take", number)
            column.act("close", number)
            service.staff_emptied(number, actor=COURIER, note="crash test")
            service.return_to_service(number, actor=COURIER, note="crash test")


# -- the test -----------------------------------------------------------------------------------


def wait_for_steps(child: subprocess.Popen[str], steps: int) -> None:
    """Read the child's progress until `steps` lines arrived (or it died, or the deadline)."""
    seen = threading.Event()
    count = [0]

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("step"):
                count[0] += 1
                if count[0] >= steps:
                    seen.set()
        seen.set()

    threading.Thread(target=read, daemon=True).start()
    assert seen.wait(WAIT_S), "the terminal process made no progress"


def check_door_truth(folder: Path, kills_so_far: int) -> None:
    database, audit, column, service = open_service(folder)
    try:
        intents: Counter[int] = Counter()
        outcomes: Counter[int] = Counter()
        for number in range(1, len(SIZES) + 1):
            for record in audit.for_subject(subject_of(number), limit=100_000):
                if record.action == DOOR_OPEN:
                    (outcomes if record.intent_id is not None else intents)[number] += 1
        pulses = column.pulses()
        for number in range(1, len(SIZES) + 1):
            assert pulses[number] <= intents[number], f"a pulse of {number} has no intent"
        # a kill between the intent's commit and the pulse leaves an intent with no pulse
        assert sum(intents.values()) - sum(pulses.values()) <= kills_so_far
        assert outcomes == intents, "an intent was left without an outcome"
        assert audit.pending_intents() == []
        stored = service.stored_parcels()
        assert len({p.compartment for p in stored}) == len(stored)
        for compartment in service.compartments():
            if compartment.state in (CompartmentState.FREE, CompartmentState.RESERVED):
                assert compartment.number not in {p.compartment for p in stored}
    finally:
        database.close()


def test_door_truth_survives_sigkill_at_random_points(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("COMPARTMENTS_CRASH_SEED", "5")))
    kills = int(os.environ.get("COMPARTMENTS_KILLS", str(KILLS)))
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for kill in range(kills):
        child = subprocess.Popen(
            [sys.executable, __file__, str(tmp_path), str(rng.randrange(2**32))],
            stdout=subprocess.PIPE,
            text=True,
            env=environment,
        )
        try:
            wait_for_steps(child, rng.randint(1, 40))
        finally:
            child.kill()
            child.wait()
        assert child.returncode == -9, f"run {kill}: the terminal died by itself"
        check_door_truth(tmp_path, kill + 1)


if __name__ == "__main__":
    run_terminal(Path(sys.argv[1]), int(sys.argv[2]))
