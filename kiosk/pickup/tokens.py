"""Pickup codes and the terminal-signed QR form of them (decided in docs/adr/0016).

Why the terminal, not the hall, invents the code: the terminal is where the code is checked, and
it must work offline; a code made here is hashed at once and the plaintext leaves only once, in
the `result_loaded` outbox event, so the hall can send the SMS.

Why a signed QR: a typed code must be checked against every stored result's scrypt hash (the salt
makes lookup impossible), which grows with the number of stored results. The QR names its parcel,
so the terminal checks ONE hash — and only after a 16-byte HMAC tag made with this terminal's own
key has matched. A forged, foreign, damaged or expired QR is refused before any scrypt runs, so a
stream of junk QRs costs the terminal microseconds and does not count as a guess.

Payload: ``GZPK1.<parcel_id>.<code>.<expires_unix>.<sig>`` with
``sig = base64url_nopad(HMAC-SHA256(key, "GZPK1.<parcel_id>.<code>.<expires_unix>")[:16])``.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from typing import Literal

from kiosk.storage import Database

PICKUP_CODE_DIGITS = 8
QR_PREFIX = "GZPK1"
SIGNATURE_BYTES = 16
KEY_BYTES = 32
PICKUP_QR_KEY_NAME = "pickup_qr_hmac"

_CODE = re.compile(r"^[0-9]{8}$")
_PARCEL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_EXPIRES = re.compile(r"^[1-9][0-9]{0,11}$")
_SIGNATURE = re.compile(r"^[A-Za-z0-9_-]{22}$")  # 16 bytes, base64url without padding

RejectionReason = Literal["malformed", "signature", "expired"]


def new_pickup_code(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A uniformly random 8-digit code, leading zeros kept (10^8 values)."""
    return f"{randbelow(10**PICKUP_CODE_DIGITS):0{PICKUP_CODE_DIGITS}d}"


def is_pickup_code(text: str) -> bool:
    """Exactly eight ASCII digits: the only thing a keypad entry may be checked as."""
    return _CODE.fullmatch(text) is not None


@dataclass(frozen=True)
class PickupQr:
    """A QR whose signature and expiry have been checked; the code still has to match a hash."""

    parcel_id: str
    code: str = field(repr=False)
    expires_at: datetime


class PickupQrRejected(Exception):
    """A scanned pickup QR cannot be used; `reason` says which check failed."""

    def __init__(self, reason: RejectionReason, message: str) -> None:
        super().__init__(message)
        self.reason: RejectionReason = reason


class PickupQrSigner:
    """Signs and verifies pickup QR payloads with this terminal's secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < KEY_BYTES:
            raise ValueError(
                f"the pickup QR key must be at least {KEY_BYTES} bytes; the terminal's key store "
                "returned a short one — the terminal_secrets table was edited by hand."
            )
        self._key = bytes(key)

    def sign(self, parcel_id: str, code: str, expires_at: datetime) -> str:
        if _PARCEL_ID.fullmatch(parcel_id) is None:
            raise ValueError(f"parcel id {parcel_id!r} cannot go into a pickup QR")
        if not is_pickup_code(code):
            raise ValueError("a pickup code is exactly eight digits")
        expires_unix = _to_unix(expires_at)
        if expires_unix <= 0:
            raise ValueError("a pickup QR must expire after 1970")
        body = f"{QR_PREFIX}.{parcel_id}.{code}.{expires_unix}"
        return f"{body}.{self._tag(body)}"

    def verify(self, payload: str, now: datetime) -> PickupQr:
        """The checked QR, or `PickupQrRejected` — never touching a stored hash."""
        parts = payload.strip().split(".")
        if (
            len(parts) != 5
            or parts[0] != QR_PREFIX
            or _PARCEL_ID.fullmatch(parts[1]) is None
            or not is_pickup_code(parts[2])
            or _EXPIRES.fullmatch(parts[3]) is None
            or _SIGNATURE.fullmatch(parts[4]) is None
        ):
            raise PickupQrRejected("malformed", "this is not a pickup QR code in a known form")
        body = ".".join(parts[:4])
        # Compared as text, in the one spelling this terminal writes: base64 of 16 bytes leaves
        # spare bits in its last character, so decoding first would accept altered spellings.
        if not hmac.compare_digest(parts[4].encode("ascii"), self._tag(body).encode("ascii")):
            raise PickupQrRejected(
                "signature", "the QR code was not made by this terminal, or it was altered"
            )
        expires_at = datetime.fromtimestamp(int(parts[3]), UTC)
        if now >= expires_at:
            raise PickupQrRejected("expired", "the QR code's collection period has ended")
        return PickupQr(parcel_id=parts[1], code=parts[2], expires_at=expires_at)

    def _tag(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode("ascii"), sha256).digest()[:SIGNATURE_BYTES]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def looks_like_pickup_qr(text: str) -> bool:
    """Routing only: the text claims to be a pickup QR (the signature is not checked here)."""
    return text.strip().startswith(f"{QR_PREFIX}.")


class TerminalKeyStore:
    """This terminal's own secrets, kept in its database (table `terminal_secrets`, 0007).

    Why the database and not a file: it is already the one durable, backed-up, permission-guarded
    store of the terminal, and a restored backup brings back the key together with the parcels
    whose QR codes it signed.
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    def pickup_qr_key(self) -> bytes:
        """The HMAC key for pickup QRs, created (32 random bytes) the first time it is asked for."""
        return self._secret(PICKUP_QR_KEY_NAME)

    def _secret(self, name: str) -> bytes:
        with self._database.transaction() as tx:
            value = tx.fetch_value("SELECT secret FROM terminal_secrets WHERE name = ?", (name,))
            if value is None:
                value = secrets.token_bytes(KEY_BYTES)
                tx.execute(
                    "INSERT INTO terminal_secrets (name, secret) VALUES (?, ?)", (name, value)
                )
        if not isinstance(value, bytes):
            raise ValueError(
                f"the terminal secret {name!r} is not stored as bytes; the terminal_secrets "
                "table was edited by hand — delete that row to have a new key made (QR codes "
                "already sent stop working; typed codes still do)."
            )
        return value


def _to_unix(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("pickup QR expiry must be an aware datetime (UTC)")
    return int(moment.timestamp())
