"""What a card or a scanned code means when it arrives at the attract screen.

Nobody has pressed anything yet, so the terminal must guess the person's purpose from the object
alone. One small pure router decides, so the rule is written once and tested once, and the
pickup and courier journeys never argue over an event:

* a badge text ``GZCR1.<card_id>`` → courier sign-in (badge route);
* a pickup QR ``GZPK1.…`` → pickup by QR (its signature is checked by the pickup journey);
* an ID card → courier sign-in if the roster knows that ID number's hash (couriers carry an ID
  card too), else pickup by ID card if results wait for that person, else a plain sentence
  ("nothing is waiting for you here; to apply, tap Apply") — the card is NOT taken as the start
  of an application, because a citizen who came to collect and is sent into the apply journey
  is lost;
* anything else → "this code is not one of ours".

The roster and the stored results are asked through injected callables: the router itself does
no I/O, and the caller decides on which thread the lookups run (a worker, never the UI thread).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from kiosk.pickup.tokens import looks_like_pickup_qr
from kiosk.ports.identity import Identity

COURIER_BADGE_PREFIX = "GZCR1."

Waiting = Literal["waiting", "expired", "none"]


@dataclass(frozen=True)
class CourierSignIn:
    """A courier's badge or ID card: the courier journey asks for the PIN."""

    card_id: str
    via: Literal["badge", "id_card"]


@dataclass(frozen=True)
class PickupByQr:
    payload: str = field(repr=False)


@dataclass(frozen=True)
class PickupByIdCard:
    identity: Identity


@dataclass(frozen=True)
class NothingWaiting:
    """A citizen's card with no result here; `expired`: one was here but went back."""

    why: Literal["none", "expired"]


@dataclass(frozen=True)
class NotOurCode:
    """A barcode the terminal does not use (a product, a ticket, a damaged badge)."""


FrontDoorRoute = CourierSignIn | PickupByQr | PickupByIdCard | NothingWaiting | NotOurCode


def id_number_sha256(id_number: str) -> str:
    """The roster's and the hall's form of an ID number: hex SHA-256 of the upper-case number."""
    return hashlib.sha256(id_number.strip().upper().encode("utf-8")).hexdigest()


def badge_card_id(text: str) -> str | None:
    """The card id of a courier badge text, or None if it is not one."""
    stripped = text.strip()
    if not stripped.startswith(COURIER_BADGE_PREFIX):
        return None
    card_id = stripped[len(COURIER_BADGE_PREFIX) :]
    if not card_id or not card_id.isprintable() or any(c.isspace() for c in card_id):
        return None
    return card_id


class FrontDoor:
    """Routes cards and scans that arrive while nobody is being served."""

    def __init__(
        self,
        courier_for_id_hash: Callable[[str], str | None],
        results_waiting_for: Callable[[str], Waiting],
    ) -> None:
        """`courier_for_id_hash(sha256_hex)` → the roster card id or None;
        `results_waiting_for(id_number)` → whether results wait for that person here."""
        self._courier_for_id_hash = courier_for_id_hash
        self._results_waiting_for = results_waiting_for

    def scanned(self, text: str) -> FrontDoorRoute:
        card_id = badge_card_id(text)
        if card_id is not None:
            return CourierSignIn(card_id, "badge")
        if looks_like_pickup_qr(text):
            return PickupByQr(text.strip())
        return NotOurCode()

    def card(self, identity: Identity) -> FrontDoorRoute:
        courier = self._courier_for_id_hash(id_number_sha256(identity.id_number))
        if courier is not None:
            return CourierSignIn(courier, "id_card")
        waiting = self._results_waiting_for(identity.id_number)
        if waiting == "waiting":
            return PickupByIdCard(identity)
        return NothingWaiting("expired" if waiting == "expired" else "none")


class FrontDoorDispatch:
    """Feeds the router the attract screen's cards and scans, and starts the journey it names.

    Only when `make_way()` says the terminal is free: a journey in progress owns its own events,
    except its closing screen (the thank-you, the pickup summary, a refused badge), which
    `make_way()` ends at once, so the next person's card or scan is not ignored while it counts
    down.
    A card's route needs the roster and the stored results (SQLite), so it is worked out on
    `worker` and the journey is started on the UI thread through `post`. A scan's route is pure.
    `NothingWaiting` and `NotOurCode` also start the pickup journey, whose first screen says the
    plain sentence ("nothing is waiting for you here…", "that is not a pickup code…") and offers
    the way back; the attract screen itself shows no messages.
    """

    def __init__(
        self,
        door: FrontDoor,
        *,
        worker: Callable[[Callable[[], None]], object],
        post: Callable[[Callable[[], None]], None],
        make_way: Callable[[], bool],
        start_pickup: Callable[[object], None],
        sign_in_courier: Callable[[CourierSignIn], None] | None = None,
    ) -> None:
        self._door = door
        self._worker = worker
        self._post = post
        self._make_way = make_way
        self._start_pickup = start_pickup
        self._sign_in_courier = sign_in_courier

    def handle(self, event: object) -> None:
        from kiosk.ports.camera import CodeScanned
        from kiosk.ports.identity import CardPlaced

        if not self._make_way():
            return
        if isinstance(event, CodeScanned):
            self._go(self._door.scanned(event.text), event)
        elif isinstance(event, CardPlaced) and event.identity.source == "id_card":

            def route() -> None:
                chosen = self._door.card(event.identity)
                self._post(lambda: self._go(chosen, event) if self._make_way() else None)

            self._worker(route)

    def _go(self, route: FrontDoorRoute, event: object) -> None:
        if isinstance(route, CourierSignIn):
            if self._sign_in_courier is not None:
                self._sign_in_courier(route)
            return
        self._start_pickup(event)
