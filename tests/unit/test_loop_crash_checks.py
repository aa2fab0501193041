"""The loop crash test's invariants (tests/support/loop_checks.py) catch what they claim to.

A crash test whose checks never fire proves nothing; here each check is shown a world that
disagrees with the terminal in one way and must say so, and a world that agrees must pass.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from kiosk.compartments import CompartmentService, DepositStatus, MaterialsForCentre
from kiosk.compartments.testing import FakeLockerColumn, FakeWallClock
from kiosk.storage import Actor, ActorKind, AuditLog, Database
from tests.support.loop_checks import WorldSnapshot, door_truth, parcel_truth
from tests.support.loop_child import FAST_CODES
from tests.support.loop_world import loop_specs

CITIZEN = Actor(ActorKind.CITIZEN, "loop-unit")


@pytest.fixture
def terminal(tmp_path: Path) -> tuple[CompartmentService, AuditLog, FakeLockerColumn]:
    clock = FakeWallClock()
    database = Database.open(tmp_path / "terminal.sqlite3")
    audit = AuditLog(database, clock=clock)
    column = FakeLockerColumn("A", loop_specs())
    service = CompartmentService(database, audit, [column], clock=clock, code_hasher=FAST_CODES)
    column.start(service.locker_event_sink())
    service.start_up()
    held = service.reserve("S", holder=CITIZEN)
    assert held is not None
    assert held.compartment == 1
    assert service.open_for_deposit(held.id, actor=CITIZEN).opened
    column.put_item(1)
    column.close_by_hand(1)
    result = service.confirm_deposit(held.id, MaterialsForCentre("ref-1"), actor=CITIZEN)
    assert result.status is DepositStatus.DEPOSITED
    return service, audit, column


def world(places: dict[str, str], frames: dict[int, int] | None = None) -> WorldSnapshot:
    return WorldSnapshot(places, Counter(frames if frames is not None else {1: 1}))


def test_a_world_that_agrees_passes(terminal: tuple[CompartmentService, AuditLog, object]) -> None:
    service, audit, _ = terminal
    agreeing = world({"materials:ref-1": "compartment:1"})
    assert door_truth(audit, agreeing, kills=0) == []
    assert parcel_truth(service, agreeing) == []


def test_an_unlock_frame_without_an_intent_is_found(
    terminal: tuple[CompartmentService, AuditLog, object],
) -> None:
    _, audit, _ = terminal
    [finding] = door_truth(audit, world({}, {1: 2}), kills=0)
    assert "opened without a record" in finding


def test_an_intent_without_a_pulse_is_allowed_only_once_per_kill(
    terminal: tuple[CompartmentService, AuditLog, object],
) -> None:
    _, audit, _ = terminal
    assert door_truth(audit, world({}, {}), kills=1) == []
    assert "without a pulse" in door_truth(audit, world({}, {}), kills=0)[0]


def test_a_parcel_the_world_does_not_have_is_found(
    terminal: tuple[CompartmentService, AuditLog, object],
) -> None:
    service, _, _ = terminal
    [finding] = parcel_truth(service, world({"materials:ref-1": "centre"}))
    assert "invented" in finding


def test_a_thing_in_a_compartment_the_terminal_does_not_know_is_found(
    terminal: tuple[CompartmentService, AuditLog, object],
) -> None:
    service, _, _ = terminal
    places = {"materials:ref-1": "compartment:1", "result:440100": "compartment:2"}
    [finding] = parcel_truth(service, world(places))
    assert "lost" in finding


def test_a_flagged_compartment_is_left_to_staff(
    terminal: tuple[CompartmentService, AuditLog, object],
) -> None:
    service, _, _ = terminal
    service.alert_staff(1, "check it", actor=CITIZEN)
    assert parcel_truth(service, world({"materials:ref-1": "centre"})) == []
