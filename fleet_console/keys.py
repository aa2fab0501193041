"""The console's Ed25519 key pair: the private key signs commands, terminals hold the public key.

The private key file is written owner-only (0600); anyone who can read it can open doors on every
terminal of the fleet, which is why it never leaves the console's machine and is never logged.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class ConsoleKeyError(Exception):
    """The console's key file is missing or unusable; the message says how to make one."""


def generate_key_pair(private_path: Path) -> str:
    """Write a new private key (PEM, 0600) and `<name>.pub` (base64); return the public key."""
    if private_path.exists():
        raise ConsoleKeyError(
            f"{private_path} already exists; move it away first (terminals trust its public key)."
        )
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public = public_key_text(key.public_key())
    private_path.with_name(private_path.name + ".pub").write_text(public + "\n", encoding="ascii")
    return public


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ConsoleKeyError(
            f"The console key {path} cannot be read ({err.strerror}); create one with "
            "`kiosk fleet keygen`."
        ) from err
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as err:
        raise ConsoleKeyError(f"{path} is not an unencrypted PEM private key ({err}).") from err
    if not isinstance(key, Ed25519PrivateKey):
        raise ConsoleKeyError(f"{path} holds a key that is not Ed25519.")
    return key


def public_key_text(key: Ed25519PublicKey) -> str:
    """Base64 of the raw 32 bytes: what `[fleet] console_public_key` takes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def public_key_from_text(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))
    except ValueError as err:
        raise ConsoleKeyError(f"{text!r} is not a base64 Ed25519 public key ({err}).") from err
