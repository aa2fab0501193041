"""Issue 6 on the hall's side, against the real hall on loopback: the roster's ID-card hashes,
village-agent submissions, the new event fields, codes made by the terminal, the /p/{qr} page,
reminders sent by the running hall's own thread, and the staff client."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import zxingcpp

from service_hall.adapters import RecordingSmsSender
from service_hall.secrets_hashing import id_number_hash, verify_secret
from service_hall.seed import COURIER_WANG_ID, seed
from service_hall.server import HallServer
from service_hall.service import HallConfig, HallService
from service_hall.signing import verify
from service_hall.staff_client import (
    HallUnreachable,
    SmsRecord,
    StaffActionRefused,
    StaffClient,
    StaffLoginFailed,
)
from service_hall.testing import (
    AGENT_PIN,
    STAFF_PASSWORD,
    RunningHall,
    SettableClock,
    birth_submission,
    passport_submission,
    running_hall,
)

QR = "GZPK1.p-{n}.{code}.1767225600.AAAAAAAAAAAAAAAAAAAAAA"


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHall]:
    with running_hall(tmp_path_factory.mktemp("hall")) as running:
        yield running


@pytest.fixture
def kiosk(hall: RunningHall) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=hall.url, headers={"Authorization": f"Bearer {hall.token}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture
def staff(hall: RunningHall) -> Iterator[StaffClient]:
    with StaffClient(hall.url, "admin", STAFF_PASSWORD) as client:
        yield client


def wait_until(condition: Callable[[], bool], timeout_s: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


def submit(client: httpx.Client, body: dict[str, Any] | None = None) -> httpx.Response:
    return client.post(
        "/api/v1/submissions",
        json=body or birth_submission(),
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def send(client: httpx.Client, kind: str, sid: str | None, **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/events",
        json={
            "events": [
                {
                    "event_id": uuid.uuid4().hex,
                    "type": kind,
                    "occurred_at": extra.pop("occurred_at", _now_text()),
                    "submission_id": sid,
                    **extra,
                }
            ]
        },
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


def _now_text(delta: timedelta = timedelta(0)) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def result_ready(client: httpx.Client, staff: StaffClient) -> str:
    response = submit(client)
    assert response.status_code == 201, response.text
    sid: str = response.json()["id"]
    staff.approve(sid)
    staff.mark_result_produced(sid)
    return sid


def loaded_fields(code: str = "20250602", n: int | None = None) -> dict[str, Any]:
    return {
        "compartment": "B02",
        "pickup_code": code,
        "pickup_qr": QR.format(n=n if n is not None else uuid.uuid4().hex[:10], code=code),
        "pickup_deadline": _now_text(timedelta(days=7)),
    }


# ---- roster --------------------------------------------------------------------------------


def test_the_signed_roster_carries_id_hashes_and_the_village_agent(
    hall: RunningHall, kiosk: httpx.Client
) -> None:
    signed = kiosk.get("/api/v1/roster").json()
    key = httpx.get(f"{hall.url}/api/v1/public-key").json()
    assert verify(key["public_key_b64"], signed["roster"], signed["signature"])
    couriers = {c["card_id"]: c for c in signed["roster"]["couriers"]}
    assert couriers["C-0001"]["id_number_sha256"] == id_number_hash(COURIER_WANG_ID)
    agent = couriers["C-0002"]
    assert (agent["name"], agent["role"]) == ("李主任", "village_agent")
    assert agent["id_number_sha256"] is None
    assert verify_secret(AGENT_PIN, agent["pin_hash"])
    swapped = [
        {**c, "id_number_sha256": id_number_hash(COURIER_WANG_ID)} for c in couriers.values()
    ]
    forged = {**signed["roster"], "couriers": swapped}
    assert not verify(key["public_key_b64"], forged, signed["signature"])


# ---- village agents --------------------------------------------------------------------------


def test_a_village_agent_submits_on_the_citizens_behalf(
    hall: RunningHall, kiosk: httpx.Client, staff: StaffClient
) -> None:
    body = {**birth_submission(), "agent_card_id": "C-0002", "agent_name": "李主任"}
    key = uuid.uuid4().hex
    created = kiosk.post("/api/v1/submissions", json=body, headers={"Idempotency-Key": key})
    assert created.status_code == 201, created.text
    submission = created.json()
    assert (submission["agent_card_id"], submission["agent_name"]) == ("C-0002", "李主任")
    replay = kiosk.post("/api/v1/submissions", json=body, headers={"Idempotency-Key": key})
    assert replay.status_code == 200
    assert replay.json()["id"] == submission["id"]
    assert "village agent 李主任" in (submission["history"][0]["note"] or "")
    detail = staff.submission(submission["id"])
    assert detail["agent_name"] == "李主任"
    page = httpx.get(
        f"{hall.url}/staff/", cookies=staff._http.cookies, timeout=30
    ).text  # the queue lists the agent next to the applicant
    assert "代办 李主任" in page


@pytest.mark.parametrize(
    ("agent", "complaint"),
    [
        ({"agent_card_id": "C-0001", "agent_name": "王师傅"}, "not a village agent"),
        ({"agent_card_id": "C-9999", "agent_name": "某人"}, "not on this kiosk's roster"),
        ({"agent_card_id": "C-0002"}, "needs both agent_card_id and agent_name"),
        ({"agent_name": "李主任"}, "needs both agent_card_id and agent_name"),
    ],
)
def test_an_agent_not_on_the_roster_as_a_village_agent_is_refused(
    kiosk: httpx.Client, agent: dict[str, str], complaint: str
) -> None:
    response = submit(kiosk, {**birth_submission(), **agent})
    assert response.status_code == 422
    assert complaint in response.json()["error"]["message"]


def test_an_agent_of_another_kiosk_is_refused(hall: RunningHall, kiosk: httpx.Client) -> None:
    hall.service.add_courier("VA-OTHER", "村代办员 周", "2580", "village_agent", ["elsewhere"])
    body = {**birth_submission(), "agent_card_id": "VA-OTHER", "agent_name": "村代办员 周"}
    response = submit(kiosk, body)
    assert response.status_code == 422
    assert "not on this kiosk's roster" in response.json()["error"]["message"]


# ---- events: seal, method, not taken ------------------------------------------------------------


def test_the_seal_is_recorded_with_the_collection(kiosk: httpx.Client, staff: StaffClient) -> None:
    sid = submit(kiosk).json()["id"]
    assert send(kiosk, "deposited", sid, compartment="A03")["outcome"] == "applied"
    spaced = send(kiosk, "collected", sid, courier_card_id="C-0001", seal="GZ 0001")
    assert spaced["outcome"] == "rejected"
    assert "printable ASCII" in spaced["message"]
    too_long = kiosk.post(
        "/api/v1/events",
        json={
            "events": [
                {
                    "event_id": uuid.uuid4().hex,
                    "type": "collected",
                    "occurred_at": _now_text(),
                    "submission_id": sid,
                    "seal": "S" * 65,
                }
            ]
        },
    )
    assert too_long.status_code == 422
    assert "seal" in too_long.json()["error"]["message"]
    collected = send(
        kiosk, "collected", sid, courier_card_id="C-0001", compartment="A03", seal="GZSEAL-000123"
    )
    assert collected["outcome"] == "applied", collected
    detail = staff.submission(sid)
    assert detail["seal"] == "GZSEAL-000123"
    step = next(h for h in detail["history"] if h["step"] == "collected")
    assert step["note"] == "compartment A03, seal GZSEAL-000123"
    assert step["actor"] == "courier:C-0001@kiosk:demo-0001"


def test_fields_of_other_event_types_are_refused_not_dropped(kiosk: httpx.Client) -> None:
    sid = submit(kiosk).json()["id"]
    sealed = send(kiosk, "deposited", sid, compartment="A01", seal="S1")
    assert sealed["outcome"] == "rejected"
    assert "'seal' belongs to collected events" in sealed["message"]
    coded = send(kiosk, "door_alarm", None, compartment="A01", pickup_code="12345678")
    assert coded["outcome"] == "rejected"
    bad_method = kiosk.post(
        "/api/v1/events",
        json={
            "events": [
                {
                    "event_id": uuid.uuid4().hex,
                    "type": "picked_up",
                    "occurred_at": _now_text(),
                    "submission_id": sid,
                    "method": "face",
                }
            ]
        },
    )
    assert bad_method.status_code == 422


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"pickup_code": None}, "needs pickup_code"),
        ({"pickup_deadline": None}, "needs pickup_code"),
        ({"pickup_code": "123456", "pickup_qr": None}, "exactly 8 digits"),
        ({"pickup_qr": "GZPK1.p1.20250602.1767225600.short"}, "not a terminal-signed pickup QR"),
        (
            {"pickup_qr": QR.format(n="p1", code="99999999")},
            "another code than pickup_code",
        ),
        ({"pickup_deadline": "2020-01-01T00:00:00Z"}, "before the result was loaded"),
        ({"pickup_deadline": _now_text(timedelta(days=400))}, "more than 90 days"),
    ],
)
def test_a_result_loaded_event_with_a_bad_code_qr_or_deadline_is_rejected(
    kiosk: httpx.Client, staff: StaffClient, change: dict[str, Any], complaint: str
) -> None:
    sid = result_ready(kiosk, staff)
    fields = {**loaded_fields(), **change}
    result = send(kiosk, "result_loaded", sid, **{k: v for k, v in fields.items() if v is not None})
    assert result["outcome"] == "rejected"
    assert complaint in result["message"]
    assert staff.submission(sid)["task"]["status"] == "pending"  # nothing was half-applied


def test_the_code_sms_carries_the_terminals_code_and_qr_link_once(
    hall: RunningHall, kiosk: httpx.Client, staff: StaffClient
) -> None:
    sid = result_ready(kiosk, staff)
    delivery = next(
        d for d in kiosk.get("/api/v1/tasks").json()["deliveries"] if d["submission_id"] == sid
    )
    assert "pickup_code_sha256" not in delivery
    fields = loaded_fields("07350012")
    event = {
        "event_id": uuid.uuid4().hex,
        "type": "result_loaded",
        "occurred_at": _now_text(),
        "submission_id": sid,
        **fields,
    }
    for attempt in range(2):  # the terminal's outbox may send it twice
        answer = kiosk.post("/api/v1/events", json={"events": [event]}).json()["results"][0]
        assert answer["outcome"] == "applied", answer
        assert answer["duplicate"] is (attempt == 1)
    [sms] = staff.sms_messages(submission_id=sid, kind="pickup_code")
    assert sms.pickup_code == "07350012"
    assert sms.pickup_qr == fields["pickup_qr"]
    assert f"{hall.service.config.public_base_url}/p/{fields['pickup_qr']}" in sms.text
    assert sms.phone == "13800138000"
    assert staff.submission(sid)["task"]["status"] == "loaded"


def test_picked_up_records_the_method(kiosk: httpx.Client, staff: StaffClient) -> None:
    sid = result_ready(kiosk, staff)
    assert send(kiosk, "result_loaded", sid, **loaded_fields())["outcome"] == "applied"
    assert send(kiosk, "picked_up", sid, compartment="B02", method="id_card")["outcome"] == (
        "applied"
    )
    detail = staff.submission(sid)
    assert detail["status"] == "picked_up"
    assert detail["history"][-1]["note"] == "compartment B02, by id_card"


def test_a_result_not_taken_stays_loaded_and_staff_see_it(
    hall: RunningHall, kiosk: httpx.Client, staff: StaffClient
) -> None:
    sid = result_ready(kiosk, staff)
    early = send(kiosk, "pickup_not_taken", sid, compartment="B02")
    assert early["outcome"] == "rejected"
    assert send(kiosk, "result_loaded", sid, **loaded_fields())["outcome"] == "applied"
    assert send(kiosk, "pickup_not_taken", sid, compartment="B02", method="qr")["outcome"] == (
        "applied"
    )
    detail = staff.submission(sid)
    assert detail["status"] == "result_ready"
    assert detail["task"]["status"] == "loaded"
    assert detail["history"][-1]["step"] == "pickup_not_taken"
    assert "opened by qr" in detail["history"][-1]["note"]
    page = httpx.get(
        f"{hall.url}/staff/submissions/{sid}", cookies=staff._http.cookies, timeout=30
    ).text
    assert 'id="not-taken"' in page
    alerts = hall.service.stats("demo-0001")["alerts"]
    assert any("not taken" in a["detail"] for a in alerts)
    # still collectable afterwards
    assert send(kiosk, "picked_up", sid, compartment="B02", method="qr")["outcome"] == "applied"


# ---- the QR page the SMS links to -------------------------------------------------------------


def qr_text_in_svg(svg: str) -> str:
    """Draw the SVG's unit squares into a bitmap and decode it, as a phone's screen would show."""
    view = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    assert view is not None
    size = int(view.group(1))
    modules = np.full((size, size), 255, dtype=np.uint8)
    for x, y in re.findall(r"M(\d+),(\d+)H", svg):
        modules[int(y), int(x)] = 0
    image = np.kron(modules, np.ones((8, 8), dtype=np.uint8))
    [found] = zxingcpp.read_barcodes(image, formats=zxingcpp.barcode_formats_from_str("QRCode"))
    return str(found.text)


def test_the_qr_page_shows_the_terminals_qr_while_the_result_waits(
    hall: RunningHall, kiosk: httpx.Client, staff: StaffClient
) -> None:
    sid = result_ready(kiosk, staff)
    fields = loaded_fields("31415926")
    assert send(kiosk, "result_loaded", sid, **fields)["outcome"] == "applied"
    page = httpx.get(f"{hall.url}/p/{fields['pickup_qr']}", timeout=30)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    svg = re.search(r'<svg id="pickup-qr".*?</svg>', page.text, re.S)
    assert svg is not None
    assert qr_text_in_svg(svg.group(0)) == fields["pickup_qr"]
    assert "慈利县零阳街道" in page.text
    assert "张秀英" not in page.text  # the link is shareable: no name on it

    assert send(kiosk, "picked_up", sid, compartment="B02", method="qr")["outcome"] == "applied"
    after = httpx.get(f"{hall.url}/p/{fields['pickup_qr']}", timeout=30)
    assert after.status_code == 200
    assert "<svg" not in after.text
    assert 'data-status="picked_up"' in after.text


@pytest.mark.parametrize(
    "qr",
    [
        QR.format(n="never-texted", code="12345678"),  # well-formed, but no such parcel
        "not-a-qr",
        "GZPK1.x.1.2.3",
    ],
)
def test_the_qr_page_draws_no_qr_for_text_the_hall_did_not_send(hall: RunningHall, qr: str) -> None:
    page = httpx.get(f"{hall.url}/p/{qr}", timeout=30)
    assert page.status_code == 404
    assert "<svg" not in page.text


# ---- reminders, by the running hall's own notifications thread ------------------------------


def test_the_serving_hall_sends_the_reminder_by_itself(tmp_path: Path) -> None:
    clock = SettableClock(datetime(2025, 6, 2, 8, 0))
    sender = RecordingSmsSender()
    config = HallConfig(
        db_url=f"sqlite:///{tmp_path / 'hall.db'}", reminder_check_s=0.05, sms_retry_s=0.05
    )
    service = HallService(config, clock=clock, sms_sender=sender)
    report = seed(service, staff_password=STAFF_PASSWORD, courier_pin="2468")
    try:
        with HallServer(service) as server:
            headers = {"Authorization": f"Bearer {report.kiosk_token}"}
            with (
                httpx.Client(base_url=server.url, headers=headers, timeout=30) as kiosk,
                StaffClient(server.url, "admin", STAFF_PASSWORD) as staff,
            ):
                sid = result_ready(kiosk, staff)
                loaded = send(
                    kiosk,
                    "result_loaded",
                    sid,
                    occurred_at="2025-06-02T08:00:00Z",
                    compartment="B02",
                    pickup_code="55555555",
                    pickup_deadline="2025-06-09T08:00:00Z",
                )
                assert loaded["outcome"] == "applied", loaded
                wait_until(lambda: any("55555555" in body for _, body in sender.sent), what="code")
                clock.now = datetime(2025, 6, 8, 9, 0)
                wait_until(
                    lambda: any("提醒" in body for _, body in sender.sent), what="the reminder"
                )
                [reminder] = [
                    m
                    for m in service.sms_outbox()
                    if m["submission_id"] == sid and m["kind"] == "pickup_reminder"
                ]
                wait_until(lambda: service.sms_outbox(1)[0]["status"] == "sent", what="sent")
                assert "2025-06-09 16:00" in reminder["body"]
    finally:
        service.close()


# ---- the staff client ---------------------------------------------------------------------


def test_the_staff_client_logs_in_as_the_ui_does_and_reports_refusals(
    hall: RunningHall, kiosk: httpx.Client
) -> None:
    with pytest.raises(StaffLoginFailed, match="add-staff"):
        StaffClient(hall.url, "admin", "wrong-password")
    with StaffClient(hall.url, "admin", STAFF_PASSWORD) as staff:
        sid = submit(kiosk).json()["id"]
        with pytest.raises(StaffActionRefused, match="reason"):
            staff.reject(sid, "")
        assert staff.submission(sid)["status"] == "in_review"  # the review did start
        staff.reject(sid, "出生医学证明照片不清晰")
        assert staff.submission(sid)["decision_reason"] == "出生医学证明照片不清晰"
        with pytest.raises(StaffActionRefused, match="cannot be 'approved'"):
            staff.approve(sid)
        staff.mark_result_produced(sid)
        deliveries = kiosk.get("/api/v1/tasks").json()["deliveries"]
        assert {"submission_id": sid, "outcome": "rejected"}.items() <= next(
            d for d in deliveries if d["submission_id"] == sid
        ).items()
        with pytest.raises(StaffActionRefused, match="No submission"):
            staff.submission("no-such-id")


def test_the_staff_client_marks_paid_and_reads_the_sms_outbox_since_a_point(
    kiosk: httpx.Client, staff: StaffClient
) -> None:
    before = staff.sms_messages()
    last = max((m.id for m in before), default=0)
    sid = submit(kiosk, passport_submission()).json()["id"]
    staff.mark_paid(sid)
    assert staff.submission(sid)["payment"]["status"] == "paid"
    newer = staff.sms_messages(since_id=last)
    assert [m.kind for m in newer if m.submission_id == sid] == ["submitted"]
    assert all(isinstance(m, SmsRecord) and m.id > last for m in newer)


def test_the_staff_client_says_when_the_hall_is_not_there() -> None:
    with pytest.raises(HallUnreachable, match="kiosk hall serve"):
        StaffClient("http://127.0.0.1:9", "admin", STAFF_PASSWORD, timeout_s=2)


# ---- the hall CLI ---------------------------------------------------------------------------


def test_the_cli_gives_a_courier_id_card_sign_in_and_refuses_a_bad_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bootstrap.cli import main

    db = f"sqlite:///{tmp_path / 'hall.db'}"
    assert main(["hall", "seed", "--db", db, "--agent-pin", "1357"]) == 0
    seeded = capsys.readouterr().out
    assert f"courier C-0001 also signs in with ID card {COURIER_WANG_ID}" in seeded
    assert "village agent card C-0002 PIN: 1357" in seeded
    add = ["hall", "add-courier", "--db", db, "C-0100", "赵师傅", "--pin", "1234", "--id-number"]
    assert main([*add, "430821197908080030"]) == 64  # wrong check character
    assert "not a valid 18-digit resident ID number" in capsys.readouterr().err
    assert main([*add, "43082119800101006x"]) == 0  # a lower-case x is the same card
    service = HallService(HallConfig(db_url=db))
    try:
        couriers = {c["card_id"]: c for c in service.roster("demo-0001")["roster"]["couriers"]}
    finally:
        service.close()
    assert couriers["C-0100"]["id_number_sha256"] == id_number_hash("43082119800101006X")
