"""Presence polling turned into events, driven step by step (no thread, no clock)."""

from __future__ import annotations

from devices.errors import NoReply
from devices.idcard.errors import CardDataInvalid, NoCardPresent
from devices.idcard.watcher import CardWatcher
from kiosk.ports.identity import CardPlaced, CardReadFailed, CardRemoved, Identity

CITIZEN = Identity(name="张小明", id_number="430821198506121232", source="id_card")


class World:
    """A hand-written fake reader: records calls, answers from a script."""

    def __init__(self) -> None:
        self.present = False
        self.probe_error: Exception | None = None
        self.read_errors: list[Exception] = []
        self.reads = 0
        self.events: list[object] = []

    def probe(self, _believed_present: bool) -> bool:
        if self.probe_error is not None:
            raise self.probe_error
        return self.present

    def read(self) -> Identity:
        self.reads += 1
        if self.read_errors:
            raise self.read_errors.pop(0)
        return CITIZEN

    def watcher(self) -> CardWatcher:
        return CardWatcher("id_card", self.probe, self.read, self.events.append)


def test_a_card_is_read_once_per_placement_and_removal_needs_two_empty_polls() -> None:
    world = World()
    watcher = world.watcher()
    watcher.poll_once()
    assert world.events == []
    world.present = True
    watcher.poll_once()
    watcher.poll_once()
    assert world.events == [CardPlaced(CITIZEN)]
    assert world.reads == 1
    assert watcher.current() == CITIZEN
    world.present = False
    watcher.poll_once()
    assert watcher.current() == CITIZEN  # one empty poll may be a lost reply
    world.present = True
    watcher.poll_once()
    world.present = False
    watcher.poll_once()
    watcher.poll_once()
    assert world.events == [CardPlaced(CITIZEN), CardRemoved("id_card")]
    assert watcher.current() is None


def test_a_read_is_retried_before_it_is_reported_as_failed() -> None:
    world = World()
    world.read_errors = [NoReply("no answer"), CardDataInvalid("bad check digit")]
    watcher = world.watcher()
    world.present = True
    watcher.poll_once()
    assert world.events == [CardPlaced(CITIZEN)]
    assert world.reads == 3

    world2 = World()
    world2.read_errors = [CardDataInvalid(f"garbled {n}") for n in range(3)]
    watcher2 = world2.watcher()
    world2.present = True
    watcher2.poll_once()
    watcher2.poll_once()
    assert world2.events == [CardReadFailed("id_card", "garbled 2")]
    world2.present = False
    watcher2.poll_once()
    watcher2.poll_once()
    assert world2.events[-1] == CardRemoved("id_card")


def test_a_card_lifted_during_the_read_leaves_no_trace_and_errors_keep_presence() -> None:
    world = World()
    world.read_errors = [NoCardPresent("gone")]
    watcher = world.watcher()
    world.present = True
    watcher.poll_once()
    assert world.events == []
    watcher.poll_once()  # laid down again: read again
    assert world.events == [CardPlaced(CITIZEN)]
    world.probe_error = NoReply("silent line")
    watcher.poll_once()
    watcher.poll_once()
    assert world.events == [CardPlaced(CITIZEN)]
    assert watcher.current() == CITIZEN
