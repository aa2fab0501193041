"""Journey `apply`: a citizen applies for an item with paper originals and e-copies, end to end.

The card goes on the reader, the pages under the camera and the papers into the compartment
through the firmware stubs' control server, as the hardware and the citizen would; everything on
the screen is done by touches, one per key on the keypads. The last step checks that the outbox
reached the private service hall: the submission with its e-copies and the deposit event.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from kiosk.config import IdleSettings, Settings
from service_hall.seed import CITIZEN_ZHANG

from .checks import all_of, showing
from .hall_poll import HallPoll
from .script import Action, Journey, JourneyWorldError, Step, StubWorld, Touch

if TYPE_CHECKING:
    from kivy.uix.widget import Widget

    from screens.app import KioskApp

# The hall's sample citizen with e-licences on file (service_hall.seed.CITIZEN_ZHANG); her card.
CITIZEN_CARD: dict[str, str] = {
    "name": "张秀英",
    "gender": "female",
    "nation_code": "01",
    "birth_date": "1985-03-12",
    "address": "湖南省慈利县零阳街道朝阳路12号",
    "id_number": CITIZEN_ZHANG,
    "authority": "慈利县公安局",
    "valid_from": "2015-06-01",
    "valid_to": "2035-06-01",
}
ITEM_ID = "ss-unemployment-benefit"  # termination proof on paper; social-security card e-copy
ITEM_DEPARTMENT = "social-security"
EMPLOYER_KEYS = ("C", "I", "L", "I")  # typed on the pinyin keyboard, one touch per key
CONTRIBUTION_YEARS_KEYS = ("6",)
PAGE_TITLES = ("社会保障卡 正面 / front", "社会保障卡 背面 / back")

# A loaded two-core machine may take seconds per step; nobody must time out while the script
# thinks. The flow's own timers (door reminders, receipt countdown) are the flow's business.
IDLE = IdleSettings(warn_after_s=600.0, countdown_s=60.0)
DEVICE_TIMEOUT_S = 30.0
HALL_TIMEOUT_S = 20.0


def apply_journey(settings: Settings) -> Journey:
    hall = hall_watch(settings.hall.url, settings.hall.token, ITEM_ID)
    receipt = ReceiptCopy()
    return Journey(
        name="apply",
        description=(
            f"Card on the reader, choose {ITEM_ID}, fill the form by keypad touches, photograph"
            " two pages, hand in the paper original at the locker, print the receipt, finish;"
            " then the hall must list the submission with its e-copies and the deposit."
        ),
        idle=IDLE,
        steps=(
            Step(
                name="attract screen",
                shot="01-attract",
                expect="the attract screen is shown",
                until=showing("attract"),
            ),
            Step(
                name="touch Apply",
                shot="02-identify",
                expect="the identify screen asks for the card",
                touch="attract/apply_button",
                until=showing("identify"),
            ),
            Step(
                name="card on the reader",
                shot="03-choose",
                expect="the card was read: the choose screen names the citizen",
                act=lambda _app, world: world.act("idcard", "put_card", **CITIZEN_CARD),
                act_says="laying Zhang Xiuying's ID card on the reader",
                until=all_of(showing("choose"), applicant_shown("choose")),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            Step(
                name="browse by department",
                shot="04-choose-departments",
                expect="the departments are listed",
                touch=tab_button("departments"),
                until=row_listed("department", ITEM_DEPARTMENT),
            ),
            Step(
                name="open the social-security department",
                shot="05-choose-social-security",
                expect=f"{ITEM_ID} is listed",
                touch=choice_row("department", ITEM_DEPARTMENT),
                until=row_listed("item", ITEM_ID),
            ),
            Step(
                name="choose the item",
                shot="06-guide",
                expect=f"the guide of {ITEM_ID} is shown",
                touch=choice_row("item", ITEM_ID),
                until=showing("guide"),
            ),
            Step(
                name="start the application",
                shot="07-form",
                expect="the form is shown with its keypad",
                touch="guide/start_button",
                until=showing("form"),
            ),
            Step(
                name="type the last employer",
                shot="08-form-employer",
                expect="the employer field reads CILI",
                touches=tuple(keypad_key(code) for code in EMPLOYER_KEYS),
                until=field_reads("last_employer", "".join(EMPLOYER_KEYS)),
            ),
            Step(
                name="pick the date employment ended",
                shot="09-form-date",
                expect="the date field has a date",
                touches=(form_row("employment_ended_on"), date_key("month", "down")),
                until=field_filled("employment_ended_on"),
            ),
            Step(
                name="type the years of contributions",
                shot="10-form-years",
                expect="the form can go on",
                touches=(
                    form_row("contribution_years"),
                    *(keypad_key(code) for code in CONTRIBUTION_YEARS_KEYS),
                ),
                until=field_reads("contribution_years", "".join(CONTRIBUTION_YEARS_KEYS)),
            ),
            Step(
                name="the phone on file is filled in",
                shot="11-form-complete",
                expect="the hall's phone on file pre-fills the phone and the form can go on",
                until=screen_flag("form", "can_continue"),
                timeout_s=20.0,
            ),
            Step(
                name="go on to the e-copies",
                shot="12-materials",
                expect="the materials screen waits for a page",
                touch="form/continue_button",
                until=all_of(showing("materials"), screen_flag("materials", "show_preview")),
            ),
            Step(
                name="first page under the camera",
                shot="13-materials-page-1",
                expect="one page was captured",
                act=place_page(PAGE_TITLES[0], seed=1),
                act_says="laying the social-security card's front under the camera",
                until=pages_captured(1),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            Step(
                name="second page under the camera",
                shot="14-materials-page-2",
                expect="both pages were captured and the citizen may go on",
                act=place_page(PAGE_TITLES[1], seed=2),
                act_says="laying the social-security card's back under the camera",
                until=all_of(pages_captured(2), screen_flag("materials", "can_continue")),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            Step(
                name="go on to the review",
                shot="15-review",
                expect="the review shows the summary and the fee",
                touch="materials/continue_button",
                until=showing("review"),
            ),
            Step(
                name="submit",
                shot="16-hand-in-open",
                expect="a compartment is open for the paper original",
                touch="review/submit_button",
                until=all_of(showing("hand_in"), hand_in_phase("door_open")),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            Step(
                name="papers in, door closed",
                shot="17-receipt",
                expect="the hand-in is recorded and the receipt is printed",
                act=receipt.watching(hand_in_papers),
                act_says="putting the termination proof into the open compartment and closing it",
                until=all_of(showing("receipt"), receipt_status("printed"), receipt.arrived),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            Step(
                name="finish",
                shot="18-finish",
                expect="the thank-you screen is shown",
                touch="receipt/done_button",
                until=showing("finish"),
            ),
            hall.step(
                "the hall has it",
                "19-hall-has-it",
                "asking the hall for this kiosk's submissions",
            ),
        ),
    )


# -- finding widgets drawn from data --------------------------------------------------------------


def _descendants(root: Widget | None) -> Iterator[Widget]:
    if root is None:
        return iter(())
    return iter(root.walk(restrict=True))


def _choice_row(app: KioskApp, kind: str, entry_id: str) -> Widget | None:
    for row in _descendants(app.widget_at("choose/rows")):
        entry = getattr(row, "entry", None)
        if entry is not None and entry.kind == kind and entry.id == entry_id:
            return row
    return None


def choice_row(kind: str, entry_id: str) -> Touch:
    """A row of the choose screen's list (an item, a department, a topic) by its id."""
    return Touch(f"choose/rows/{kind}[{entry_id}]", lambda app: _choice_row(app, kind, entry_id))


