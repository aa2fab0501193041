"""What must hold after a kill and the start-up that follows it (the loop crash test's invariants).

Run inside the kiosk's next life, right after its own `CompartmentService.start_up()` over the
serial column and before any flow moves, against a snapshot of the world the parent keeps
(`tests/support/loop_world.py`): the door truth of the audit trail against the unlock frames the
board received, and the terminal's parcels against the things lying in the compartments.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from kiosk.compartments import CompartmentService, CompartmentState, Parcel, ParcelKind, subject_of
from kiosk.storage import DOOR_OPEN, AuditLog
from tests.support.loop_world import loop_specs


@dataclass(frozen=True)
class WorldSnapshot:
    places: dict[str, str]  # item label -> place
    unlock_frames: Counter[int]  # lock number -> frames received

    @classmethod
    def from_reply(cls, reply: dict[str, Any]) -> WorldSnapshot:
        frames = Counter({int(lock): int(count) for lock, count in reply["unlocks"].items()})
        return cls(dict(reply["places"]), frames)

    def inside(self, number: int) -> list[str]:
        return sorted(k for k, v in self.places.items() if v == f"compartment:{number}")


def parcel_label(parcel: Parcel) -> str:
    """The name the world gives the thing this parcel record stands for."""
    if parcel.kind is ParcelKind.MATERIALS:
        return f"materials:{parcel.submission_id}"
    return f"result:{parcel.tracking_number}"


def door_truth(audit: AuditLog, world: WorldSnapshot, kills: int) -> list[str]:
    """No unlock frame without its committed intent; every intent settled after start-up.

    A kill between an intent's commit and its pulse leaves an intent with no frame, so intents
    may exceed frames by at most the number of kills.
    """
    findings = []
    intents: Counter[int] = Counter()
    outcomes: Counter[int] = Counter()
    for spec in loop_specs():
        for record in audit.for_subject(subject_of(spec.number), limit=1_000_000):
            if record.action == DOOR_OPEN:
                (outcomes if record.intent_id is not None else intents)[spec.number] += 1
    for spec in loop_specs():
        frames = world.unlock_frames[spec.lock]
        if frames > intents[spec.number]:
            findings.append(
                f"compartment {spec.number} got {frames} unlock frames but only "
                f"{intents[spec.number]} door.open intents: a door opened without a record"
            )
    unpulsed = sum(intents.values()) - sum(world.unlock_frames.values())
    if unpulsed > kills:
        findings.append(f"{unpulsed} intents without a pulse after only {kills} kills")
    if outcomes != intents:
        findings.append(f"door.open intents {dict(intents)} but outcomes {dict(outcomes)}")
    pending = [e for e in audit.pending_intents() if e.action == DOOR_OPEN]
    if pending:
        findings.append(f"{len(pending)} door.open intents still pending after start-up")
    return findings


def parcel_truth(service: CompartmentService, world: WorldSnapshot) -> list[str]:
    """Every parcel once, where the world has it — or staff asked to check that compartment.

    "Asked to check" is out of service or an attention flag: the terminal's documented answer
    when it cannot know (docs/compartments.md, rules 6 and 7). Anything else is a lost, an
    invented or a duplicated parcel.
    """
    findings = []
    stored = service.stored_parcels()
    for label, count in Counter(parcel_label(p) for p in stored).items():
        if count > 1:
            findings.append(f"{label} is stored {count} times (duplicated)")
    for compartment in service.compartments():
        number = compartment.number
        held = [p for p in stored if p.compartment == number]
        unsure = compartment.state is CompartmentState.OUT_OF_SERVICE or bool(compartment.attention)
        if len(held) > 1:
            findings.append(f"compartment {number} holds {len(held)} stored parcels")
        if held and compartment.state in (CompartmentState.FREE, CompartmentState.RESERVED):
            findings.append(f"compartment {number} is {compartment.state.value} yet holds a parcel")
        inside = world.inside(number)
        if len(inside) > 1:
            findings.append(f"compartment {number} physically holds {inside}: it was reused")
        if unsure:
            continue
        for parcel in held:
            label = parcel_label(parcel)
            if label not in inside:
                findings.append(
                    f"compartment {number} is said to hold {label}, which is at "
                    f"{world.places.get(label)}, and nobody is asked to check (invented)"
                )
        known = {parcel_label(p) for p in held}
        for label in inside:
            if label not in known:
                findings.append(
                    f"{label} lies in compartment {number} ({compartment.state.value}) but the "
                    "terminal has no record of it and nobody is asked to check (lost)"
                )
    return findings
