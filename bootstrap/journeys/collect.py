"""Journey `collect`: a result waits in a compartment; the citizen scans the QR and takes it.

Before the window opens the stage is set the way the people behind the terminal would set it:
a staff member approves a submission and marks its result produced through the hall's staff
pages (service_hall/staff_client.py), the terminal fetches its delivery tasks, and a courier
loads the envelope through the terminal's own courier desk and compartment service — the door
opens on the locker stub, the envelope goes in, the door closes — so the pickup code is made,
hashed and sent to the hall exactly as in service. Then the citizen, by touches and one scan
(the scanner stub), opens the door, takes the envelope, closes it; the hall must end up with the
submission picked up. `collect-code` is the same with the 8-digit code typed on the keypad.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import httpx

from kiosk.config import IdleSettings, Settings
from service_hall.seed import CITIZEN_ZHANG, DEMO_COURIER_CARD
from service_hall.staff_client import StaffClient, StaffClientError
from service_hall.testing import STAFF_PASSWORD, passport_submission

from .checks import all_of, showing
from .hall_poll import HallPoll
from .script import Journey, JourneyWorldError, Step, StubWorld, Touch

if TYPE_CHECKING:
    from kivy.uix.widget import Widget

    from screens.app import KioskApp

STAFF_USER = "admin"
IDLE = IdleSettings(warn_after_s=600.0, countdown_s=60.0)  # nobody times out while the box thinks
DEVICE_TIMEOUT_S = 30.0
HALL_TIMEOUT_S = 30.0
DOOR_READING_TIMEOUT_S = 15.0
PickupMethod = Literal["qr", "code"]


# -- the hall, as its staff and the terminal's link see it ----------------------------------------


class HallDesk:
    """The private hall of the demo: the kiosk's API (its token) and a staff member's pages."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.hall.url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {settings.hall.token}"}

    def staff(self) -> StaffClient:
        try:
            return StaffClient(self.url, STAFF_USER, STAFF_PASSWORD)
        except StaffClientError as err:
            raise JourneyWorldError(f"the staff member could not log in: {err}") from err

    def kiosk_get(self, path: str) -> dict[str, Any]:
        try:
            answer = httpx.get(self.url + path, headers=self._headers, timeout=10.0)
            answer.raise_for_status()
            found: dict[str, Any] = answer.json()
        except (httpx.HTTPError, ValueError) as err:
            raise JourneyWorldError(f"the hall did not answer GET {path}: {err}") from err
        return found

    def submit_on_the_counter(self) -> dict[str, Any]:
        """A passport application with nothing on paper, as another terminal would send it."""
        headers = {**self._headers, "Idempotency-Key": uuid.uuid4().hex}
        try:
            answer = httpx.post(
                self.url + "/api/v1/submissions",
                json=passport_submission(CITIZEN_ZHANG),
                headers=headers,
                timeout=10.0,
            )
            answer.raise_for_status()
            created: dict[str, Any] = answer.json()
        except (httpx.HTTPError, ValueError) as err:
            raise JourneyWorldError(f"the hall refused the sample submission: {err}") from err
        return created

    def approve_and_produce(self, submission_id: str) -> None:
        """What the staff member clicks on the details page: approve, then result produced."""
        with self.staff() as staff:
            try:
                staff.approve(submission_id)
                staff.mark_result_produced(submission_id)
            except StaffClientError as err:
                raise JourneyWorldError(f"the staff action was refused: {err}") from err

    def status_of(self, submission_id: str) -> str:
        return str(self.kiosk_get(f"/api/v1/submissions/{submission_id}").get("status", ""))


# -- a courier loads the result through the terminal's own services ------------------------------


@dataclass
class LoadedResult:
    """What the stage holds once the envelope is in: filled in by `load_result_as_courier`."""

    submission_id: str = ""
    tracking_number: str = ""
    compartment: int = 0
    label: str = ""
    pickup_code: str = field(default="", repr=False)
    pickup_qr: str = field(default="", repr=False)