def tab_button(tab: str) -> Touch:
    def find(app: KioskApp) -> Widget | None:
        for button in _descendants(app.widget_at("choose/tabs")):
            if getattr(button, "tab", None) == tab:
                return button
        return None

    return Touch(f"choose/tabs/{tab}", find)


def keypad_key(code: str) -> Touch:
    """A key of the keypad docked under the form, by what it types."""

    def find(app: KioskApp) -> Widget | None:
        for widget in _descendants(app.widget_at("form/dock")):
            keys = getattr(widget, "keys", None)
            if isinstance(keys, dict) and code in keys:
                key: Widget = keys[code]
                return key
        return None

    return Touch(f"form/dock/key[{code}]", find)


def date_key(part: str, button: str) -> Touch:
    def find(app: KioskApp) -> Widget | None:
        for widget in _descendants(app.widget_at("form/dock")):
            if type(widget).__name__ == "DatePicker":
                spinner = widget.ids.get(part)
                return None if spinner is None else spinner.ids.get(button)
        return None

    return Touch(f"form/dock/date/{part}/{button}", find)


def form_row(key: str) -> Touch:
    def find(app: KioskApp) -> Widget | None:
        for widget in _descendants(app.widget_at("form/rows")):
            if type(widget).__name__ == "FormFieldRow" and getattr(widget, "key", "") == key:
                return widget
        return None

    return Touch(f"form/rows/row[{key}]", find)


# -- conditions -----------------------------------------------------------------------------------


def row_listed(kind: str, entry_id: str) -> Callable[[KioskApp], bool]:
    return lambda app: _choice_row(app, kind, entry_id) is not None


def applicant_shown(screen: str) -> Callable[[KioskApp], bool]:
    def check(app: KioskApp) -> bool:
        label = app.widget_at(f"{screen}/header")
        text = "" if label is None else str(getattr(label.ids.get("applicant"), "text", ""))
        return CITIZEN_CARD["name"][0] in text

    return check


