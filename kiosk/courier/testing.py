"""Helpers for courier tests and demos: a PIN hash in the hall's format, cheaply."""

from __future__ import annotations

import base64
import hashlib
import secrets


def hall_pin_hash(pin: str, *, salt: bytes | None = None, n: int = 16) -> str:
    """`scrypt$N$r$p$salt$hash` as service_hall writes it, with a tiny cost for fast tests."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=8, p=1, dklen=32)
    return "$".join(
        [
            "scrypt",
            str(n),
            "8",
            "1",
            base64.b64encode(salt).decode("ascii"),
            base64.b64encode(digest).decode("ascii"),
        ]
    )
