"""The kiosk API against the real hall on loopback (uvicorn in a thread, port 0, httpx)."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from service_hall.errors import IllegalTransition
from service_hall.lifecycle import Step
from service_hall.secrets_hashing import id_number_hash, verify_secret
from service_hall.seed import CITIZEN_LI, CITIZEN_ZHANG
from service_hall.signing import verify
from service_hall.testing import (
    COURIER_PIN,
    STAFF_PASSWORD,
    RunningHall,
    birth_submission,
    passport_submission,
    running_hall,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 500


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
def other_kiosk(hall: RunningHall) -> Iterator[httpx.Client]:
    _, token = hall.service.add_kiosk("Another kiosk", f"other-{uuid.uuid4().hex[:6]}")
    with httpx.Client(
        base_url=hall.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


def submit(client: httpx.Client, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post(
        "/api/v1/submissions",
        json=body or birth_submission(),
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def upload(
    client: httpx.Client,
    submission_id: str,
    data: bytes = PNG,
    content_type: str = "image/png",
    material: str = "id-card",
    sha256: str | None = None,
) -> httpx.Response:
    return client.post(
        f"/api/v1/submissions/{submission_id}/ecopies",
        files={"file": ("scan", data, content_type)},
        data={"material_code": material, "sha256": sha256 or hashlib.sha256(data).hexdigest()},
    )


def send_events(client: httpx.Client, *events: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post("/api/v1/events", json={"events": list(events)})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def event(kind: str, submission_id: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "type": kind,
        "occurred_at": "2025-06-02T08:30:00Z",
        "submission_id": submission_id,
        **extra,
    }


@contextmanager
def staff_client(hall: RunningHall) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hall.url, timeout=30) as client:
        response = client.post(
            "/staff/login",
            data={"username": "admin", "password": STAFF_PASSWORD, "next": "/staff/"},
        )
        assert response.status_code == 303
        yield client


# ---- authentication -----------------------------------------------------------------


def test_every_kiosk_endpoint_refuses_a_missing_or_wrong_token(hall: RunningHall) -> None:
    schema = httpx.get(f"{hall.url}/openapi.json").json()
    protected = [
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    ]
    assert len(protected) >= 11
    for method, path in protected:
        url = hall.url + re.sub(r"\{[^}]+\}", "anything", path)
        for headers in ({}, {"Authorization": "Bearer kt_not-a-real-token"}):
            response = httpx.request(method, url, headers=headers)
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"]["code"] == "not_authenticated"
            assert response.headers["www-authenticate"] == "Bearer"


def test_public_endpoints_need_no_token(hall: RunningHall) -> None:
    assert httpx.get(f"{hall.url}/api/v1/health").json()["status"] == "ok"
    key = httpx.get(f"{hall.url}/api/v1/public-key").json()
    assert key["algorithm"] == "Ed25519"
    assert key["key_id"] == hall.service.signer.key_id


def test_tokens_are_stored_only_as_hashes(hall: RunningHall) -> None:
    for registered in hall.service.kiosks():
        assert registered.token_hash != hall.token
        assert hall.token not in registered.token_hash


def test_the_token_says_which_kiosk_it_is(kiosk: httpx.Client) -> None:
    assert kiosk.get("/api/v1/kiosk").json()["id"] == "demo-0001"


# ---- catalog ----------------------------------------------------------------------------


def test_catalog_full_and_since_current_version(kiosk: httpx.Client) -> None:
    full = kiosk.get("/api/v1/catalog").json()
    assert full["full"]
    assert len(full["items"]) >= 20
    assert len(full["topics"]) >= 3
    passport = next(item for item in full["items"] if item["id"] == "ee-passport")
    assert passport["fee_fen"] == 12000
    assert {m["form"] for m in passport["materials"]} >= {"paper_original", "e_copy"}
    delta = kiosk.get("/api/v1/catalog", params={"since_version": full["version"]}).json()
    assert delta["items"] == []
    assert delta["version"] == full["version"]
    assert not delta["full"]


# ---- submissions and idempotency -----------------------------------------------------


def test_same_key_same_body_gives_the_same_record(kiosk: httpx.Client) -> None:
    key = uuid.uuid4().hex
    first = kiosk.post(
        "/api/v1/submissions", json=birth_submission(), headers={"Idempotency-Key": key}
    )
    again = kiosk.post(
        "/api/v1/submissions", json=birth_submission(), headers={"Idempotency-Key": key}
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["tracking_number"] == again.json()["tracking_number"]


def test_same_key_different_body_is_a_conflict(kiosk: httpx.Client) -> None:
    key = uuid.uuid4().hex
    kiosk.post("/api/v1/submissions", json=birth_submission(), headers={"Idempotency-Key": key})
    other = kiosk.post(
        "/api/v1/submissions", json=passport_submission(), headers={"Idempotency-Key": key}
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_concurrent_requests_with_one_key_make_one_record(
    hall: RunningHall, kiosk: httpx.Client
) -> None:
    key = uuid.uuid4().hex

    def post(_: int) -> httpx.Response:
        with httpx.Client(
            base_url=hall.url, headers={"Authorization": f"Bearer {hall.token}"}, timeout=30
        ) as client:
            return client.post(
                "/api/v1/submissions", json=birth_submission(), headers={"Idempotency-Key": key}
            )

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(post, range(8)))
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["id"] for r in responses}) == 1


def test_the_idempotency_key_is_required(kiosk: httpx.Client) -> None:
    response = kiosk.post("/api/v1/submissions", json=birth_submission())
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("mutate", "complaint"),
    [
        (lambda b: b["applicant"].update(id_number="430821198503120024"), "resident ID"),
        (lambda b: b["applicant"].update(phone="12345"), "phone"),
        (lambda b: b.update(item_ids=["no-such-item"]), "not in the catalog"),
        (lambda b: b["forms"]["hh-birth-registration"].pop("child_name"), "child_name"),
        (lambda b: b["forms"]["hh-birth-registration"].update(child_sex="x"), "one of"),
        (lambda b: b.update(topic_id="topic-open-shop"), "do not belong"),
        (lambda b: b.update(elicence_ids=["el-unknown"]), "not on file"),
        (lambda b: b.update(surprise=1), "surprise"),
    ],
)
def test_bad_submissions_get_a_plain_422(kiosk: httpx.Client, mutate: Any, complaint: str) -> None:
    body = birth_submission()
    mutate(body)
    response = kiosk.post(
        "/api/v1/submissions", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert response.status_code == 422, response.text
    assert complaint in response.json()["error"]["message"]


def test_garbage_bodies_are_4xx_not_500(kiosk: httpx.Client) -> None:
    for content in (b"not json", b"[]", b"{", b'{"item_ids": 5}'):
        response = kiosk.post(
            "/api/v1/submissions",
            content=content,
            headers={"Idempotency-Key": "g", "Content-Type": "application/json"},
        )
        assert response.status_code == 422, content
        assert response.json()["error"]["message"]


def test_a_draft_is_submitted_once(kiosk: httpx.Client) -> None:
    draft = submit(kiosk, {**birth_submission(), "draft": True})
    assert draft["status"] == "draft"
    assert draft["due_at"] is None
    submitted = kiosk.post(f"/api/v1/submissions/{draft['id']}/submit").json()
    assert submitted["status"] == "submitted"
    assert submitted["due_at"]
    again = kiosk.post(f"/api/v1/submissions/{draft['id']}/submit").json()
    assert again["history"] == submitted["history"]


# ---- kiosk isolation ------------------------------------------------------------------


def test_a_kiosk_sees_only_its_own_data(kiosk: httpx.Client, other_kiosk: httpx.Client) -> None:
    mine = submit(kiosk)
    assert other_kiosk.get(f"/api/v1/submissions/{mine['id']}").status_code == 404
    assert upload(other_kiosk, mine["id"]).status_code == 404
    assert other_kiosk.get(f"/api/v1/submissions/{mine['id']}/payment").status_code == 404
    listed = other_kiosk.get("/api/v1/submissions").json()["submissions"]
    assert mine["id"] not in {s["id"] for s in listed}
    [result] = send_events(other_kiosk, event("deposited", mine["id"], compartment="A01"))
    assert result["outcome"] == "rejected"
    assert kiosk.get(f"/api/v1/submissions/{mine['id']}").json()["status"] == "submitted"
    lookup = other_kiosk.post(
        "/api/v1/elicences/lookup", json={"id_number": CITIZEN_ZHANG, "submission_id": mine["id"]}
    )
    assert lookup.status_code == 404
    # The same idempotency key at another kiosk is another kiosk's business.
    key = uuid.uuid4().hex
    a = kiosk.post("/api/v1/submissions", json=birth_submission(), headers={"Idempotency-Key": key})
    b = other_kiosk.post(
        "/api/v1/submissions", json=birth_submission(), headers={"Idempotency-Key": key}
    )
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


# ---- e-copies ---------------------------------------------------------------------------


def test_an_ecopy_is_stored_once_with_its_checksum(hall: RunningHall, kiosk: httpx.Client) -> None:
    submission = submit(kiosk)
    first = upload(kiosk, submission["id"])
    again = upload(kiosk, submission["id"])
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["sha256"] == hashlib.sha256(PNG).hexdigest()
    content_type, data = hall.service.ecopy_content(first.json()["id"])
    assert (content_type, data) == ("image/png", PNG)
    held = kiosk.get(f"/api/v1/submissions/{submission['id']}").json()["ecopies"]
    assert [e["id"] for e in held] == [first.json()["id"]]


def test_a_checksum_mismatch_is_refused(kiosk: httpx.Client) -> None:
    submission = submit(kiosk)
    response = upload(kiosk, submission["id"], sha256="0" * 64)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "checksum_mismatch"
    assert kiosk.get(f"/api/v1/submissions/{submission['id']}").json()["ecopies"] == []


def test_an_oversized_ecopy_is_refused(hall: RunningHall, kiosk: httpx.Client) -> None:
    submission = submit(kiosk)
    big = PNG + b"\x00" * hall.service.config.max_upload_bytes
    response = upload(kiosk, submission["id"], data=big)
    assert response.status_code == 413
    assert "at most" in response.json()["error"]["message"]


def test_wrong_types_are_refused(kiosk: httpx.Client) -> None:
    submission = submit(kiosk)
    assert upload(kiosk, submission["id"], b"hello", "text/plain").status_code == 415
    assert upload(kiosk, submission["id"], JPEG, "image/png").status_code == 415
    assert upload(kiosk, submission["id"], JPEG, "image/jpeg").status_code == 201
    assert upload(kiosk, submission["id"], material="business-licence").status_code == 422
    assert upload(kiosk, submission["id"], sha256="xyz").status_code == 422


# ---- lifecycle and events ---------------------------------------------------------------


def test_the_whole_loop_from_kiosk_to_pickup(hall: RunningHall, kiosk: httpx.Client) -> None:
    submission = submit(kiosk)
    sid = submission["id"]
    [early] = send_events(kiosk, event("collected", sid, courier_card_id="C-0001"))
    assert early["outcome"] == "rejected"
    assert "submitted" in early["message"]

    deposited = event("deposited", sid, compartment="A03")
    assert send_events(kiosk, deposited)[0]["outcome"] == "applied"
    resent = send_events(kiosk, deposited)[0]
    assert resent["duplicate"]
    assert resent["outcome"] == "applied"
    changed = send_events(kiosk, {**deposited, "compartment": "B01"})[0]
    assert changed["outcome"] == "conflict"

    tasks = kiosk.get("/api/v1/tasks").json()
    assert {"submission_id": sid, "compartment": "A03"}.items() <= next(
        c for c in tasks["collections"] if c["submission_id"] == sid
    ).items()
    send_events(kiosk, event("collected", sid, courier_card_id="C-0001"))
    assert sid not in {c["submission_id"] for c in kiosk.get("/api/v1/tasks").json()["collections"]}

    with pytest.raises(IllegalTransition):
        hall.service.staff_step(sid, Step.APPROVED, "staff:test")
    hall.service.staff_step(sid, Step.REVIEW_STARTED, "staff:test")
    hall.service.staff_step(sid, Step.APPROVED, "staff:test")
    hall.service.staff_step(sid, Step.RESULT_PRODUCED, "staff:test")

    delivery = next(
        d for d in kiosk.get("/api/v1/tasks").json()["deliveries"] if d["submission_id"] == sid
    )
    assert delivery["status"] == "pending"
    assert delivery["outcome"] == "approved"
    assert delivery["applicant_id_number_sha256"] == id_number_hash(CITIZEN_ZHANG)
    assert "pickup_code_sha256" not in delivery  # the terminal makes the code now
    loaded = send_events(
        kiosk,
        event(
            "result_loaded",
            sid,
            compartment="B02",
            pickup_code="04918273",
            pickup_deadline="2025-06-09T08:30:00Z",
        ),
    )[0]
    assert loaded["outcome"] == "applied", loaded

    hall.service.dispatch_sms()  # what the hall's SMS thread does right after the request
    with staff_client(hall) as staff:
        messages = staff.get("/staff/api/sms").json()["messages"]
    pickup_sms = next(
        m for m in messages if m["submission_id"] == sid and m["kind"] == "pickup_code"
    )
    code = re.search(r"取件码(\d{8})", pickup_sms["body"])
    assert code is not None
    assert code.group(1) == "04918273"
    assert hall.service.pickup_code_matches(sid, "04918273")
    assert not hall.service.pickup_code_matches(sid, "04918274")
    assert pickup_sms["status"] == "sent"
    assert pickup_sms["phone"] == "13800138000"

    send_events(kiosk, event("picked_up", sid, compartment="B02"))
    final = kiosk.get(f"/api/v1/submissions/{sid}").json()
    assert final["status"] == "picked_up"
    steps = [h["step"] for h in final["history"]]
    assert steps == [
        "created", "deposited", "collected", "review_started", "approved",
        "result_produced", "result_loaded", "picked_up",
    ]  # fmt: skip
    actors = {h["step"]: h["actor"] for h in final["history"]}
    assert actors["collected"] == "courier:C-0001@kiosk:demo-0001"
    assert actors["approved"] == "staff:test"
    late = send_events(kiosk, event("returned", sid))[0]
    assert late["outcome"] == "rejected"


def test_a_rejection_needs_a_reason_and_is_delivered_back(
    hall: RunningHall, kiosk: httpx.Client
) -> None:
    sid = submit(kiosk)["id"]
    hall.service.staff_step(sid, Step.REVIEW_STARTED, "staff:test")
    with pytest.raises(Exception, match="reason"):
        hall.service.staff_step(sid, Step.REJECTED, "staff:test")
    hall.service.staff_step(sid, Step.REJECTED, "staff:test", "出生医学证明不清晰，请补交原件")
    hall.service.staff_step(sid, Step.RESULT_PRODUCED, "staff:test")
    delivery = next(
        d for d in kiosk.get("/api/v1/tasks").json()["deliveries"] if d["submission_id"] == sid
    )
    assert delivery["outcome"] == "rejected"
    assert kiosk.get(f"/api/v1/submissions/{sid}").json()["decision_reason"].startswith("出生")


def test_door_alarms_and_batches_keep_going_after_a_bad_event(kiosk: httpx.Client) -> None:
    results = send_events(
        kiosk,
        event("door_alarm", None, compartment="C07", detail="door forced open"),
        event("picked_up", "no-such-submission"),
        event("deposited", None),
    )
    assert [r["outcome"] for r in results] == ["applied", "rejected", "rejected"]


# ---- couriers, roster, tasks ----------------------------------------------------------


def test_the_roster_verifies_with_the_public_key_and_not_when_tampered(
    hall: RunningHall, kiosk: httpx.Client
) -> None:
    signed = kiosk.get("/api/v1/roster").json()
    key = httpx.get(f"{hall.url}/api/v1/public-key").json()
    assert signed["key_id"] == key["key_id"] == signed["roster"]["key_id"]
    assert verify(key["public_key_b64"], signed["roster"], signed["signature"])
    courier = next(c for c in signed["roster"]["couriers"] if c["card_id"] == "C-0001")
    assert verify_secret(COURIER_PIN, courier["pin_hash"])
    assert not verify_secret("0000", courier["pin_hash"])

    tampered = {**signed["roster"], "expires_at": "2099-01-01T00:00:00Z"}
    assert not verify(key["public_key_b64"], tampered, signed["signature"])
    extra = {
        **signed["roster"],
        "couriers": [*signed["roster"]["couriers"], {**courier, "card_id": "EVIL"}],
    }
    assert not verify(key["public_key_b64"], extra, signed["signature"])


def test_a_courier_limited_to_one_kiosk_is_only_in_its_roster(
    hall: RunningHall, kiosk: httpx.Client, other_kiosk: httpx.Client
) -> None:
    before = kiosk.get("/api/v1/roster").json()["roster"]["version"]
    hall.service.add_courier("VA-77", "村代办员 刘", "13579", "village_agent", ["demo-0001"])
    mine = kiosk.get("/api/v1/roster").json()["roster"]
    assert mine["version"] > before
    assert "VA-77" in {c["card_id"] for c in mine["couriers"]}
    theirs = other_kiosk.get("/api/v1/roster").json()["roster"]
    assert "VA-77" not in {c["card_id"] for c in theirs["couriers"]}


# ---- e-licences, fees -------------------------------------------------------------------


def test_elicence_lookup_lists_licences_and_reusable_ecopies_and_is_logged(
    hall: RunningHall, kiosk: httpx.Client
) -> None:
    earlier = submit(kiosk)
    ecopy = upload(kiosk, earlier["id"]).json()
    current = submit(kiosk, {**birth_submission(), "draft": True})
    found = kiosk.post(
        "/api/v1/elicences/lookup",
        json={"id_number": CITIZEN_ZHANG, "submission_id": current["id"], "purpose": "hh-birth"},
    ).json()
    types = {lic["licence_type"] for lic in found["elicences"]}
    assert types == {
        "household_register", "marriage_certificate", "business_licence",
        "disability_certificate", "residence_permit",
    }  # fmt: skip
    assert ecopy["id"] in {e["id"] for e in found["reusable_ecopies"]}
    log = hall.service.lookup_log(5)
    assert log[0].kiosk_id == "demo-0001"
    assert log[0].submission_id == current["id"]
    assert CITIZEN_ZHANG not in log[0].id_number_masked

    licence = next(
        lic["id"] for lic in found["elicences"] if lic["licence_type"] == "household_register"
    )
    reuse = {**birth_submission(), "elicence_ids": [licence], "reused_ecopy_ids": [ecopy["id"]]}
    assert submit(kiosk, reuse)["reused_ecopy_ids"] == [ecopy["id"]]
    stranger = {**birth_submission(CITIZEN_LI), "reused_ecopy_ids": [ecopy["id"]]}
    response = kiosk.post(
        "/api/v1/submissions", json=stranger, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert response.status_code == 422


def test_a_fee_has_a_payment_order_that_staff_mark_paid(
    hall: RunningHall, kiosk: httpx.Client
) -> None:
    submission = submit(kiosk, passport_submission())
    order = kiosk.get(f"/api/v1/submissions/{submission['id']}/payment").json()
    assert order["amount_fen"] == 12000
    assert order["status"] == "unpaid"
    assert order["qr_payload"].endswith(f"/pay/{order['order_id']}")
    assert httpx.get(hall.url + f"/pay/{order['order_id']}").status_code == 200
    with staff_client(hall) as staff:
        page = staff.get(f"/staff/submissions/{submission['id']}").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        staff.post(
            f"/staff/submissions/{submission['id']}/action",
            data={"action": "mark_paid", "csrf": csrf.group(1)},
        )
    paid = kiosk.get(f"/api/v1/submissions/{submission['id']}/payment").json()
    assert paid["status"] == "paid"
    assert paid["paid_at"]
    free = submit(kiosk)
    assert kiosk.get(f"/api/v1/submissions/{free['id']}/payment").status_code == 404


def test_staff_api_needs_a_login(hall: RunningHall) -> None:
    assert httpx.get(f"{hall.url}/staff/api/sms").status_code == 401
    page = httpx.get(f"{hall.url}/staff/", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/staff/login")


# ---- CLI ---------------------------------------------------------------------------------


def test_kiosk_hall_serve_on_port_0_prints_where_it_listens(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    kiosk_cli = [sys.executable, "-m", "bootstrap.cli", "hall"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    seeded = subprocess.run(
        [*kiosk_cli, "seed", "--db", db], capture_output=True, text=True, env=env, check=True
    )
    token = re.search(r"token: (\S+)", seeded.stdout)
    assert token is not None
    process = subprocess.Popen(
        [*kiosk_cli, "serve", "--port", "0", "--db", db],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = re.search(r"listening on (http://\S+)", line)
        assert url is not None, line
        me = httpx.get(
            url.group(1) + "/api/v1/kiosk",
            headers={"Authorization": f"Bearer {token.group(1)}"},
            timeout=30,
        )
        assert me.json()["id"] == "demo-0001"
    finally:
        process.terminate()
        process.wait(timeout=30)