def _field(app: KioskApp, key: str) -> Any:
    for widget in _descendants(app.widget_at("form/rows")):
        if type(widget).__name__ == "FormFieldRow" and getattr(widget, "key", "") == key:
            return widget
    return None


def field_reads(key: str, value: str) -> Callable[[KioskApp], bool]:
    def check(app: KioskApp) -> bool:
        row = _field(app, key)
        return row is not None and row.display_value == value and not row.error

    return check


def field_filled(key: str) -> Callable[[KioskApp], bool]:
    def check(app: KioskApp) -> bool:
        row = _field(app, key)
        return row is not None and bool(row.display_value) and not row.error

    return check


def screen_flag(screen: str, flag: str) -> Callable[[KioskApp], bool]:
    def check(app: KioskApp) -> bool:
        widget = app.widget_at(screen)
        return widget is not None and bool(getattr(widget, flag, False))

    return check


def pages_captured(count: int) -> Callable[[KioskApp], bool]:
    """Thumbnails on the materials screen: each captured page shows one."""

    def check(app: KioskApp) -> bool:
        shown = [
            widget
            for widget in _descendants(app.widget_at("materials/cards"))
            if getattr(widget, "image_path", "")
        ]
        return len(shown) >= count

    return check


def hand_in_phase(phase: str) -> Callable[[KioskApp], bool]:
    def check(app: KioskApp) -> bool:
        widget = app.widget_at("hand_in")
        return widget is not None and getattr(widget, "phase", "") == phase

    return check


def receipt_status(status: str) -> Callable[[KioskApp], bool]:
    def check(app: KioskApp) -> bool:
        widget = app.widget_at("receipt")
        return widget is not None and getattr(widget, "status", "") == status

    return check


# -- world actions --------------------------------------------------------------------------------


def place_page(title: str, seed: int) -> Callable[[KioskApp, StubWorld], None]:
    def act(_app: KioskApp, world: StubWorld) -> None:
        world.act("camera", "place_page", title=title, seed=seed)

    return act


def hand_in_papers(app: KioskApp, world: StubWorld) -> None:
    """Act as the citizen at the door the screen names: papers in, door shut."""
    screen = app.widget_at("hand_in")
    number = int(getattr(screen, "compartment", 0))
    if number <= 0:
        raise JourneyWorldError("the hand-in screen names no compartment to put the papers in")
    world.act("lockers", "put_item", compartment=number)
    world.act("lockers", "close_door", compartment=number)


class ReceiptCopy:
    """The printer stub renders each job to <out>/receipts/*.png; keep one beside the shots."""

    def __init__(self) -> None:
        self.out_dir: Path | None = None

    def watching(self, action: Action) -> Action:
        def act(app: KioskApp, world: StubWorld) -> None:
            self.out_dir = world.out_dir
            if self.out_dir is not None:
                # The printer stub draws into this folder but does not create it (it drops the
                # picture silently when the folder is missing).
                (self.out_dir / "receipts").mkdir(parents=True, exist_ok=True)
            action(app, world)

        return act

    def arrived(self, _app: KioskApp) -> bool:
        if self.out_dir is None:
            return False
        rendered = sorted((self.out_dir / "receipts").glob("*.png"))
        if not rendered:
            return False
        shutil.copyfile(rendered[-1], self.out_dir / "99-receipt.png")
        return True


def hall_watch(url: str, token: str, item_id: str) -> HallPoll:
    """Polls the hall until it lists the submission with its e-copies and the deposit."""

    def check() -> tuple[bool, str]:
        with httpx.Client(
            base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=5.0
        ) as client:
            answer = client.get("/api/v1/submissions")
            answer.raise_for_status()
            listed = answer.json()["submissions"]
        if any(submission_complete(s, item_id) for s in listed):
            return True, "the hall holds it"
        return False, f"not complete yet: {[submission_summary(s) for s in listed]}"

    return HallPoll(
        "the hall holds the submission, its e-copies and the deposit",
        check,
        timeout_s=HALL_TIMEOUT_S,
        expected_errors=(httpx.HTTPError, ValueError, KeyError),
    )


def submission_summary(submission: dict[str, Any]) -> str:
    steps = [h.get("to_status") for h in submission.get("history", [])]
    pages = len(submission.get("ecopies", []))
    return f"{submission.get('item_ids')} {pages} e-copies, history {steps}"


def submission_complete(submission: dict[str, Any], item_id: str) -> bool:
    deposited = any(h.get("to_status") == "deposited" for h in submission.get("history", []))
    return (
        item_id in submission.get("item_ids", [])
        and len(submission.get("ecopies", [])) >= len(PAGE_TITLES)
        and deposited
    )
