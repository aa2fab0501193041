"""The hall's side of pickup: codes from the terminal, one reminder before the deadline (fake
clock, no server, no SMS thread), and replays of requests made before the 1.2 fields existed."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from service_hall.errors import Conflict, InvalidInput, NotFound
from service_hall.lifecycle import Step
from service_hall.schemas import EventIn, SubmissionIn
from service_hall.secrets_hashing import id_number_hash
from service_hall.seed import CITIZEN_ZHANG, COURIER_WANG_ID, seed
from service_hall.service import HallConfig, HallService, _request_hash
from service_hall.testing import SettableClock, birth_submission

T0 = datetime(2025, 6, 2, 8, 0)  # naive UTC, as the hall stores times
KIOSK = "demo-0001"


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(T0)


@pytest.fixture
def service(tmp_path: Path, clock: SettableClock) -> Iterator[HallService]:
    hall = HallService(
        HallConfig(db_url=f"sqlite:///{tmp_path / 'hall.db'}", sms_dispatch="inline"),
        clock=clock,
    )
    seed(hall, staff_password="staff-pass-123", courier_pin="2468", agent_pin="1357")
    yield hall
    hall.close()


def result_ready(service: HallService) -> str:
    submission, _ = service.create_submission(
        KIOSK, uuid.uuid4().hex, SubmissionIn.model_validate(birth_submission())
    )
    sid: str = submission["id"]
    for step in (Step.REVIEW_STARTED, Step.APPROVED, Step.RESULT_PRODUCED):
        service.staff_step(sid, step, "staff:test")
    return sid


def send(service: HallService, kind: str, sid: str | None, **fields: Any) -> dict[str, Any]:
    event = EventIn.model_validate(
        {
            "event_id": uuid.uuid4().hex,
            "type": kind,
            "occurred_at": fields.pop("occurred_at", T0.replace(tzinfo=UTC)),
            "submission_id": sid,
            **fields,
        }
    )
    [result] = service.apply_events(KIOSK, [event])
    return result


def load(service: HallService, sid: str, deadline: datetime, at: datetime = T0) -> None:
    result = send(
        service,
        "result_loaded",
        sid,
        occurred_at=at.replace(tzinfo=UTC),
        compartment="B02",
        pickup_code="12345678",
        pickup_deadline=deadline.replace(tzinfo=UTC),
    )
    assert result["outcome"] == "applied", result


def reminders(service: HallService, sid: str) -> list[dict[str, Any]]:
    return [
        m
        for m in service.sms_outbox(1000)
        if m["submission_id"] == sid and m["kind"] == "pickup_reminder"
    ]


def test_one_reminder_is_queued_within_24_hours_of_the_deadline(
    service: HallService, clock: SettableClock
) -> None:
    sid = result_ready(service)
    deadline = T0 + timedelta(days=7)
    load(service, sid, deadline)

    clock.now = deadline - timedelta(hours=24, seconds=1)
    assert service.queue_pickup_reminders() == 0
    assert reminders(service, sid) == []

    clock.now = deadline - timedelta(hours=24)
    assert service.queue_pickup_reminders() == 1
    clock.now = deadline - timedelta(hours=2)
    assert service.queue_pickup_reminders() == 0  # once per result, however often it runs
    [reminder] = reminders(service, sid)
    assert "2025-06-09 16:00" in reminder["body"]  # the deadline in China time (UTC+8)
    assert reminder["body"].startswith("【政务服务】提醒")
    assert reminder["phone"] == "13800138000"
    assert service.staff_detail(sid)["task"]["reminder_queued_at"] == "2025-06-08T08:00:00Z"

    clock.now = deadline + timedelta(minutes=1)
    assert service.queue_pickup_reminders() == 0
    returns = service.tasks(KIOSK)["returns_due"]
    assert sid in {task["submission_id"] for task in returns}


def test_a_result_loaded_inside_the_window_gets_no_separate_reminder(
    service: HallService, clock: SettableClock
) -> None:
    sid = result_ready(service)
    load(service, sid, T0 + timedelta(hours=20))  # the code SMS already says "by tomorrow"
    clock.now = T0 + timedelta(hours=1)
    assert service.queue_pickup_reminders() == 0
    assert reminders(service, sid) == []


def test_a_hall_that_was_down_sends_no_reminder_after_the_deadline(
    service: HallService, clock: SettableClock
) -> None:
    sid = result_ready(service)
    load(service, sid, T0 + timedelta(days=7))
    clock.now = T0 + timedelta(days=7, hours=1)
    assert service.queue_pickup_reminders() == 0


def test_collected_and_returned_results_get_no_reminder(
    service: HallService, clock: SettableClock
) -> None:
    taken, returned = result_ready(service), result_ready(service)
    for sid in (taken, returned):
        load(service, sid, T0 + timedelta(days=7))
    assert send(service, "picked_up", taken, method="code")["outcome"] == "applied"
    assert send(service, "returned", returned)["outcome"] == "applied"
    clock.now = T0 + timedelta(days=6, hours=12)
    assert service.queue_pickup_reminders() == 0


def test_racing_reminder_rounds_queue_each_reminder_once(
    service: HallService, clock: SettableClock
) -> None:
    sids = [result_ready(service) for _ in range(4)]
    for sid in sids:
        load(service, sid, T0 + timedelta(days=7))
    clock.now = T0 + timedelta(days=6, hours=12)
    start = threading.Barrier(4)
    counts: list[int] = []

    def round_() -> None:
        start.wait()
        counts.append(service.queue_pickup_reminders())

    threads = [threading.Thread(target=round_) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(counts) == 4
    assert all(len(reminders(service, sid)) == 1 for sid in sids)


# ---- codes from the terminal --------------------------------------------------------------


def test_the_hall_keeps_no_plain_pickup_code(service: HallService) -> None:
    sid = result_ready(service)
    load(service, sid, T0 + timedelta(days=7))
    assert service.pickup_code_matches(sid, "12345678")
    assert not service.pickup_code_matches(sid, "12345679")
    from sqlalchemy import select

    from service_hall.models import DeliveryTask, KioskEvent

    with service.session() as session:
        stored = session.scalar(select(KioskEvent).where(KioskEvent.type == "result_loaded"))
        task = session.scalar(select(DeliveryTask).where(DeliveryTask.submission_id == sid))
        assert stored is not None
        assert task is not None
        assert "12345678" not in json.dumps(stored.payload)
        assert "12345678" not in task.pickup_code_hash


def test_a_pending_task_has_no_code_until_the_terminal_loads_it(service: HallService) -> None:
    sid = result_ready(service)
    assert not service.pickup_code_matches(sid, "00000000")
    assert not service.pickup_code_matches("no-such-submission", "00000000")


# ---- roster: ID-card sign-in --------------------------------------------------------------


def test_a_courier_id_number_must_be_valid_and_belongs_to_one_card(
    service: HallService,
) -> None:
    with pytest.raises(InvalidInput, match="id_number is not a valid"):
        service.add_courier("C-0100", "赵师傅", "2468", "courier", id_number="430821197908080030")
    with pytest.raises(Conflict, match="already signs in courier card 'C-0001'"):
        service.add_courier("C-0101", "钱师傅", "2468", "courier", id_number=COURIER_WANG_ID)
    with pytest.raises(Conflict, match="already signs in courier card 'C-0001'"):
        service.set_courier_id_number("C-0002", f" {COURIER_WANG_ID.lower()} ")
    with pytest.raises(NotFound, match="add-courier"):
        service.set_courier_id_number("C-9999", CITIZEN_ZHANG)
    service.add_courier("C-0100", "赵师傅", "2468", "courier", id_number=CITIZEN_ZHANG.lower())
    couriers = {c["card_id"]: c for c in service.roster(KIOSK)["roster"]["couriers"]}
    assert couriers["C-0100"]["id_number_sha256"] == id_number_hash(CITIZEN_ZHANG)
    assert couriers["C-0001"]["id_number_sha256"] == id_number_hash(COURIER_WANG_ID)
    assert couriers["C-0002"]["id_number_sha256"] is None
    assert couriers["C-0002"]["role"] == "village_agent"


def test_setting_the_same_id_number_again_does_not_move_the_roster(
    service: HallService,
) -> None:
    before = service.roster(KIOSK)["roster"]["version"]
    service.set_courier_id_number("C-0001", COURIER_WANG_ID)
    assert service.roster(KIOSK)["roster"]["version"] == before
    again = seed(service)  # re-seeding an existing hall keeps everyone's secrets
    assert again.courier_pin is None
    assert again.agent_pin is None
    assert service.roster(KIOSK)["roster"]["version"] == before


# ---- replays from before 1.2 ----------------------------------------------------------------


def test_a_submission_without_an_agent_hashes_as_it_did_before_agents_existed() -> None:
    body = SubmissionIn.model_validate(birth_submission())
    before_agents = body.model_dump(mode="json")
    del before_agents["agent_card_id"], before_agents["agent_name"]
    expected = hashlib.sha256(json.dumps(before_agents, sort_keys=True).encode()).hexdigest()
    assert _request_hash(body) == expected
    with_agent = SubmissionIn.model_validate(
        {**birth_submission(), "agent_card_id": "C-0002", "agent_name": "李主任"}
    )
    assert _request_hash(with_agent) != expected


def test_an_event_recorded_before_1_2_replays_as_a_duplicate(service: HallService) -> None:
    old_style = {
        "event_id": "ev-before-upgrade",
        "type": "door_alarm",
        "occurred_at": "2025-06-02T08:00:00Z",
        "submission_id": None,
        "compartment": "C07",
        "courier_card_id": None,
        "detail": "door forced open",
    }
    from service_hall.models import KioskEvent

    with service.session() as session:  # what a 1.1 hall recorded
        session.add(
            KioskEvent(
                kiosk_id=KIOSK,
                event_id="ev-before-upgrade",
                type="door_alarm",
                body_hash=hashlib.sha256(
                    json.dumps(old_style, sort_keys=True).encode()
                ).hexdigest(),
                occurred_at=T0,
                received_at=T0,
                submission_id=None,
                payload=old_style,
                outcome="applied",
                message="Door alarm recorded.",
            )
        )
    [result] = service.apply_events(KIOSK, [EventIn.model_validate(old_style)])
    assert result["duplicate"]
    assert result["outcome"] == "applied"