def load_result_as_courier(
    settings: Settings, world: StubWorld, tracking_number: str, into: LoadedResult
) -> None:
    """The courier's load, done before the app starts, on the terminal's database and boards.

    The same objects the composition root builds (device set, compartment service, task feed,
    courier desk) are built here for the moment of the load and closed again, so the code is
    generated, hashed and queued for the hall by the production path, not by the journey.
    """
    from backend_client.caches import SqliteTaskFeed
    from kiosk.compartments import CompartmentService, PickupCodeHasher
    from kiosk.courier.adapters import CourierDesk
    from kiosk.courier.sign_in import CourierIdentity
    from kiosk.outbox import Outbox
    from kiosk.pickup.tokens import TerminalKeyStore
    from kiosk.ports.lockers import DoorState
    from kiosk.storage import AuditLog

    from ..composition import open_storage
    from ..device_set import build_devices
    from ..paths import data_dir

    hall = HallDesk(settings)
    folder = data_dir(settings)
    database = open_storage(folder)
    devices = build_devices(settings, folder)
    columns = devices.locker_columns
    try:
        compartments = CompartmentService(
            database,
            AuditLog(database),
            columns,
            alerts=lambda _alert: None,
            hold_s=settings.compartments.hold_s,
            code_hasher=PickupCodeHasher(n=settings.compartments.pickup_code_scrypt_n),
        )
        for column in columns:
            column.start(compartments.locker_event_sink())
        _wait_for(
            lambda: all(
                all(r.door is not DoorState.UNKNOWN for r in c.readings().values()) for c in columns
            ),
            "the locker boards did not report their doors",
        )
        compartments.start_up()
        feed = SqliteTaskFeed(database)
        feed.store(hall.kiosk_get("/api/v1/tasks"))
        outbox = Outbox(database)
        desk = CourierDesk(
            database,
            compartments,
            outbox,
            feed,
            TerminalKeyStore(database).pickup_qr_key,
            keep_days=settings.pickup.keep_days,
        )
        courier = CourierIdentity(DEMO_COURIER_CARD, "demo courier", "courier")
        matched = desk.match_envelope(tracking_number)
        task = getattr(matched, "task", None)
        if task is None:
            raise JourneyWorldError(f"the terminal has no delivery task for {tracking_number}")
        slot = desk.reserve(task, task.suggested_size, courier)
        if slot is None:
            raise JourneyWorldError("no free compartment for the result")
        outcome = desk.open_for_load(slot, courier)
        if outcome.value != "opened":
            raise JourneyWorldError(f"door {slot.label} did not open for the courier: {outcome}")
        world.act("lockers", "put_item", compartment=slot.compartment)
        world.act("lockers", "close_door", compartment=slot.compartment)
        column = next(c for c in columns if slot.compartment in c.readings())
        _wait_for(
            lambda: column.readings()[slot.compartment].door is DoorState.CLOSED,
            f"the board never reported door {slot.label} closed",
        )
        verdict = desk.confirm_load(task, slot, courier, courier_confirmed=False)
        if verdict != "loaded":
            raise JourneyWorldError(f"the load of {slot.label} was not recorded: {verdict}")
        event = next(
            m.payload
            for m in outbox.messages()
            if m.kind == "event"
            and m.payload.get("type") == "result_loaded"
            and m.payload.get("submission_id") == task.submission_id
        )
        into.submission_id = task.submission_id
        into.tracking_number = tracking_number
        into.compartment = slot.compartment
        into.label = slot.label
        into.pickup_code = str(event["pickup_code"])
        into.pickup_qr = str(event["pickup_qr"])
    finally:
        for column in columns:
            column.stop()
        database.close()


def _wait_for(condition: Callable[[], bool], failure: str) -> None:
    deadline = time.monotonic() + DOOR_READING_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise JourneyWorldError(failure)
        time.sleep(0.05)  # polling a board's readings, not synchronising a test


# -- the journey ---------------------------------------------------------------------------------


