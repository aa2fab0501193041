"""Courier and village-agent sign-in: badge or ID card, then a PIN, checked offline.

Decisions, and why (docs/adr/0017-courier-sign-in-and-tasks.md):

* **The signed roster is the only authority.** backend_client verified its Ed25519 signature
  before caching it, so the terminal can sign couriers in while the hall is unreachable. An
  expired roster still works for `roster_grace_h` (default 72 h): a village terminal whose line is
  down over a long weekend must still be emptied. Beyond that it is refused with a sentence that
  says why — a courier removed from the roster must stop opening doors at some point.
* **PINs are checked against the hall's scrypt format here**, with hashlib only (the format is
  public: docs/hall-api.md). It costs ~50–100 ms, so the runtime calls `check_pin` on a worker.
* **Lockout is per card and per terminal, and persisted** (`courier_pin_guard`, migration 0008):
  `pin_attempts` wrong PINs in a row lock the card for `card_lock_s`. A restart does not lift it.
  A right PIN clears the count. Every refusal and every lock is audited.
* **No PIN, no hash, no ID number is stored or logged.** The audit names the card id (the roster's
  pseudonymous number); the ID card route matches only the SHA-256 the roster carries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from kiosk.ports.hall import Roster, RosterCache, RosterCourier
from kiosk.storage import Actor, ActorKind, AuditLog, Database, Outcome

BADGE_PREFIX = "GZCR1."
PIN_SCHEME = "scrypt"
# scrypt's memory use is 128 * N * r bytes; refuse parameters that would exhaust the terminal
_MAX_SCRYPT_MEMORY = 64 * 1024 * 1024
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)

Role = Literal["courier", "village_agent"]
SignInRoute = Literal["badge", "id_card"]
RefusalReason = Literal["no_roster", "roster_expired", "unknown_card", "card_locked"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def badge_card_id(text: str) -> str | None:
    """The card id a courier badge's barcode names (`GZCR1.<card_id>`), or None if it is none."""
    stripped = text.strip()
    if not stripped.startswith(BADGE_PREFIX):
        return None
    card_id = stripped[len(BADGE_PREFIX) :]
    if not card_id or len(card_id) > 64 or not card_id.isprintable() or " " in card_id:
        return None
    return card_id


def looks_like_badge(text: str) -> bool:
    """Routing only: the text claims to be a courier badge (the roster decides the rest)."""
    return text.strip().startswith(BADGE_PREFIX)


def pin_matches(pin: str, encoded: str) -> bool:
    """Constant-time check of a PIN against the hall's `scrypt$N$r$p$salt$hash`.

    A malformed or absurdly expensive hash never matches: a damaged roster entry must lock nobody
    in and let nobody through.
    """
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != PIN_SCHEME:
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return False
    if n < 2 or n & (n - 1) or r < 1 or p < 1 or not expected:
        return False
    if 128 * n * r * p > _MAX_SCRYPT_MEMORY:
        return False
    try:
        actual = hashlib.scrypt(
            pin.encode("utf-8"),
            salt=salt,
            n=n,
            r=r,
            p=p,
            dklen=len(expected),
            maxmem=_MAX_SCRYPT_MEMORY + 1024 * 1024,
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True)
class CourierIdentity:
    """Who signed in: what the flow, the screens and the audit may know (no PIN hash)."""

    card_id: str
    name: str
    role: Role

    @property
    def is_village_agent(self) -> bool:
        return self.role == "village_agent"


@dataclass(frozen=True)
class PinWanted:
    """The card is known, not locked, and the roster is usable: ask for the PIN."""

    courier: CourierIdentity
    via: SignInRoute


@dataclass(frozen=True)
class SignInRefused:
    """No PIN is asked; `reason` picks the sentence, `locked_until` says until when (locks)."""

    reason: RefusalReason
    card_id: str
    locked_until: datetime | None = None


@dataclass(frozen=True)
class WrongPin:
    attempts_left: int


@dataclass(frozen=True)
class SignedIn:
    courier: CourierIdentity
    session_id: str
    via: SignInRoute


