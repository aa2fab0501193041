"""Follow-ups of the hall (issue 4): batch creates, "retry later" vs conflict, the receipt by SMS
sent off the request, and the phone on file. Real hall on loopback (uvicorn in a thread, port 0).
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend_client.client import HallClient
from backend_client.errors import HallRejected, HallUnavailable
from service_hall.seed import CITIZEN_LI, CITIZEN_ZHANG
from service_hall.server import bind
from service_hall.service import HallConfig, HallService
from service_hall.testing import RunningHall, birth_submission, running_hall

pytestmark = pytest.mark.timeout(120)


class GatedSms:
    """An SMS gateway that holds every message until the test opens the gate; records them."""

    name = "gated"

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, body: str) -> None:
        self.gate.wait(30)
        self.sent.append((phone, body))


def wait_until(condition: Callable[[], bool], timeout_s: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def sms() -> GatedSms:
    return GatedSms()


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory, sms: GatedSms) -> Iterator[RunningHall]:
    with running_hall(tmp_path_factory.mktemp("hall"), sms_sender=sms) as running:
        yield running


@pytest.fixture
def kiosk(hall: RunningHall) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=hall.url, headers={"Authorization": f"Bearer {hall.token}"}, timeout=30
    ) as client:
        yield client


def entry(key: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"idempotency_key": key, "submission": body or birth_submission()}


def post_batch(client: httpx.Client, *entries: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post("/api/v1/submissions/batch", json={"submissions": list(entries)})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def held(hall: RunningHall, key: str) -> int:
    with sqlite3.connect(hall.service.config.db_url.removeprefix("sqlite:///")) as db:
        return int(
            db.execute(
                "SELECT COUNT(*) FROM submissions WHERE idempotency_key = ?", (key,)
            ).fetchone()[0]
        )


# ---- batch creates ------------------------------------------------------------------------


def test_a_batch_answers_each_entry_as_the_single_create_would(
    hall: RunningHall, kiosk: httpx.Client
) -> None:
    earlier = uuid.uuid4().hex
    single = kiosk.post(
        "/api/v1/submissions", json=birth_submission(), headers={"Idempotency-Key": earlier}
    ).json()
    unknown_item = {**birth_submission(), "item_ids": ["no-such-item"], "forms": {}}
    other_body = {**birth_submission(), "applicant": {**birth_submission()["applicant"]}}
    other_body["applicant"]["name"] = "李四"
    fresh, twice, bad = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex

    results = post_batch(
        kiosk,
        entry(fresh),
        entry(earlier),  # replay of a single create
        entry(earlier, other_body),  # the same key with another body
        entry(bad, unknown_item),
        entry(twice),
        entry(twice),  # the same key twice in one batch
    )

    assert [(r["idempotency_key"], r["outcome"], r["status"]) for r in results] == [
        (fresh, "created", 201),
        (earlier, "replayed", 200),
        (earlier, "rejected", 409),
        (bad, "rejected", 422),
        (twice, "created", 201),
        (twice, "replayed", 200),
    ]
    assert results[1]["submission"]["id"] == single["id"]
    assert results[2]["error"]["code"] == "idempotency_key_reused"
    assert "no-such-item" in results[3]["error"]["message"]
    assert results[3]["submission"] is None
    assert results[4]["submission"]["id"] == results[5]["submission"]["id"]
    assert (held(hall, fresh), held(hall, earlier), held(hall, bad), held(hall, twice)) == (
        1,
        1,
        0,
        1,
    )
    created = results[0]["submission"]
    assert created == kiosk.get(f"/api/v1/submissions/{created['id']}").json()

    again = post_batch(kiosk, entry(fresh), entry(twice))
    assert [(r["outcome"], r["submission"]["id"]) for r in again] == [
        ("replayed", created["id"]),
        ("replayed", results[4]["submission"]["id"]),
    ]


def test_racing_batches_with_the_same_keys_make_one_record_each_and_never_a_conflict(
    hall: RunningHall, kiosk: httpx.Client
) -> None:
    keys = [uuid.uuid4().hex for _ in range(10)]
    batch = {"submissions": [entry(key) for key in keys]}

    def send(_: int) -> list[dict[str, Any]]:
        with httpx.Client(
            base_url=hall.url, headers={"Authorization": f"Bearer {hall.token}"}, timeout=60
        ) as client:
            response = client.post("/api/v1/submissions/batch", json=batch)
            assert response.status_code == 200, response.text
            results: list[dict[str, Any]] = response.json()["results"]
            return results

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(send, range(6)))

    outcomes = {r["outcome"] for answer in answers for r in answer}
    assert outcomes <= {"created", "replayed", "retry_later"}
    assert all(held(hall, key) == 1 for key in keys)
    ids = {r["submission"]["id"] for a in answers for r in a if r["submission"] is not None}
    assert len(ids) == len(keys)


def test_a_malformed_entry_refuses_the_whole_batch_with_a_plain_422(kiosk: httpx.Client) -> None:
    broken = entry(uuid.uuid4().hex, {**birth_submission(), "surprise": 1})
    response = kiosk.post(
        "/api/v1/submissions/batch", json={"submissions": [entry(uuid.uuid4().hex), broken]}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    too_many = {"submissions": [entry(uuid.uuid4().hex) for _ in range(101)]}
    assert kiosk.post("/api/v1/submissions/batch", json=too_many).status_code == 422


def test_the_client_sends_a_batch_and_checks_the_answer_has_one_result_each(
    hall: RunningHall,
) -> None:
    keys = [uuid.uuid4().hex for _ in range(3)]
    with HallClient(hall.url, hall.token, timeout_s=10) as client:
        results = client.create_submissions([(key, birth_submission()) for key in keys])
    assert [r["idempotency_key"] for r in results] == keys
    assert {r["outcome"] for r in results} == {"created"}


# ---- retry later is not a conflict --------------------------------------------------------


def test_a_busy_database_is_503_retry_later_and_a_real_conflict_stays_409(
    tmp_path: Path,
) -> None:
    with running_hall(tmp_path, db_busy_timeout_s=0.2) as busy_hall:
        key = uuid.uuid4().hex
        blocker = sqlite3.connect(tmp_path / "hall.db", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database
        try:
            with httpx.Client(
                base_url=busy_hall.url,
                headers={"Authorization": f"Bearer {busy_hall.token}"},
                timeout=30,
            ) as raw:
                response = raw.post(
                    "/api/v1/submissions",
                    json=birth_submission(),
                    headers={"Idempotency-Key": key},
                )
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "1"
            assert response.json()["error"]["code"] == "retry_later"
            with (
                HallClient(busy_hall.url, busy_hall.token, timeout_s=10) as client,
                pytest.raises(HallUnavailable) as unavailable,
            ):
                client.create_submission(key, birth_submission())
            assert (unavailable.value.status, unavailable.value.retry_after_s) == (503, 1.0)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        with HallClient(busy_hall.url, busy_hall.token, timeout_s=10) as client:
            assert client.create_submission(key, birth_submission())["id"]
            with pytest.raises(HallRejected) as conflict:  # parked by the sender, not retried
                client.create_submission(key, {**birth_submission(), "draft": True})
        assert (conflict.value.status, conflict.value.code) == (409, "idempotency_key_reused")


# ---- receipt by SMS, sent off the request -------------------------------------------------


def sms_rows(hall: RunningHall, submission_id: str) -> list[dict[str, Any]]:
    return [m for m in hall.service.sms_outbox() if m["submission_id"] == submission_id]


def test_sms_are_recorded_with_the_change_and_sent_after_the_request(
    hall: RunningHall, kiosk: httpx.Client, sms: GatedSms
) -> None:
    sms.gate.clear()
    [created] = post_batch(kiosk, entry(uuid.uuid4().hex))
    submission = created["submission"]
    # The gateway is stuck, yet the kiosk got its answer: the SMS waits in the hall's queue.
    [queued] = sms_rows(hall, submission["id"])
    assert (queued["kind"], queued["status"]) == ("submitted", "queued")
    sms.gate.set()
    wait_until(
        lambda: sms_rows(hall, submission["id"])[0]["status"] == "sent", what="the SMS to go"
    )
    assert any(submission["tracking_number"] in body for _, body in sms.sent)


def test_a_receipt_sms_event_texts_the_receipt_to_the_applicant_once(
    hall: RunningHall, kiosk: httpx.Client, sms: GatedSms
) -> None:
    sms.gate.set()
    [created] = post_batch(kiosk, entry(uuid.uuid4().hex))
    sid = created["submission"]["id"]
    receipt = {
        "event_id": uuid.uuid4().hex,
        "type": "receipt_sms",
        "occurred_at": "2025-06-02T08:30:00Z",
        "submission_id": sid,
        "detail": "回执：受理编号 " + created["submission"]["tracking_number"] + "，请妥善保存。",
    }
    first = kiosk.post("/api/v1/events", json={"events": [receipt]}).json()["results"][0]
    again = kiosk.post("/api/v1/events", json={"events": [receipt]}).json()["results"][0]
    empty = {**receipt, "event_id": uuid.uuid4().hex, "detail": "  "}
    refused = kiosk.post("/api/v1/events", json={"events": [empty]}).json()["results"][0]

    assert (first["outcome"], first["duplicate"]) == ("applied", False)
    assert "138****8000" in first["message"]
    assert (again["outcome"], again["duplicate"]) == ("applied", True)
    assert refused["outcome"] == "rejected"
    wait_until(
        lambda: [m["status"] for m in sms_rows(hall, sid) if m["kind"] == "receipt"] == ["sent"],
        what="the receipt SMS",
    )
    [text] = [m for m in sms_rows(hall, sid) if m["kind"] == "receipt"]
    assert text["phone"] == "13800138000"
    assert text["body"] == "【政务服务】" + receipt["detail"]
    history = kiosk.get(f"/api/v1/submissions/{sid}").json()["history"]
    assert [h["step"] for h in history] == ["created", "receipt_sms"]
    assert history[-1]["from_status"] == history[-1]["to_status"] == "submitted"


# ---- phone on file ---------------------------------------------------------------------------


def test_the_lookup_returns_the_phone_on_file_and_logs_whether_it_did(
    hall: RunningHall, kiosk: httpx.Client
) -> None:
    zhang = kiosk.post(
        "/api/v1/elicences/lookup", json={"id_number": CITIZEN_ZHANG, "purpose": "apply"}
    ).json()
    assert zhang["phone_on_file"]["phone"] == "13800138000"
    assert zhang["phone_on_file"]["masked"] == "138****8000"
    assert zhang["phone_on_file"]["source"] == "registry"
    assert hall.service.lookup_log(1)[0].phone_found is True

    li = kiosk.post("/api/v1/elicences/lookup", json={"id_number": CITIZEN_LI}).json()
    assert li["phone_on_file"] is None
    assert hall.service.lookup_log(1)[0].phone_found is False

    applicant = {"id_number": CITIZEN_LI, "name": "李四", "phone": "13912345678"}
    post_batch(
        kiosk, entry(uuid.uuid4().hex, {**birth_submission(CITIZEN_LI), "applicant": applicant})
    )
    with HallClient(hall.url, hall.token, timeout_s=10) as client:
        li = client.lookup_elicences(CITIZEN_LI, "apply")
    assert li["phone_on_file"]["phone"] == "13912345678"
    assert li["phone_on_file"]["source"] == "earlier_submission"


def test_an_older_hall_database_gains_the_new_column_on_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    HallService(HallConfig(db_url=url)).close()
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("ALTER TABLE lookup_log DROP COLUMN phone_found")
    service = HallService(HallConfig(db_url=url))
    try:
        kiosk_id, _ = service.add_kiosk("upgraded")
        service.lookup(kiosk_id, CITIZEN_ZHANG, None, "apply")
        assert service.lookup_log(1)[0].phone_found is False
    finally:
        service.close()


# ---- Nagle ---------------------------------------------------------------------------------


def test_the_halls_socket_gets_tcp_nodelay_on_every_accepted_connection() -> None:
    """asyncio (so uvicorn) only switches Nagle off for sockets made with IPPROTO_TCP."""
    listener = bind("127.0.0.1", 0)
    assert listener.proto == socket.IPPROTO_TCP
    seen: list[int] = []

    async def main() -> None:
        accepted = asyncio.Event()

        def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()
            accepted.set()

        server = await asyncio.start_server(on_connect, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.wait_for(accepted.wait(), 10)
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(main())
    assert len(seen) == 1
    assert seen[0] != 0
