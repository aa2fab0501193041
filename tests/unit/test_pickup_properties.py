"""Property test over random load / code / QR / card / time sequences at one terminal.

After every step: no door was opened for a proof (code, QR, card) that does not own the parcel
behind it, and no compartment holds two stored parcels. `PICKUP_EXAMPLES=500` searches longer.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.compartments import applicant_id_sha256
from kiosk.pickup import view_models as vm
from kiosk.pickup.tokens import PickupQrSigner
from kiosk.ports.camera import CodeScanned
from kiosk.ports.identity import CardPlaced, Identity
from kiosk.ports.lockers import DoorClosed, DoorState
from tests.support.pickup_world import Journey, Loaded, PickupWorld, build_pickup_world

CODES = ("11111111", "22222222", "33333333", "01234567")
PEOPLE = ("11010519491231002X", "440101199001011234", "")
EXAMPLES = int(os.environ.get("PICKUP_EXAMPLES", "30"))

operation = st.one_of(
    st.tuples(st.just("load"), st.integers(0, 3), st.integers(0, 2), st.integers(1, 9)),
    st.tuples(st.just("code"), st.integers(0, 4), st.booleans(), st.booleans()),
    st.tuples(st.just("qr"), st.integers(0, 8), st.sampled_from(["ok", "forged", "swap"])),
    st.tuples(st.just("card"), st.integers(0, 1), st.booleans(), st.booleans()),
    st.tuples(st.just("days"), st.integers(1, 4)),
)


class Model:
    def __init__(self, world: PickupWorld) -> None:
        self.world = world
        self.loaded: list[tuple[Loaded, str, object]] = []  # parcel, id number, expiry

    def owned_by(self, proof: tuple[str, str]) -> set[int]:
        """Compartments a proof may open: stored, unexpired parcels that proof names."""
        kind, value = proof
        now = self.world.clock()
        allowed = set()
        for parcel, id_number, expires in self.loaded:
            stored = self.world.service.parcel(parcel.parcel_id)
            if stored.status.value != "stored" or expires <= now:  # type: ignore[operator]
                continue
            if (
                (kind == "code" and parcel.code == value)
                or (kind == "qr" and parcel.parcel_id == value)
                or (kind == "card" and id_number and applicant_id_sha256(id_number) == value)
            ):
                allowed.add(parcel.compartment)
        return allowed


def unlock_count(world: PickupWorld) -> int:
    return len(world.column_a.unlocks()) + len(world.column_b.unlocks())


def new_unlocks(world: PickupWorld, since: tuple[int, int]) -> set[int]:
    return set(world.column_a.unlocks()[since[0] :]) | set(world.column_b.unlocks()[since[1] :])


def finish_doors(journey: Journey, take: bool, answer_yes: bool) -> None:
    """Whatever doors open now: take or leave, close, answer; until the journey settles."""
    world = journey.world
    for _ in range(12):
        view = journey.view
        if view.step is not vm.PickupStep.DOOR:
            break
        body = view.body
        assert isinstance(body, vm.DoorView)
        number = body.compartment
        column = world.column_of(number)
        if body.phase == "open":
            if take:
                column.take_item(number)
            column.close_by_hand(number)
            journey.runtime.handle(DoorClosed(number))
        elif body.phase == "ask_taken":
            journey.runtime.send(vm.ConfirmTaken() if answer_yes else vm.OpenAgain())
            if "LeaveIt" in view.accepts and not answer_yes:
                journey.runtime.send(vm.LeaveIt())
        elif body.phase == "still_inside":
            journey.runtime.send(vm.OpenAgain() if not take else vm.LeaveIt())
        else:
            journey.advance(2)
        journey.drain()
    else:
        journey.advance(400)  # give up waiting: the flow's own timers end it
    if journey.runtime.active:
        journey.runtime.abandon()
        journey.drain()


def check_invariants(world: PickupWorld) -> None:
    with world.database.snapshot() as view:
        doubled = view.fetch_all(
            "SELECT compartment FROM parcels WHERE status = 'stored' "
            "GROUP BY compartment HAVING COUNT(*) > 1"
        )
        free_holding = view.fetch_value(
            "SELECT COUNT(*) FROM parcels p JOIN compartments c ON c.number = p.compartment "
            "WHERE p.status = 'stored' AND c.state IN ('free', 'reserved')"
        )
    assert not doubled
    assert free_holding == 0


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(operation, min_size=1, max_size=14))
def test_no_door_opens_for_a_proof_that_does_not_own_it(ops: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        world = build_pickup_world(Path(folder) / "terminal.sqlite3")
        try:
            run(world, ops)
        finally:
            world.close()


def run(world: PickupWorld, ops: list[tuple[object, ...]]) -> None:
    model = Model(world)
    foreign = PickupQrSigner(b"another terminal's key.........!")
    for op in ops:
        kind = op[0]
        if kind == "load":
            _, code_i, person_i, days = op
            person = PEOPLE[int(str(person_i))]
            loaded = world.load_result(
                CODES[int(str(code_i))], id_number=person or None, keep_days=int(str(days))
            )
            if loaded is not None:
                expires = world.clock() + timedelta(days=int(str(days)))
                model.loaded.append((loaded, person, expires))
            check_invariants(world)
            continue
        if kind == "days":
            world.clock.advance(int(str(op[1])) * 86400)
            continue
        journey = Journey(world)
        before = (len(world.column_a.unlocks()), len(world.column_b.unlocks()))
        journey.runtime.start()
        journey.drain()
        take, answer = True, True
        if kind == "code":
            _, code_i, take, answer = op
            code = CODES[int(str(code_i))] if int(str(code_i)) < len(CODES) else "98765432"
            proof = ("code", code)
            journey.runtime.send(vm.TypeCode())
            for digit in code:
                journey.runtime.send(vm.PressDigit(digit))
            journey.runtime.send(vm.SubmitCode())
        elif kind == "qr":
            _, index, how = op
            if not model.loaded:
                continue
            parcel, _, expires = model.loaded[int(str(index)) % len(model.loaded)]
            other = model.loaded[(int(str(index)) + 1) % len(model.loaded)][0]
            if how == "forged":
                payload = foreign.sign(parcel.parcel_id, parcel.code, expires)  # type: ignore[arg-type]
            elif how == "swap":  # a real signature, but over another parcel's code
                payload = world.signer().sign(parcel.parcel_id, other.code, expires)  # type: ignore[arg-type]
            else:
                payload = parcel.qr
            allowed_qr = parcel.parcel_id if how != "forged" else "-"
            if how == "swap" and other.code != parcel.code:
                allowed_qr = "-"
            proof = ("qr", allowed_qr)
            journey.runtime.handle(CodeScanned("QRCode", payload))
        else:
            _, person_i, take, answer = op
            person = PEOPLE[int(str(person_i))]
            proof = ("card", applicant_id_sha256(person))
            journey.runtime.handle(CardPlaced(Identity("某人", person, "id_card")))
        journey.drain()
        allowed = model.owned_by(proof)
        opened_now = new_unlocks(world, before)
        finish_doors(journey, bool(take), bool(answer))
        opened = new_unlocks(world, before)
        assert opened_now <= allowed, (proof, opened_now, allowed)
        assert opened <= allowed, (proof, opened, allowed)
        for number in opened:
            assert world.column_of(number).doors[number] in (DoorState.CLOSED, DoorState.OPEN)
        check_invariants(world)