LookUpResult = PinWanted | SignInRefused
PinResult = SignedIn | WrongPin | SignInRefused


class CourierSignIn:
    """Sign-in against the cached roster, with the persisted per-card PIN lockout.

    Thread-safe (all state is in the database): the runtime calls it from its worker.
    """

    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        roster: RosterCache,
        *,
        clock: Callable[[], datetime] = _utc_now,
        pin_attempts: int = 3,
        card_lock_s: float = 900.0,
        roster_grace_h: float = 72.0,
        new_session_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        if pin_attempts < 1:
            raise ValueError("pin_attempts must be at least 1")
        self._database = database
        self._audit = audit
        self._roster = roster
        self._clock = clock
        self._pin_attempts = pin_attempts
        self._card_lock = timedelta(seconds=card_lock_s)
        self._grace = timedelta(hours=roster_grace_h)
        self._new_session_id = new_session_id

    # -- the front door asks ---------------------------------------------------------------

    def card_for_id_hash(self, id_number_sha256: str) -> str | None:
        """The card id of the roster entry carrying this ID hash (the front door's lookup)."""
        roster = self._roster.current()
        if roster is None:
            return None
        courier = roster.courier_by_id_hash(id_number_sha256)
        return None if courier is None else courier.card_id

    def recognises_id_hash(self, id_number_sha256: str) -> bool:
        return self.card_for_id_hash(id_number_sha256) is not None

    # -- sign-in ---------------------------------------------------------------------------

    def look_up(self, card_id: str, via: SignInRoute) -> LookUpResult:
        """Before the PIN: is this card on a usable roster, and not locked here?"""
        found = self._usable_courier(card_id)
        if isinstance(found, SignInRefused):
            self._audit_refusal(found, via)
            return found
        locked_until = self.locked_until(card_id)
        if locked_until is not None:
            refusal = SignInRefused("card_locked", card_id, locked_until)
            self._audit_refusal(refusal, via)
            return refusal
        return PinWanted(_identity(found), via)

    def check_pin(self, card_id: str, pin: str, via: SignInRoute) -> PinResult:
        """Slow (scrypt): call it off the UI thread. Counts wrong PINs and locks the card."""
        found = self._usable_courier(card_id)
        if isinstance(found, SignInRefused):
            self._audit_refusal(found, via)
            return found
        locked_until = self.locked_until(card_id)
        if locked_until is not None:
            refusal = SignInRefused("card_locked", card_id, locked_until)
            self._audit_refusal(refusal, via)
            return refusal
        if pin_matches(pin, found.pin_hash):
            return self._signed_in(found, via)
        return self._wrong_pin(card_id, via)

    def locked_until(self, card_id: str) -> datetime | None:
        """When this card's lock on this terminal ends; None when it is not locked."""
        with self._database.snapshot() as view:
            value = view.fetch_value(
                "SELECT locked_until_ms FROM courier_pin_guard WHERE card_id = ?", (card_id,)
            )
        if value is None:
            return None
        until = _from_ms(value)
        return until if until > self._clock() else None

    def end_session(self, session_id: str, reason: str) -> None:
        """Close the session's log row (signed out, idle, ...); a second call changes nothing."""
        now_ms = _to_ms(self._clock())
        with self._database.transaction() as tx:
            row = tx.fetch_one(
                "SELECT card_id FROM courier_sessions WHERE id = ? AND ended_at_ms IS NULL",
                (session_id,),
            )
            if row is None:
                return
            tx.execute(
                "UPDATE courier_sessions SET ended_at_ms = ?, end_reason = ? WHERE id = ?",
                (now_ms, reason or "ended", session_id),
            )
            self._audit.record(
                actor=Actor(ActorKind.COURIER, str(row["card_id"])),
                action="courier.sign_out",
                subject=_subject(str(row["card_id"])),
                reason=reason or "ended",
                outcome=Outcome.SUCCEEDED,
                details={"session_id": session_id},
            )

    # -- inside ----------------------------------------------------------------------------

    def _usable_courier(self, card_id: str) -> RosterCourier | SignInRefused:
        roster = self._roster.current()
        if roster is None:
            return SignInRefused("no_roster", card_id)
        if self._too_old(roster):
            return SignInRefused("roster_expired", card_id)
        courier = roster.courier(card_id)
        if courier is None:
            return SignInRefused("unknown_card", card_id)
        return courier

    def _too_old(self, roster: Roster) -> bool:
        return self._clock() >= roster.expires_at + self._grace

    def _signed_in(self, courier: RosterCourier, via: SignInRoute) -> SignedIn:
        session_id = self._new_session_id()
        now_ms = _to_ms(self._clock())
        with self._database.transaction() as tx:
            tx.execute("DELETE FROM courier_pin_guard WHERE card_id = ?", (courier.card_id,))
            tx.execute(
                "INSERT INTO courier_sessions (id, card_id, role, via, started_at_ms) "
                "VALUES (?, ?, ?, ?, ?)",
                (session_id, courier.card_id, courier.role, via, now_ms),
            )
            self._audit.record(
                actor=Actor(ActorKind.COURIER, courier.card_id),
                action="courier.sign_in",
                subject=_subject(courier.card_id),
                reason=f"{courier.role} signed in by {via}",
                outcome=Outcome.SUCCEEDED,
                details={"session_id": session_id, "via": via},
            )
        return SignedIn(_identity(courier), session_id, via)

    def _wrong_pin(self, card_id: str, via: SignInRoute) -> WrongPin | SignInRefused:
        now = self._clock()
        now_ms = _to_ms(now)
        with self._database.transaction() as tx:
            row = tx.fetch_one(
                "SELECT wrong_pins, locked_until_ms FROM courier_pin_guard WHERE card_id = ?",
                (card_id,),
            )
            # a lock that has run out starts a fresh count
            expired_lock = row is not None and row["locked_until_ms"] is not None
            wrong = 1 if row is None or expired_lock else int(row["wrong_pins"]) + 1
            locked_until = now + self._card_lock if wrong >= self._pin_attempts else None
            tx.execute(
                "INSERT INTO courier_pin_guard (card_id, wrong_pins, last_wrong_at_ms, "
                "locked_until_ms) VALUES (?, ?, ?, ?) ON CONFLICT (card_id) DO UPDATE SET "
                "wrong_pins = excluded.wrong_pins, last_wrong_at_ms = excluded.last_wrong_at_ms, "
                "locked_until_ms = excluded.locked_until_ms",
                (card_id, wrong, now_ms, None if locked_until is None else _to_ms(locked_until)),
            )
            self._audit.record(
                actor=Actor(ActorKind.COURIER, card_id),
                action="courier.sign_in",
                subject=_subject(card_id),
                reason=f"wrong PIN ({wrong} of {self._pin_attempts})",
                outcome=Outcome.DENIED,
                details={"via": via, "wrong_pins": wrong},
            )
            if locked_until is not None:
                self._audit.record(
                    actor=Actor(ActorKind.COURIER, card_id),
                    action="courier.card_locked",
                    subject=_subject(card_id),
                    reason=f"{wrong} wrong PINs in a row",
                    outcome=Outcome.SUCCEEDED,
                    details={"locked_until": locked_until.isoformat()},
                )
        if locked_until is not None:
            return SignInRefused("card_locked", card_id, locked_until)
        return WrongPin(self._pin_attempts - wrong)

    def _audit_refusal(self, refusal: SignInRefused, via: SignInRoute) -> None:
        self._audit.record(
            actor=Actor(ActorKind.COURIER, refusal.card_id or "unknown"),
            action="courier.sign_in",
            subject=_subject(refusal.card_id or "unknown"),
            reason=f"refused: {refusal.reason.replace('_', ' ')}",
            outcome=Outcome.DENIED,
            details={"via": via},
        )


def _identity(courier: RosterCourier) -> CourierIdentity:
    return CourierIdentity(courier.card_id, courier.name, courier.role)


def _subject(card_id: str) -> str:
    return f"courier:{card_id}"


def _to_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // _ONE_MS


def _from_ms(value: object) -> datetime:
    return _EPOCH + timedelta(milliseconds=int(str(value)))
