"""The staff UI in a real headless browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from service_hall.testing import (
    STAFF_PASSWORD,
    RunningHall,
    SettableClock,
    birth_submission,
    passport_submission,
    running_hall,
)

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed"
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory, clock: SettableClock) -> Iterator[RunningHall]:
    with running_hall(tmp_path_factory.mktemp("ui"), clock=clock) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, hall: RunningHall) -> Iterator[Any]:
    context = browser.new_context(base_url=hall.url)
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    opened.goto("/staff/")
    opened.fill("#username", "admin")
    opened.fill("#password", STAFF_PASSWORD)
    opened.click("#login")
    opened.wait_for_url("**/staff/")
    yield opened
    context.close()


def submit(hall: RunningHall, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {hall.token}", "Idempotency-Key": uuid.uuid4().hex}
    response = httpx.post(f"{hall.url}/api/v1/submissions", json=body, headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    submission: dict[str, Any] = response.json()
    return submission


def test_a_wrong_password_is_refused(browser: Any, hall: RunningHall) -> None:
    context = browser.new_context(base_url=hall.url)
    page = context.new_page()
    page.goto("/staff/login")
    page.fill("#username", "admin")
    page.fill("#password", "wrong-password")
    page.click("#login")
    assert page.locator("#login-error").is_visible()
    context.close()


def test_the_queue_shows_supervision_colours(
    page: Any, hall: RunningHall, clock: SettableClock
) -> None:
    start = clock.now
    fresh = submit(hall, birth_submission())  # due in 3 working days
    clock.now = start - timedelta(days=40)
    overdue = submit(hall, birth_submission())
    clock.now = start
    due = hall.service.get_submission("demo-0001", fresh["id"])["due_at"]
    assert due
    page.goto("/staff/")
    assert page.locator(f'tr[data-tracking="{fresh["tracking_number"]}"]').get_attribute(
        "data-supervision"
    ) in ("green", "yellow")
    red = page.locator(f'tr[data-tracking="{overdue["tracking_number"]}"]')
    assert red.get_attribute("data-supervision") == "red"
    colour = red.locator("td").first.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour == "rgb(255, 214, 214)"


def test_review_approve_and_produce_the_result(page: Any, hall: RunningHall) -> None:
    submission = submit(hall, birth_submission())
    sid = submission["id"]
    import hashlib

    httpx.post(
        f"{hall.url}/api/v1/submissions/{sid}/ecopies",
        headers={"Authorization": f"Bearer {hall.token}"},
        files={"file": ("id.png", PNG, "image/png")},
        data={"material_code": "id-card", "sha256": hashlib.sha256(PNG).hexdigest()},
        timeout=30,
    ).raise_for_status()
    page.goto(f"/staff/submissions/{sid}")
    image = page.locator("#ecopies img.ecopy")
    assert image.count() == 1
    loaded = image.evaluate("img => img.complete && img.naturalWidth >= 0")
    assert loaded
    ecopy = page.request.get(image.get_attribute("src"))
    assert ecopy.status == 200
    assert ecopy.body() == PNG

    page.click("#start-review")
    page.wait_for_selector('#status[data-status="in_review"]')
    page.click("#approve")
    page.wait_for_selector('#status[data-status="approved"]')
    page.click("#result-produced")
    page.wait_for_selector('#status[data-status="result_ready"]')
    assert "demo-0001" in page.locator("#task").inner_text()
    tasks = httpx.get(
        f"{hall.url}/api/v1/tasks", headers={"Authorization": f"Bearer {hall.token}"}, timeout=30
    ).json()
    assert sid in {d["submission_id"] for d in tasks["deliveries"]}


def test_reject_needs_a_reason(page: Any, hall: RunningHall) -> None:
    sid = submit(hall, birth_submission())["id"]
    page.goto(f"/staff/submissions/{sid}")
    page.click("#start-review")
    page.wait_for_selector('#status[data-status="in_review"]')
    page.click("#reject")
    assert "reason" in page.locator("#action-error").inner_text()
    page.fill("#reject-reason", "出生医学证明照片不清晰")
    page.click("#reject")
    page.wait_for_selector('#status[data-status="rejected"]')
    assert page.locator("#reason").inner_text() == "出生医学证明照片不清晰"


def test_mark_paid_and_statistics(page: Any, hall: RunningHall) -> None:
    sid = submit(hall, passport_submission())["id"]
    page.goto(f"/staff/submissions/{sid}")
    assert page.locator("#payment-status").inner_text() == "unpaid"
    page.click("#mark-paid")
    page.wait_for_selector("#payment-status:text('paid')")
    page.goto("/staff/stats?kiosk=demo-0001")
    assert int(page.locator("#total").inner_text()) >= 1
    assert page.locator("#fees-paid").inner_text() == "¥120.00"
    assert page.locator("#per-day-chart rect.bar").count() == 14
    page.goto("/staff/sms")
    assert page.locator('#sms tr[data-kind="submitted"]').count() >= 1


def send_event(hall: RunningHall, kind: str, sid: str, **fields: Any) -> None:
    event = {
        "event_id": uuid.uuid4().hex,
        "type": kind,
        "occurred_at": "2025-06-02T08:30:00Z",
        "submission_id": sid,
        **fields,
    }
    response = httpx.post(
        f"{hall.url}/api/v1/events",
        json={"events": [event]},
        headers={"Authorization": f"Bearer {hall.token}"},
        timeout=30,
    )
    assert response.json()["results"][0]["outcome"] == "applied", response.text


def test_agent_seal_and_the_citizens_pickup_page(
    page: Any, hall: RunningHall, clock: SettableClock
) -> None:
    body = {**birth_submission(), "agent_card_id": "C-0002", "agent_name": "李主任"}
    submission = submit(hall, body)
    sid = submission["id"]
    page.goto("/staff/")
    row = page.locator(f'tr[data-tracking="{submission["tracking_number"]}"]')
    assert "代办 李主任" in row.inner_text()

    send_event(hall, "deposited", sid, compartment="A03")
    send_event(hall, "collected", sid, compartment="A03", courier_card_id="C-0001", seal="SEAL-77")
    page.goto(f"/staff/submissions/{sid}")
    assert "李主任 (C-0002)" in page.locator("#agent").inner_text()
    assert page.locator("#seal").inner_text() == "SEAL-77"
    page.click("#start-review")
    page.wait_for_selector('#status[data-status="in_review"]')
    page.click("#approve")
    page.wait_for_selector('#status[data-status="approved"]')
    page.click("#result-produced")
    page.wait_for_selector('#status[data-status="result_ready"]')

    qr = "GZPK1.parcel-77.86420135.1767225600.AAAAAAAAAAAAAAAAAAAAAA"
    deadline = (clock.now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    loaded_at = clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    send_event(
        hall,
        "result_loaded",
        sid,
        occurred_at=loaded_at,
        compartment="B02",
        pickup_code="86420135",
        pickup_qr=qr,
        pickup_deadline=deadline,
    )
    phone = browser_page_on_a_phone(page)
    phone.goto(f"/p/{qr}")
    drawn = phone.locator("#pickup-qr")
    assert drawn.is_visible()
    box = drawn.bounding_box()
    assert box is not None
    assert box["width"] >= 250  # large enough for the terminal's scanner
    phone.context.close()


def browser_page_on_a_phone(page: Any) -> Any:
    """A fresh context with no staff cookie and a phone's screen: the citizen opening the SMS."""
    context = page.context.browser.new_context(
        base_url=page.url.split("/staff/")[0], viewport={"width": 390, "height": 844}
    )
    return context.new_page()
