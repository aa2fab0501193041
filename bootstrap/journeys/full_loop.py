"""Journey `full-loop`: from a citizen's hand-in to the same citizen taking the result out.

1. The citizen applies with a paper original (the `apply` journey's steps, receipt included).
2. A courier shows the badge to the scanner while the thank-you still shows (it gives way at
   once), types the PIN, empties the compartment and scans the bag's seal.
3. A staff member approves the submission in the hall and marks the result produced, through the
   hall's staff pages (service_hall/staff_client.py), as the staff UI would.
4. The courier, still at the terminal, scans the result envelope (its barcode is the tracking
   number), takes the suggested size, puts it in and closes the door.
5. The hall sends the pickup-code SMS; the journey reads it in the hall's SMS outbox.
6. The citizen touches Collect, types that code, takes the envelope and closes the door; the hall
   lists the submission as picked up.

Everything on screen is done by touches; doors, items and scans go through the stubs' control.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from backend_client.caches import DOC_TASKS
from kiosk.config import Settings
from service_hall.seed import DEMO_COURIER_CARD
from service_hall.staff_client import StaffClientError
from service_hall.testing import COURIER_PIN

from .apply import ITEM_ID, apply_journey
from .checks import all_of, showing
from .collect import (
    DEVICE_TIMEOUT_S,
    HALL_TIMEOUT_S,
    IDLE,
    HallDesk,
    LoadedResult,
    citizen_proves,
    done_lists,
    take_and_close,
)
from .hall_poll import HallPoll
from .script import Journey, JourneyWorldError, Step, StubWorld
from .terminal_cache import cached_hall_document

if TYPE_CHECKING:
    from kiosk.courier.view_models import CourierView
    from screens.app import KioskApp

BADGE = f"GZCR1.{DEMO_COURIER_CARD}"
SEAL = "SEAL-20260001"
TASKS_POLL_S = 1.0  # the terminal asks the hall for its tasks every second (60 s in service)
STAFF_TIMEOUT_S = 60.0


class Submission:
    """The citizen's submission as the hall knows it, found once the apply part is over."""

    def __init__(self, hall: HallDesk) -> None:
        self._hall = hall
        self.id = ""
        self.tracking_number = ""

    def find(self) -> None:
        listed = self._hall.kiosk_get("/api/v1/submissions").get("submissions", [])
        mine = [s for s in listed if ITEM_ID in s.get("item_ids", [])]
        if not mine:
            raise JourneyWorldError(f"the hall lists no {ITEM_ID} submission from this kiosk")
        self.id = str(mine[0]["id"])
        self.tracking_number = str(mine[0]["tracking_number"])


class StaffAtTheHall:
    """Off the UI thread: waits for the courier's `collected` to reach the hall, then approves
    and marks the result produced, then waits until the terminal has fetched the delivery task."""

    def __init__(self, hall: HallDesk, submission: Submission, settings: Settings) -> None:
        self._hall = hall
        self._submission = submission
        self._settings = settings
        self._done = threading.Event()
        self.last_answer = "not started"

    def start(self) -> None:
        threading.Thread(target=self._work, name="journey-staff", daemon=True).start()

    def satisfied(self, _app: KioskApp) -> bool:
        return self._done.is_set()

    def _work(self) -> None:
        deadline = time.monotonic() + STAFF_TIMEOUT_S
        try:
            self._wait(
                deadline, lambda: self._status() == "collected", "the hall to see it collected"
            )
            self._hall.approve_and_produce(self._submission.id)
            self.last_answer = "approved and result produced"
            self._wait(deadline, self._terminal_has_task, "the terminal to fetch the delivery task")
        except (JourneyWorldError, StaffClientError) as err:
            self.last_answer = str(err)
            return
        self._done.set()

    def _status(self) -> str:
        status = self._hall.status_of(self._submission.id)
        self.last_answer = f"hall status {status!r}"
        return status

    def _terminal_has_task(self) -> bool:
        """The terminal's cached task list (read-only) holds the *delivery* for this submission:
        the envelope is scanned only then. The tracking number alone is not enough — the same
        list names it among the materials to collect, before any result exists."""
        cached = cached_hall_document(self._settings, DOC_TASKS) or {}
        deliveries = cached.get("tasks", {}).get("deliveries", [])
        return any(
            task.get("tracking_number") == self._submission.tracking_number
            and task.get("status") == "pending"
            for task in deliveries
        )

    def _wait(self, deadline: float, condition: Callable[[], bool], what: str) -> None:
        while not condition():
            if time.monotonic() > deadline:
                raise JourneyWorldError(f"gave up waiting for {what} ({self.last_answer})")
            self._done.wait(0.3)


