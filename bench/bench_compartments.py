"""Figures for the compartment service: what door truth costs, and what a typed pickup code costs.

Run: .venv/bin/python bench/bench_compartments.py   (prints figures; asserts nothing)

* "open for deposit" is intent commit + unlock (a fake column, so zero board time) + outcome
  commit: the terminal's own overhead before and after the board's answer.
* "hand-in" is the whole reserve → open → confirm cycle, then the courier's open → confirm.
* "typed code" checks one code against every stored result with the production scrypt cost —
  the reason the pickup flow should prefer the QR, which names the parcel.
The database goes to a temporary folder on the same disk as $TMPDIR; fsync cost depends on it.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from kiosk.compartments import (
    CompartmentService,
    MaterialsForCentre,
    ParcelStatus,
    PickupCodeHasher,
    ReservationPurpose,
    ResultForCitizen,
)
from kiosk.compartments.testing import FakeLockerColumn, FakeWallClock, column_specs
from kiosk.storage import Actor, ActorKind, AuditLog, Database

CYCLES = 100
CITIZEN = Actor(ActorKind.CITIZEN, "bench")
COURIER = Actor(ActorKind.COURIER, "bench")


def figures(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    print(
        f"{name:<34} p50 {statistics.median(ordered) * 1000:8.2f} ms   "
        f"p99 {p99 * 1000:8.2f} ms   (n={len(ordered)})"
    )


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def build(folder: Path, hasher: PickupCodeHasher) -> tuple[CompartmentService, FakeLockerColumn]:
    clock = FakeWallClock()
    database = Database.open(folder / "terminal.sqlite3")
    column = FakeLockerColumn("A", column_specs("A", "SSSSMMMMMMMMLLLL"))
    service = CompartmentService(
        database, AuditLog(database, clock=clock), [column], clock=clock, code_hasher=hasher
    )
    column.start(service.locker_event_sink())
    service.start_up()
    return service, column


def hand_in_cycles(service: CompartmentService, column: FakeLockerColumn) -> None:
    opens, cycles = [], []
    for _ in range(CYCLES):
        started = time.perf_counter()
        reservation = service.reserve("S", holder=CITIZEN)
        assert reservation is not None
        number = reservation.compartment
        before_open = time.perf_counter()
        service.open_for_deposit(reservation.id, actor=CITIZEN)
        opens.append(time.perf_counter() - before_open)
        column.put_item(number)
        column.close_by_hand(number)
        result = service.confirm_deposit(reservation.id, MaterialsForCentre("s"), actor=CITIZEN)
        assert result.parcel is not None
        service.open_for_removal(result.parcel.id, actor=COURIER, reason="collect")
        column.take_item(number)
        column.close_by_hand(number)
        service.confirm_removed(result.parcel.id, ending=ParcelStatus.COLLECTED, actor=COURIER)
        cycles.append(time.perf_counter() - started)
    figures("open for deposit (2 commits)", opens)
    figures("hand-in + collection cycle", cycles)


def typed_code(service: CompartmentService, column: FakeLockerColumn, stored: int) -> None:
    now = FakeWallClock().now
    for index in range(stored):
        reservation = service.reserve("S", holder=COURIER, purpose=ReservationPurpose.LOAD_RESULT)
        assert reservation is not None
        service.open_for_deposit(reservation.id, actor=COURIER)
        column.put_item(reservation.compartment)
        column.close_by_hand(reservation.compartment)
        contents = ResultForCitizen(f"s{index}", f"{index:08d}", now + timedelta(days=7))
        service.confirm_deposit(reservation.id, contents, actor=COURIER)
    samples = [timed(lambda: service.results_for_code("99999999")) for _ in range(5)]
    total = len(service.stored_parcels())
    figures(f"typed code vs {total} stored results", samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        service, column = build(Path(folder), PickupCodeHasher())
        hand_in_cycles(service, column)
        scrypt = [timed(lambda: PickupCodeHasher().hash("12345678")) for _ in range(10)]
        figures("one scrypt (N=2^12, r=8, p=1)", scrypt)
        typed_code(service, column, 8)
        typed_code(service, column, 8)  # 16 stored: every compartment holds a result


if __name__ == "__main__":
    main()
