"""Journey `agent`: a village agent applies at the terminal on behalf of a villager.

1. Once the terminal has the hall's roster, the agent shows the badge to the scanner at the
   attract screen and types the PIN; the menu offers "apply for a citizen" (agents only).
2. The villager's ID card goes on the reader; from there the `apply` journey's steps run as a
   citizen's would: the item, the form, two pages under the camera, the papers into the locker.
3. The review and the receipt on screen name the agent; the thank-you ends the session.
4. The hall lists the submission with the agent's card and name beside its e-copies and deposit.

Everything on screen is done by touches; the badge, the card, the pages and the door go through
the stubs' control server.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from backend_client.caches import DOC_ROSTER
from kiosk.apply.effects import ApplyingAgent
from kiosk.apply.receipt import agent_sentence
from kiosk.config import Settings
from kiosk.i18n import LANGUAGES
from service_hall.seed import DEMO_AGENT_CARD, DEMO_AGENT_NAME
from service_hall.testing import AGENT_PIN

from .apply import ITEM_ID, apply_journey, submission_complete, submission_summary
from .checks import all_of, showing
from .collect import DEVICE_TIMEOUT_S, HALL_TIMEOUT_S, IDLE, HallDesk
from .full_loop import courier_view, type_the_pin
from .hall_poll import HallPoll
from .script import Journey, JourneyWorldError, Step
from .terminal_cache import cached_hall_document

if TYPE_CHECKING:
    from screens.app import KioskApp

BADGE = f"GZCR1.{DEMO_AGENT_CARD}"
AGENT = ApplyingAgent(DEMO_AGENT_CARD, DEMO_AGENT_NAME)
# The apply journey's steps from the card on the reader to the thank-you, played as they are.
APPLY_STEPS_FROM = "card on the reader"
APPLY_STEPS_TO = "finish"


def agent_journey(settings: Settings) -> Journey:
    hall = HallDesk(settings)
    recorded = HallPoll(
        "the hall lists the submission with the agent, its e-copies and the deposit",
        lambda: _agent_recorded(hall),
        timeout_s=HALL_TIMEOUT_S,
        expected_errors=(JourneyWorldError,),
    )
    applying = apply_journey(settings)
    villager = _villager_steps(applying.steps, first_shot=7)
    return Journey(
        name="agent",
        description=(
            "A village agent signs in (badge + PIN) and applies for a villager whose card goes on"
            " the reader: the apply steps, the agent named on the review and the receipt, and the"
            " hall recording the agent on the submission."
        ),
        idle=IDLE,
        steps=(
            applying.steps[0],  # the attract screen
            Step(
                name="the terminal has the roster",
                shot="02-attract-roster-cached",
                expect="the hall's signed roster, with the agent, is cached on the terminal",
                until=lambda _app: agent_on_cached_roster(settings),
                timeout_s=HALL_TIMEOUT_S,
            ),
            Step(
                name="agent badge",
                shot="03-agent-pin",
                expect="the PIN keypad asks for the agent's PIN",
                act=lambda _app, world: world.act("scanner", "scan", code=BADGE),
                act_says="the village agent holds the badge under the scanner",
                until=showing("courier_pin"),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            type_the_pin("04-agent-pin-typed", AGENT_PIN),
            Step(
                name="sign in",
                shot="05-agent-menu",
                expect="the menu offers to apply for a citizen",
                touch="courier_pin/submit_button",
                until=courier_view(
                    "courier_menu", lambda v: any(e.intent == "ApplyForCitizen" for e in v.menu)
                ),
                timeout_s=DEVICE_TIMEOUT_S,
            ),
            Step(
                name="apply for a citizen",
                shot="06-identify",
                expect="the identify screen asks for the villager's card",
                touch="courier_menu/apply_button",
                until=showing("identify"),
            ),
            *villager,
            recorded.step(
                "the hall records the agent",
                f"{7 + len(villager):02d}-hall-has-it",
                "asking the hall for this kiosk's submissions",
            ),
        ),
    )


def agent_on_cached_roster(settings: Settings) -> bool:
    """A badge is checked against the roster the terminal cached from the hall; a terminal
    just started has none yet and says so, so the agent comes once it is there."""
    cached = cached_hall_document(settings, DOC_ROSTER) or {}
    couriers = cached.get("roster", {}).get("couriers", [])
    return any(entry.get("card_id") == DEMO_AGENT_CARD for entry in couriers)


def _villager_steps(steps: tuple[Step, ...], first_shot: int) -> tuple[Step, ...]:
    """The apply journey's steps for the villager, renumbered, with the agent's line checked on
    the review and on the receipt."""
    names = [step.name for step in steps]
    chosen = steps[names.index(APPLY_STEPS_FROM) : names.index(APPLY_STEPS_TO) + 1]
    played = []
    for index, step in enumerate(chosen, start=first_shot):
        shot = f"{index:02d}-{step.shot[3:]}"
        if step.name == "go on to the review":
            step = replace(
                step,
                expect=f"{step.expect}, and names the agent",
                until=all_of(step.until, review_names_the_agent),
            )
        elif step.name == "papers in, door closed":
            step = replace(
                step,
                expect=f"{step.expect}; the receipt names the agent",
                until=all_of(step.until, receipt_names_the_agent),
            )
        played.append(replace(step, shot=shot))
    return tuple(played)


def _says_the_agent(values: list[str]) -> bool:
    """The product's own wording of the agent line, in whichever language is showing."""
    wanted = {agent_sentence(AGENT, language) for language in LANGUAGES}
    return any(value in wanted for value in values)


def review_names_the_agent(app: KioskApp) -> bool:
    rows = app.widget_at("review/lines")
    values = [str(getattr(row, "value", "")) for row in (rows.children if rows else [])]
    return _says_the_agent(values)


def receipt_names_the_agent(app: KioskApp) -> bool:
    screen = app.widget_at("receipt")
    lines: list[Any] = list(getattr(screen, "lines", []))
    return _says_the_agent([str(value) for _label, value in lines])


def _agent_recorded(hall: HallDesk) -> tuple[bool, str]:
    listed = hall.kiosk_get("/api/v1/submissions").get("submissions", [])
    for submission in listed:
        if (
            submission_complete(submission, ITEM_ID)
            and submission.get("agent_card_id") == DEMO_AGENT_CARD
            and submission.get("agent_name") == DEMO_AGENT_NAME
        ):
            return True, f"{submission.get('tracking_number')} submitted by {DEMO_AGENT_NAME}"
    seen = [(submission_summary(s), s.get("agent_card_id")) for s in listed]
    return False, f"no complete submission by {DEMO_AGENT_CARD} yet: {seen}"
