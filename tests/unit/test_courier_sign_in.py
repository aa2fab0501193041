"""Courier sign-in: roster lookups, PIN check in the hall's format, the persisted lockout."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.compartments.testing import FakeWallClock
from kiosk.courier.sign_in import (
    CourierSignIn,
    PinWanted,
    SignedIn,
    SignInRefused,
    WrongPin,
    badge_card_id,
    pin_matches,
)
from kiosk.courier.testing import hall_pin_hash
from kiosk.ports.hall import Roster, RosterCourier
from kiosk.storage import AuditLog, Database

ID_HASH = hashlib.sha256(b"44010119800101001X").hexdigest()


class FixedRoster:
    def __init__(self, roster: Roster | None) -> None:
        self.roster = roster

    def current(self) -> Roster | None:
        return self.roster


def make_roster(clock: FakeWallClock, *, expires_in_h: float = 72) -> Roster:
    return Roster(
        kiosk_id="demo-0001",
        version=3,
        issued_at=clock.now,
        expires_at=clock.now + timedelta(hours=expires_in_h),
        key_id="k",
        couriers=(
            RosterCourier("C-0001", "王师傅", "courier", hall_pin_hash("2468"), ID_HASH),
            RosterCourier("C-0002", "李某", "village_agent", hall_pin_hash("1357")),
        ),
    )


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database.open(tmp_path / "kiosk.db")
    yield db
    db.close()


@pytest.fixture
def clock() -> FakeWallClock:
    return FakeWallClock()


def sign_in(database: Database, clock: FakeWallClock, roster: Roster | None) -> CourierSignIn:
    return CourierSignIn(database, AuditLog(database, clock), FixedRoster(roster), clock=clock)


def test_badge_text_names_the_card() -> None:
    assert badge_card_id("GZCR1.C-0001") == "C-0001"
    assert badge_card_id(" GZCR1.C-0001\r\n") == "C-0001"
    assert badge_card_id("GZCR1.") is None
    assert badge_card_id("GZPK1.abc.12345678.1.x") is None
    assert badge_card_id("GZCR1.has space") is None


def test_pin_check_follows_the_hall_format_and_refuses_damaged_hashes() -> None:
    encoded = hall_pin_hash("2468")
    assert pin_matches("2468", encoded)
    assert not pin_matches("2469", encoded)
    assert not pin_matches("2468", "bcrypt$whatever")
    assert not pin_matches("2468", "scrypt$16$8$1$!!$!!")
    assert not pin_matches("2468", "scrypt$15$8$1$AAAA$AAAA")  # N not a power of two
    assert not pin_matches("2468", "scrypt$1073741824$8$1$AAAA$AAAA")  # would exhaust memory


def test_the_real_hall_hash_verifies(database: Database) -> None:
    from service_hall.secrets_hashing import hash_secret

    assert pin_matches("8642", hash_secret("8642"))
    assert not pin_matches("8641", hash_secret("8642"))


def test_a_known_card_is_asked_for_its_pin_and_signs_in(
    database: Database, clock: FakeWallClock
) -> None:
    desk = sign_in(database, clock, make_roster(clock))
    looked = desk.look_up("C-0001", "badge")
    assert isinstance(looked, PinWanted)
    assert looked.courier.name == "王师傅"
    result = desk.check_pin("C-0001", "2468", "badge")
    assert isinstance(result, SignedIn)
    with database.snapshot() as view:
        row = view.fetch_one("SELECT card_id, via, ended_at_ms FROM courier_sessions")
    assert row is not None
    assert tuple(row) == ("C-0001", "badge", None)
    desk.end_session(result.session_id, "signed out")
    desk.end_session(result.session_id, "again")  # no second ending
    with database.snapshot() as view:
        assert view.fetch_value("SELECT end_reason FROM courier_sessions") == "signed out"
    actions = [e.action for e in AuditLog(database).recent()]
    assert actions.count("courier.sign_in") == 1
    assert actions.count("courier.sign_out") == 1


def test_id_card_hash_finds_the_courier(database: Database, clock: FakeWallClock) -> None:
    desk = sign_in(database, clock, make_roster(clock))
    assert desk.card_for_id_hash(ID_HASH.upper()) == "C-0001"
    assert desk.recognises_id_hash(ID_HASH)
    assert not desk.recognises_id_hash("0" * 64)
    assert sign_in(database, clock, None).card_for_id_hash(ID_HASH) is None


def test_unknown_card_and_missing_roster_are_refused(
    database: Database, clock: FakeWallClock
) -> None:
    assert sign_in(database, clock, make_roster(clock)).look_up("C-9999", "badge") == (
        SignInRefused("unknown_card", "C-9999")
    )
    assert sign_in(database, clock, None).look_up("C-0001", "badge") == SignInRefused(
        "no_roster", "C-0001"
    )


def test_an_expired_roster_works_through_the_grace_period_then_is_refused(
    database: Database, clock: FakeWallClock
) -> None:
    desk = sign_in(database, clock, make_roster(clock, expires_in_h=1))
    clock.advance(3600 + 71 * 3600)  # expired 71 h ago: still inside the 72 h grace
    assert isinstance(desk.look_up("C-0001", "badge"), PinWanted)
    clock.advance(3600)
    assert desk.look_up("C-0001", "badge") == SignInRefused("roster_expired", "C-0001")
    assert desk.check_pin("C-0001", "2468", "badge") == SignInRefused("roster_expired", "C-0001")


def test_three_wrong_pins_lock_the_card_across_a_restart(
    database: Database, clock: FakeWallClock, tmp_path: Path
) -> None:
    desk = sign_in(database, clock, make_roster(clock))
    assert desk.check_pin("C-0001", "0000", "badge") == WrongPin(2)
    assert desk.check_pin("C-0001", "0000", "badge") == WrongPin(1)
    locked = desk.check_pin("C-0001", "0000", "badge")
    assert isinstance(locked, SignInRefused)
    assert locked.reason == "card_locked"
    assert locked.locked_until == clock.now + timedelta(seconds=900)
    database.close()

    reopened = Database.open(tmp_path / "kiosk.db")
    try:
        again = sign_in(reopened, clock, make_roster(clock))
        refused = again.look_up("C-0001", "badge")
        assert isinstance(refused, SignInRefused)
        assert refused.reason == "card_locked"
        # even the right PIN does not open a locked card
        assert isinstance(again.check_pin("C-0001", "2468", "badge"), SignInRefused)
        # another card is not affected
        assert isinstance(again.look_up("C-0002", "badge"), PinWanted)
        clock.advance(900)
        assert isinstance(again.look_up("C-0001", "badge"), PinWanted)
        assert again.check_pin("C-0001", "0000", "badge") == WrongPin(2)  # a fresh count
        assert isinstance(again.check_pin("C-0001", "2468", "badge"), SignedIn)
        assert again.check_pin("C-0001", "0000", "badge") == WrongPin(2)  # reset by success
        audit = [(e.action, e.outcome.value) for e in AuditLog(reopened).recent(limit=100)]
        assert ("courier.card_locked", "succeeded") in audit
    finally:
        reopened.close()


def test_lock_time_is_utc_and_survives(database: Database) -> None:
    clock = FakeWallClock(datetime(2025, 6, 2, 23, 59, tzinfo=UTC))
    desk = sign_in(database, clock, make_roster(clock))
    for _ in range(3):
        desk.check_pin("C-0002", "9999", "id_card")
    until = desk.locked_until("C-0002")
    assert until == datetime(2025, 6, 3, 0, 14, tzinfo=UTC)