def collect_journey(settings: Settings, method: PickupMethod = "qr") -> Journey:
    loaded = LoadedResult()
    hall = HallDesk(settings)

    def set_the_stage(settings: Settings, world: StubWorld) -> None:
        created = hall.submit_on_the_counter()
        hall.approve_and_produce(created["id"])
        load_result_as_courier(settings, world, created["tracking_number"], loaded)

    picked_up = HallPoll(
        "the hall lists the submission as picked up",
        lambda: _status_is(hall, loaded.submission_id, "picked_up"),
        timeout_s=HALL_TIMEOUT_S,
        expected_errors=(JourneyWorldError, StaffClientError),
    )
    prove = citizen_proves(method, loaded)
    return Journey(
        name="collect" if method == "qr" else "collect-code",
        description=(
            "A result already loaded by a courier (staff approved it in the hall, the courier"
            " loaded the envelope through the terminal's services); the citizen touches Collect, "
            + ("scans the QR from the SMS" if method == "qr" else "types the 8-digit code")
            + ", takes the envelope and closes the door; the hall must list it as picked up."
        ),
        idle=IDLE,
        prepare=set_the_stage,
        steps=(
            Step(
                name="attract screen",
                shot="01-attract",
                expect="the attract screen is shown",
                until=showing("attract"),
            ),
            Step(
                name="touch Collect",
                shot="02-pickup-start",
                expect="the pickup screen offers scan, code and card",
                touch="attract/collect_button",
                until=showing("pickup_start"),
            ),
            *prove,
            Step(
                name="take the envelope, close the door",
                shot=f"{len(prove) + 3:02d}-pickup-done",
                expect="the done screen lists the door as collected",
                act=take_and_close(loaded),
                act_says="taking the envelope out of the open compartment and closing its door",
                until=all_of(showing("pickup_done"), done_lists(loaded)),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            Step(
                name="done",
                shot=f"{len(prove) + 4:02d}-attract-again",
                expect="back on the attract screen",
                touch="pickup_done/done_button",
                until=showing("attract"),
            ),
            picked_up.step(
                "the hall knows",
                f"{len(prove) + 5:02d}-hall-picked-up",
                "asking the hall for the submission's status",
            ),
        ),
    )


def collect_by_code_journey(settings: Settings) -> Journey:
    return collect_journey(settings, "code")


def citizen_proves(method: PickupMethod, loaded: LoadedResult) -> tuple[Step, ...]:
    """The steps from the pickup start screen to the open door, by QR or by typed code."""
    door_open = all_of(showing("pickup_door"), door_phase("open"), door_is(loaded))
    if method == "qr":
        return (
            Step(
                name="scan the QR from the SMS",
                shot="03-pickup-door-open",
                expect="the door holding the result is open and the screen names it",
                act=lambda _app, world: world.act("scanner", "scan", code=loaded.pickup_qr),
                act_says="holding the SMS's pickup QR under the scanner",
                until=door_open,
                timeout_s=DEVICE_TIMEOUT_S,
            ),
        )
    return (
        Step(
            name="choose to type the code",
            shot="03-pickup-code",
            expect="the keypad for the 8-digit code is shown",
            touch="pickup_start/type_code_button",
            until=showing("pickup_code"),
        ),
        Step(
            name="type the code",
            shot="04-pickup-code-typed",
            expect="eight digits are typed and the code can be checked",
            touches=code_keys(loaded),
            until=code_complete(),
        ),
        Step(
            name="check the code",
            shot="05-pickup-door-open",
            expect="the door holding the result is open and the screen names it",
            touch="pickup_code/submit_button",
            until=door_open,
            timeout_s=DEVICE_TIMEOUT_S,
        ),
    )


def code_keys(loaded: LoadedResult) -> tuple[Touch, ...]:
    """Eight touches; the digits are read when pressed (the code exists only after `prepare`)."""
    return tuple(_code_key(loaded, position) for position in range(8))


def _code_key(loaded: LoadedResult, position: int) -> Touch:
    def find(app: KioskApp) -> Widget | None:
        digit = loaded.pickup_code[position : position + 1]
        return app.widget_at(f"pickup_code/key_{digit}") if digit else None

    return Touch(f"pickup_code/key[digit {position + 1} of the code]", find)


# -- conditions and world actions ----------------------------------------------------------------


def door_phase(phase: str) -> Callable[[KioskApp], bool]:
    def check(app: KioskApp) -> bool:
        screen = app.widget_at("pickup_door")
        return screen is not None and getattr(screen, "phase", "") == phase

    return check


def door_is(loaded: LoadedResult) -> Callable[[KioskApp], bool]:
    """The screen names the compartment the courier loaded, not just any door."""

    def check(app: KioskApp) -> bool:
        screen = app.widget_at("pickup_door")
        return (
            screen is not None
            and int(getattr(screen, "compartment", 0) or 0) == loaded.compartment
            and loaded.label in str(getattr(screen, "compartment_label", ""))
        )

    return check


def code_complete() -> Callable[[KioskApp], bool]:
    def check(app: KioskApp) -> bool:
        screen = app.widget_at("pickup_code")
        return screen is not None and bool(getattr(screen, "can_submit", False))

    return check


def done_lists(loaded: LoadedResult) -> Callable[[KioskApp], bool]:
    def check(app: KioskApp) -> bool:
        screen = app.widget_at("pickup_done")
        if screen is None:
            return False
        lines = str(getattr(screen, "lines", ""))
        return bool(getattr(screen, "all_taken", False)) and loaded.label in lines

    return check


def take_and_close(loaded: LoadedResult) -> Callable[[KioskApp, StubWorld], None]:
    def act(_app: KioskApp, world: StubWorld) -> None:
        world.act("lockers", "remove_item", compartment=loaded.compartment)
        world.act("lockers", "close_door", compartment=loaded.compartment)

    return act


def _status_is(hall: HallDesk, submission_id: str, wanted: str) -> tuple[bool, str]:
    status = hall.status_of(submission_id)
    return status == wanted, f"status {status!r}"
