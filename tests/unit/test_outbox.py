"""The core's outbox API against a real SQLite file, with a fake clock (no threads, no network)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.outbox import (
    Acknowledgement,
    MessageKind,
    Outbox,
    OutboxError,
    Park,
    Retry,
    UnknownMessage,
    backoff_delay,
)
from kiosk.storage import Database


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "terminal.sqlite3") as db:
        yield db


@pytest.fixture
def outbox(database: Database, clock: FakeClock) -> Outbox:
    return Outbox(database, clock)


BODY = {"item_ids": ["hh-birth-registration"], "applicant": {"name": "张秀英"}}


def test_a_message_commits_with_the_state_change_or_not_at_all(
    database: Database, outbox: Outbox
) -> None:
    with database.transaction() as tx:
        tx.execute("CREATE TABLE test_state_changes (id TEXT PRIMARY KEY)")

    def change_then_fail() -> None:
        with database.transaction() as tx:
            tx.execute("INSERT INTO test_state_changes VALUES ('p1')")
            outbox.enqueue_submission("local-1", BODY)
            raise RuntimeError("the door jammed before the commit")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert outbox.stats().size == 0
    with database.transaction() as tx:
        tx.execute("INSERT INTO test_state_changes VALUES ('p1')")
        key = outbox.enqueue_submission("local-1", BODY)
    message = outbox.get(key)
    assert message is not None
    assert message.kind == MessageKind.SUBMISSION
    assert dict(message.payload) == BODY
    assert message.reference == "local-1"


def test_only_the_oldest_message_of_an_ordering_key_is_due(outbox: Outbox) -> None:
    first = outbox.enqueue_submission("s1", BODY)
    upload = outbox.enqueue_ecopy(
        "s1", "/tmp/p.jpg", material_code="m", content_type="image/jpeg", sha256="AB" * 32
    )
    other = outbox.enqueue_submission("s2", BODY)
    assert [m.key for m in outbox.due()] == [first, other]
    outbox.acknowledge(first, hall_id="hall-1", hall_label="T-1")
    assert [m.key for m in outbox.due()] == [upload, other]
    assert outbox.hall_id_for("s1") == "hall-1"
    assert outbox.get(upload) is not None
    assert outbox.get(upload).payload["sha256"] == "ab" * 32  # type: ignore[union-attr]
    assert outbox.referenced_files() == {"/tmp/p.jpg"}


def test_a_retried_message_waits_for_its_time_and_counts_the_attempt(
    outbox: Outbox, clock: FakeClock
) -> None:
    key = outbox.enqueue_submission("s1", BODY)
    outbox.retry_later(key, "hall unreachable", delay_s=30)
    assert outbox.due() == []
    assert outbox.next_attempt_at() == clock.now + timedelta(seconds=30)
    clock.advance(30)
    [message] = outbox.due()
    assert (message.attempts, message.last_error) == (1, "hall unreachable")
    outbox.settle([Retry(key, "token refused", 0, count_attempt=False)])
    assert outbox.get(key).attempts == 1  # type: ignore[union-attr]


def test_a_parked_message_is_kept_visible_and_holds_back_only_its_own_key(
    outbox: Outbox, clock: FakeClock
) -> None:
    bad = outbox.enqueue_submission("s1", BODY)
    blocked = outbox.enqueue_event({"type": "deposited"}, submission_reference="s1")
    fine = outbox.enqueue_submission("s2", BODY)
    clock.advance(60)
    outbox.park(bad, "HTTP 422: item unknown")
    assert [m.key for m in outbox.due()] == [fine]
    stats = outbox.stats()
    assert (stats.size, stats.parked, stats.oldest_age_s) == (3, 1, 60.0)
    [parked] = outbox.messages(parked_only=True)
    assert (parked.key, parked.parked_reason, parked.parked_at) == (
        bad,
        "HTTP 422: item unknown",
        clock.now,
    )
    outbox.release(bad)
    assert [m.key for m in outbox.due()] == [bad, fine]
    assert outbox.get(blocked) is not None
    with pytest.raises(UnknownMessage):
        outbox.release(bad)


def test_settle_records_a_round_in_one_commit_and_reports_unknown_keys(outbox: Outbox) -> None:
    a = outbox.enqueue_submission("a", BODY)
    b = outbox.enqueue_submission("b", BODY)
    c = outbox.enqueue_submission("c", BODY)
    settled = outbox.settle(
        [
            Acknowledgement(a, "hall-a", "T-a"),
            Park(b, "rejected"),
            Retry(c, "timeout", 5),
            Acknowledgement("gone"),
        ]
    )
    assert [m.key for m in settled.acknowledged] == [a]
    assert [m.key for m in settled.parked] == [b]
    assert [m.key for m in settled.retried] == [c]
    assert settled.missing == ("gone",)
    reference = outbox.reference("a")
    assert reference is not None
    assert (reference.hall_id, reference.hall_label) == ("hall-a", "T-a")
    assert not outbox.is_pending("a")
    assert outbox.is_pending("b")
    with pytest.raises(UnknownMessage):
        outbox.acknowledge(a, "hall-a")


def test_a_submission_must_be_acknowledged_with_the_halls_id(outbox: Outbox) -> None:
    key = outbox.enqueue_submission("s1", BODY)
    with pytest.raises(OutboxError, match="without saying what it created"):
        outbox.acknowledge(key)
    assert outbox.get(key) is not None


def test_a_reference_cannot_be_used_twice(outbox: Outbox) -> None:
    key = outbox.enqueue_submission("s1", BODY)
    with pytest.raises(OutboxError, match="already used"):
        outbox.enqueue_submission("s1", BODY)
    outbox.acknowledge(key, "hall-1")
    with pytest.raises(OutboxError, match="already used"):
        outbox.enqueue_submission("s1", BODY)


def test_an_event_key_is_its_event_id_and_it_follows_its_submission(outbox: Outbox) -> None:
    key = outbox.enqueue_event({"event_id": "ev-1", "type": "deposited"}, submission_reference="s9")
    message = outbox.get(key)
    assert key == "ev-1"
    assert message is not None
    assert message.ordering_key == "s9"
    assert message.payload["submission_ref"] == "s9"
    alarm = outbox.get(outbox.enqueue_event({"type": "door_alarm"}))
    assert alarm is not None
    assert alarm.ordering_key == "events"
    assert alarm.payload["event_id"] == alarm.key


def test_a_receipt_sms_waits_under_its_own_key_so_it_never_holds_up_its_submission(
    outbox: Outbox,
) -> None:
    outbox.enqueue_submission("s7", {"item_ids": ["x"]})
    key = outbox.enqueue_receipt_sms("s7", "回执 L0001")
    message = outbox.get(key)
    assert message is not None
    assert message.kind == MessageKind.RECEIPT_SMS == "receipt_sms"
    assert dict(message.payload) == {"submission_ref": "s7", "text": "回执 L0001"}
    assert message.ordering_key == "receipt_sms:s7"
    assert {m.kind for m in outbox.due()} == {"submission", "receipt_sms"}


def test_a_value_that_is_not_json_is_refused_before_anything_is_written(outbox: Outbox) -> None:
    with pytest.raises(OutboxError, match="not JSON"):
        outbox.enqueue_submission("s1", {"when": datetime.now(UTC)})
    assert outbox.stats().empty


def test_listeners_hear_about_every_enqueue(outbox: Outbox) -> None:
    heard: list[str] = []
    outbox.subscribe(lambda: heard.append("wake"))
    outbox.enqueue_submission("s1", BODY)
    assert heard == ["wake"]


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    delays = [backoff_delay(n, 0.0, base_s=1.0, cap_s=60.0) for n in range(10)]
    assert delays == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert backoff_delay(3, 1.0, base_s=1.0, cap_s=60.0) == 4.0
    assert backoff_delay(10_000, 0.5, base_s=1.0, cap_s=300.0) == 225.0
    with pytest.raises(ValueError, match="random_fraction"):
        backoff_delay(1, 1.5)


@given(
    attempts=st.integers(min_value=1, max_value=10_000),
    fraction=st.floats(min_value=0.0, max_value=1.0),
    base=st.floats(min_value=0.01, max_value=10.0),
    cap=st.floats(min_value=10.0, max_value=3600.0),
)
def test_backoff_stays_within_half_and_whole_of_the_capped_step(
    attempts: int, fraction: float, base: float, cap: float
) -> None:
    step = min(cap, base * 2.0 ** min(attempts - 1, 62))
    delay = backoff_delay(attempts, fraction, base_s=base, cap_s=cap)
    assert step / 2 <= delay <= step
    assert delay <= cap
