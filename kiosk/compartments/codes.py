"""Pickup codes and ID numbers as the database keeps them: never in clear.

Decision: a pickup code is kept as scrypt with a random 16-byte salt per parcel, in the same
self-describing form the courier roster uses for PINs (`scrypt$N$r$p$<salt b64>$<hash b64>`).
Why not salted SHA-256: a code has only 10^8 values, so a leaked database (a backup, a disk sent
for repair) would give up every code in seconds with a fast hash. Why N=2^12 (4 MiB, about 25 ms
on the reference machine) and not more: a typed code must be checked against every stored result
one by one (the salt makes lookup by hash impossible), and a citizen waits for that — with 30
stored results, under a second. Trying the whole code space for one parcel still costs about a
CPU-month, longer than a result waits (7 days). Stored hashes carry their own cost, so a terminal
can raise it without invalidating parcels already loaded. The pickup flow should prefer the
signed QR, which names the parcel, and keep the typed code as the fallback.

The applicant's ID number is kept as the hall sends it in delivery tasks — hex SHA-256 of the
upper-case number — so a card on the reader finds its results by index. That hash is weak (ID
numbers are guessable); it exists only while a result waits in a compartment.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

SCHEME = "scrypt"
SALT_BYTES = 16
HASH_BYTES = 32
# scrypt's memory use is 128 * N * r bytes; room for hashes written with a raised cost
_MAX_MEMORY = 64 * 1024 * 1024


class PickupCodeFormatError(ValueError):
    """A stored pickup-code hash is not in the expected form (a damaged or foreign record)."""


@dataclass(frozen=True)
class PickupCodeHasher:
    """The scrypt cost for new hashes. Tests use a tiny `n`; stored hashes carry their own."""

    n: int = 2**12
    r: int = 8
    p: int = 1

    def hash(self, code: str) -> str:
        salt = secrets.token_bytes(SALT_BYTES)
        digest = _scrypt(code, salt, self.n, self.r, self.p, HASH_BYTES)
        return "$".join(
            (
                SCHEME,
                str(self.n),
                str(self.r),
                str(self.p),
                base64.b64encode(salt).decode("ascii"),
                base64.b64encode(digest).decode("ascii"),
            )
        )


def pickup_code_matches(stored: str, code: str) -> bool:
    """Constant-time check of a typed or scanned code against a stored hash."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise PickupCodeFormatError(
            "a stored pickup-code hash is not 'scrypt$N$r$p$salt$hash'; the parcel record was "
            "damaged or written by other software — staff must open the compartment by hand."
        )
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error) as err:
        raise PickupCodeFormatError(
            "a stored pickup-code hash has unreadable parameters; the parcel record was damaged "
            "— staff must open the compartment by hand."
        ) from err
    actual = _scrypt(code, salt, n, r, p, len(expected))
    return hmac.compare_digest(actual, expected)


def applicant_id_sha256(id_number: str) -> str:
    """The hall's form of an ID number for card pickup: hex SHA-256 of the upper-case number."""
    return hashlib.sha256(id_number.strip().upper().encode("utf-8")).hexdigest()


def _scrypt(code: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        code.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=_MAX_MEMORY
    )
