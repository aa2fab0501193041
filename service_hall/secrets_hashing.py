"""Hashing of the hall's secrets: kiosk tokens, courier PINs, staff passwords, pickup codes.

Tokens are long random strings, so one SHA-256 suffices and allows lookup by hash. PINs and
passwords are short and guessable, so they get scrypt with a per-secret salt; the PIN hash format
is public (docs/hall-api.md) because kiosks verify PINs offline against the signed roster.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_LEN = 32


def new_kiosk_token() -> str:
    return "kt_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    """`scrypt$N$r$p$<salt b64>$<hash b64>` — the format kiosks re-implement to check PINs."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_LEN
    )
    return "$".join(
        [
            "scrypt",
            str(SCRYPT_N),
            str(SCRYPT_R),
            str(SCRYPT_P),
            base64.b64encode(salt).decode("ascii"),
            base64.b64encode(digest).decode("ascii"),
        ]
    )


def verify_secret(secret: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest_b64)
        actual = hashlib.scrypt(
            secret.encode("utf-8"),
            salt=base64.b64decode(salt_b64),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def pickup_code_hash(task_id: str, code: str) -> str:
    """Salted with the task id so equal codes on two parcels do not look alike.

    The code itself is made by the terminal (it checks it, offline); the hall keeps this hash
    only so staff can confirm a code a citizen reads out at the counter.
    """
    return hashlib.sha256(f"{task_id}:{code}".encode()).hexdigest()


def id_number_hash(id_number: str) -> str:
    """Lets a kiosk match a tapped ID card to a parcel without the hall sending the number."""
    return hashlib.sha256(id_number.strip().upper().encode("ascii", "replace")).hexdigest()