def full_loop_journey(settings: Settings) -> Journey:
    applying = apply_journey(settings)
    hall = HallDesk(settings)
    submission = Submission(hall)
    staff = StaffAtTheHall(hall, submission, settings)
    loaded = LoadedResult()
    sms = HallPoll(
        "the pickup-code SMS is in the hall's SMS outbox",
        lambda: _read_sms(hall, submission, loaded),
        timeout_s=HALL_TIMEOUT_S,
        expected_errors=(JourneyWorldError, StaffClientError),
    )
    picked_up = HallPoll(
        "the hall lists the submission as picked up",
        lambda: _picked_up(hall, submission),
        timeout_s=HALL_TIMEOUT_S,
        expected_errors=(JourneyWorldError, StaffClientError),
    )
    citizen = tuple(
        replace(step, shot=f"{index:02d}-citizen-{step.shot[3:]}")
        for index, step in enumerate(citizen_proves("code", loaded), start=41)
    )
    return Journey(
        name="full-loop",
        description=(
            "Apply with hand-in; the courier signs in (badge + PIN), collects with a seal scan;"
            " staff approve and produce the result in the hall; the courier loads the envelope;"
            " the hall sends the SMS; the citizen collects with the code from the SMS."
        ),
        idle=IDLE,
        tuned=(("hall", "tasks_poll_s", TASKS_POLL_S),),
        steps=(
            *applying.steps,
            Step(
                name="courier badge while the citizen's thank-you shows",
                shot="21-courier-pin",
                expect="the thank-you gives way at once: the PIN keypad asks for the PIN",
                act=lambda _app, world: show_the_badge(submission, world),
                act_says="the courier holds the badge under the scanner",
                until=showing("courier_pin"),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            type_the_pin("22-courier-pin-typed", COURIER_PIN),
            Step(
                name="sign in",
                shot="23-courier-menu",
                expect="the menu counts one compartment to collect",
                touch="courier_pin/submit_button",
                until=courier_view("courier_menu", lambda v: _menu_count(v, "StartCollect") == 1),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            Step(
                name="collect",
                shot="24-courier-collect",
                expect="the run lists the compartment with the citizen's papers",
                touch="courier_menu/collect_button",
                until=courier_view("courier_run", lambda v: len(v.rows) == 1),
            ),
            Step(
                name="open all mine",
                shot="25-courier-door-open",
                expect="the door is open and the screen asks for the seal",
                touch="courier_run/open_all_button",
                until=courier_view(
                    "courier_run", lambda v: v.door is not None and v.door.picture == "open"
                ),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            Step(
                name="scan the bag's seal",
                shot="26-courier-seal",
                expect=f"the seal {SEAL} is bound to the compartment",
                act=lambda _app, world: world.act("scanner", "scan", code=SEAL),
                act_says="the courier seals the bag and scans the seal's barcode",
                until=courier_view("courier_run", lambda v: any(SEAL in r.detail for r in v.rows)),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            Step(
                name="take the bag, close the door",
                shot="27-courier-collected",
                expect="the compartment is done",
                act=courier_empties_the_open_door,
                act_says="the courier takes the bag out and closes the door",
                until=courier_view("courier_run", lambda v: all(r.state == "done" for r in v.rows)),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            Step(
                name="back to the menu",
                shot="28-courier-menu",
                expect="the menu is shown again",
                touch="courier_run/back_button",
                until=showing("courier_menu"),
            ),
            Step(
                name="staff approve and produce the result",
                shot="29-staff-done",
                expect="the hall approved it, made the result, and the terminal has the task",
                act=lambda _app, _world: staff.start(),
                act_says="a staff member approves and marks the result produced in the hall",
                until=staff.satisfied,
                explain=lambda: staff.last_answer,
                timeout_s=STAFF_TIMEOUT_S + 5,
            ),
            Step(
                name="load results",
                shot="30-courier-load",
                expect="the load screen asks for the envelope",
                touch="courier_menu/load_button",
                until=showing("courier_load"),
            ),
            Step(
                name="scan the envelope",
                shot="31-courier-load-size",
                expect="the envelope matches the task and a size is offered",
                act=lambda _app, world: world.act(
                    "scanner", "scan", code=submission.tracking_number
                ),
                act_says="the courier scans the result envelope's barcode (the tracking number)",
                until=courier_view("courier_load", lambda v: bool(v.sizes)),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            Step(
                name="take the suggested size",
                shot="32-courier-load-open",
                expect="a compartment is open for the envelope",
                touch="courier_load/size_S",
                until=courier_view(
                    "courier_load", lambda v: v.door is not None and v.door.picture == "open"
                ),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            Step(
                name="envelope in, door closed",
                shot="33-courier-loaded",
                expect="the result is loaded",
                act=courier_loads_the_open_door(loaded),
                act_says="the courier puts the envelope in and closes the door",
                until=courier_view("courier_load", lambda v: v.loaded_count == 1),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            Step(
                name="back to the menu and sign out",
                shot="34-courier-signed-out",
                expect="the attract screen is shown again",
                touches=("courier_load/back_button", "courier_menu/sign_out_button"),
                until=showing("attract"),
            ),
            sms.step(
                "the SMS goes out",
                "35-sms-sent",
                "reading the hall's SMS outbox for the pickup code",
            ),
            Step(
                name="citizen touches Collect",
                shot="40-citizen-pickup-start",
                expect="the pickup screen offers scan, code and card",
                touch="attract/collect_button",
                until=showing("pickup_start"),
            ),
            *citizen,
            Step(
                name="citizen takes the envelope, closes the door",
                shot="44-citizen-pickup-done",
                expect="the done screen lists the door as collected",
                act=take_and_close(loaded),
                act_says="the citizen takes the envelope and closes the door",
                until=all_of(showing("pickup_done"), done_lists(loaded)),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            Step(
                name="done",
                shot="45-attract-again",
                expect="back on the attract screen",
                touch="pickup_done/done_button",
                until=showing("attract"),
            ),
            picked_up.step(
                "the hall knows",
                "46-hall-picked-up",
                "asking the hall for the submission's status",
            ),
        ),
    )


# -- the courier's view, and the courier's hands ------------------------------------------------


def _view(app: KioskApp, screen: str) -> CourierView | None:
    widget = app.widget_at(screen)
    view: CourierView | None = getattr(widget, "view", None)
    return view


def courier_view(screen: str, holds: Callable[[CourierView], bool]) -> Callable[[KioskApp], bool]:
    def check(app: KioskApp) -> bool:
        view = _view(app, screen)
        return (
            app.screens is not None
            and app.screens.current == screen
            and view is not None
            and holds(view)
        )

    return check


def type_the_pin(shot: str, pin: str) -> Step:
    """One touch per digit on the PIN keypad; the screen shows dots, not digits."""
    return Step(
        name="type the PIN",
        shot=shot,
        expect=f"{len(pin)} digits typed, masked",
        touches=tuple(f"courier_pin/key_{digit}" for digit in pin),
        until=courier_view("courier_pin", lambda v: v.pin_ready),
    )


def _menu_count(view: CourierView, intent: str) -> int | None:
    return next((entry.count for entry in view.menu if entry.intent == intent), None)


def _open_door(app: KioskApp, screen: str) -> tuple[int, str]:
    view = _view(app, screen)
    if view is None or view.door is None:
        raise JourneyWorldError(f"the {screen} screen names no open door")
    return view.door.compartment, view.door.label


def show_the_badge(submission: Submission, world: StubWorld) -> None:
    submission.find()  # the citizen's submission, for the staff and the envelope later
    world.act("scanner", "scan", code=BADGE)


def courier_empties_the_open_door(app: KioskApp, world: StubWorld) -> None:
    compartment, _label = _open_door(app, "courier_run")
    world.act("lockers", "remove_item", compartment=compartment)
    world.act("lockers", "close_door", compartment=compartment)


def courier_loads_the_open_door(loaded: LoadedResult) -> Callable[[KioskApp, StubWorld], None]:
    def act(app: KioskApp, world: StubWorld) -> None:
        loaded.compartment, loaded.label = _open_door(app, "courier_load")
        world.act("lockers", "put_item", compartment=loaded.compartment)
        world.act("lockers", "close_door", compartment=loaded.compartment)

    return act


# -- the hall's side ----------------------------------------------------------------------------


def _read_sms(hall: HallDesk, submission: Submission, loaded: LoadedResult) -> tuple[bool, str]:
    with hall.staff() as staff:
        messages = staff.sms_messages(submission_id=submission.id)
    for message in messages:
        if message.pickup_code:
            loaded.submission_id = submission.id
            loaded.pickup_code = message.pickup_code
            loaded.pickup_qr = message.pickup_qr or ""
            return True, f"SMS {message.id} to {message.phone}"
    return False, f"{len(messages)} SMS, none with a pickup code: {[m.kind for m in messages]}"


def _picked_up(hall: HallDesk, submission: Submission) -> tuple[bool, str]:
    found: dict[str, Any] = hall.kiosk_get(f"/api/v1/submissions/{submission.id}")
    steps = [h.get("to_status") for h in found.get("history", [])]
    return found.get("status") == "picked_up", json.dumps(steps)
