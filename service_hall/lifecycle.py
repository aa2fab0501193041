"""The submission lifecycle as one pure table (h11 style): every legal step is listed here.

Kiosk events, staff actions and the CLI all go through `next_status`, so an illegal step is
refused in one place with one sentence, whoever asked for it.
"""

from __future__ import annotations

from enum import StrEnum

from .errors import IllegalTransition


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    DEPOSITED = "deposited"
    COLLECTED = "collected"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    RESULT_READY = "result_ready"
    PICKED_UP = "picked_up"
    RETURNED = "returned"


class Step(StrEnum):
    """What happened; names are past tense because each one is recorded as an event."""

    SUBMITTED = "submitted"
    DEPOSITED = "deposited"
    COLLECTED = "collected"
    REVIEW_STARTED = "review_started"
    APPROVED = "approved"
    REJECTED = "rejected"
    RESULT_PRODUCED = "result_produced"
    PICKED_UP = "picked_up"
    RETURNED = "returned"


# (current status, step) -> new status. A submission whose materials all travel as e-copies or
# e-licences has no paper parcel, so it may go from submitted straight to review.
TRANSITIONS: dict[tuple[Status, Step], Status] = {
    (Status.DRAFT, Step.SUBMITTED): Status.SUBMITTED,
    (Status.SUBMITTED, Step.DEPOSITED): Status.DEPOSITED,
    (Status.DEPOSITED, Step.COLLECTED): Status.COLLECTED,
    (Status.COLLECTED, Step.REVIEW_STARTED): Status.IN_REVIEW,
    (Status.SUBMITTED, Step.REVIEW_STARTED): Status.IN_REVIEW,
    (Status.IN_REVIEW, Step.APPROVED): Status.APPROVED,
    (Status.IN_REVIEW, Step.REJECTED): Status.REJECTED,
    (Status.APPROVED, Step.RESULT_PRODUCED): Status.RESULT_READY,
    (Status.REJECTED, Step.RESULT_PRODUCED): Status.RESULT_READY,
    (Status.RESULT_READY, Step.PICKED_UP): Status.PICKED_UP,
    (Status.RESULT_READY, Step.RETURNED): Status.RETURNED,
}

FINAL_STATUSES = frozenset({Status.PICKED_UP, Status.RETURNED})


def next_status(current: Status, step: Step) -> Status:
    """The status after `step`, or IllegalTransition naming what would have been needed."""
    try:
        return TRANSITIONS[(current, step)]
    except KeyError:
        allowed = sorted(s.value for (c, s) in TRANSITIONS if c is current)
        hint = f"; from '{current.value}' only {', '.join(allowed)} may follow" if allowed else ""
        raise IllegalTransition(
            f"A submission in state '{current.value}' cannot be '{step.value}'{hint}."
        ) from None


def allowed_steps(current: Status) -> list[Step]:
    return [step for (status, step) in TRANSITIONS if status is current]
