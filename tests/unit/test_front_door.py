"""The attract-screen router: what a card or a scanned code means when nobody pressed anything."""

from __future__ import annotations

import hashlib

import pytest

from kiosk.front_door import (
    CourierSignIn,
    FrontDoor,
    NothingWaiting,
    NotOurCode,
    PickupByIdCard,
    PickupByQr,
    Waiting,
    badge_card_id,
    id_number_sha256,
)
from kiosk.ports.identity import Identity

COURIER_ID = "110105198001010011"
CITIZEN_ID = "11010519491231002X"


def person(id_number: str) -> Identity:
    return Identity(name="王五", id_number=id_number, source="id_card")


def router(waiting: Waiting = "none") -> tuple[FrontDoor, list[str]]:
    asked: list[str] = []
    roster = {id_number_sha256(COURIER_ID): "C-0001"}

    def results(id_number: str) -> Waiting:
        asked.append(id_number)
        return waiting

    return FrontDoor(roster.get, results), asked


def test_a_badge_is_a_courier_sign_in() -> None:
    door, _ = router()
    assert door.scanned("GZCR1.C-0001") == CourierSignIn("C-0001", "badge")
    assert door.scanned("  GZCR1.C-0001\r\n") == CourierSignIn("C-0001", "badge")


@pytest.mark.parametrize("text", ["GZCR1.", "GZCR1.C 0001", "GZCR1.\x00"])
def test_a_damaged_badge_is_not_ours(text: str) -> None:
    door, _ = router()
    assert badge_card_id(text) is None
    assert door.scanned(text) == NotOurCode()


def test_a_pickup_qr_goes_to_pickup_unchecked() -> None:
    door, _ = router()
    route = door.scanned("GZPK1.abc.12345678.1.sig")
    assert route == PickupByQr("GZPK1.abc.12345678.1.sig")
    assert "12345678" not in repr(route)


@pytest.mark.parametrize("text", ["6901234567892", "https://example.org", "", "12345678"])
def test_other_codes_are_not_ours(text: str) -> None:
    door, _ = router()
    assert door.scanned(text) == NotOurCode()


def test_a_courier_id_card_signs_the_courier_in_without_looking_at_results() -> None:
    door, asked = router("waiting")
    assert door.card(person(COURIER_ID.lower())) == CourierSignIn("C-0001", "id_card")
    assert asked == []


def test_a_citizen_card_with_results_waiting_is_a_pickup() -> None:
    door, asked = router("waiting")
    identity = person(CITIZEN_ID)
    assert door.card(identity) == PickupByIdCard(identity)
    assert asked == [CITIZEN_ID]


@pytest.mark.parametrize(("waiting", "why"), [("none", "none"), ("expired", "expired")])
def test_a_citizen_card_with_nothing_waiting_gets_a_sentence(waiting: Waiting, why: str) -> None:
    door, _ = router(waiting)
    assert door.card(person(CITIZEN_ID)) == NothingWaiting(why)  # type: ignore[arg-type]


def test_the_id_hash_is_the_halls_form() -> None:
    expected = hashlib.sha256(CITIZEN_ID.upper().encode()).hexdigest()
    assert id_number_sha256(CITIZEN_ID.lower()) == expected


def test_the_dispatch_routes_only_when_the_terminal_makes_way() -> None:
    from kiosk.front_door import FrontDoorDispatch
    from kiosk.ports.camera import CodeScanned
    from kiosk.ports.identity import CardPlaced

    door, _ = router("waiting")
    free = [False]
    asked: list[int] = []
    started: list[object] = []
    couriers: list[CourierSignIn] = []

    def make_way() -> bool:
        asked.append(1)
        return free[0]

    dispatch = FrontDoorDispatch(
        door,
        worker=lambda job: job(),
        post=lambda fn: fn(),
        make_way=make_way,
        start_pickup=started.append,
        sign_in_courier=couriers.append,
    )
    badge = CodeScanned("QRCode", "GZCR1.C-0001")
    dispatch.handle(badge)
    dispatch.handle(CardPlaced(person(CITIZEN_ID)))
    assert (started, couriers) == ([], [])  # a journey holds the terminal: nothing starts
    free[0] = True
    dispatch.handle(badge)
    card = CardPlaced(person(CITIZEN_ID))
    dispatch.handle(card)
    assert couriers == [CourierSignIn("C-0001", "badge")]
    assert started == [card]
    assert len(asked) == 5  # a card asks again when its route comes back from the worker
