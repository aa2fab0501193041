"""The console's reading of docs/fleet-protocol.md: topics, signed commands and replies.

Pure: no I/O and no clock (every time is passed in), so the parsing and signing rules are tested
without a broker. The canonical bytes that are signed must match the terminal's check byte for byte,
which is why they are built in exactly one function here.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

HOMIE_ROOT = "homie/5"
COMMAND_ROOT = "gzk/1"
_DEVICE_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_NOT_ALLOWED = re.compile(r"[^a-z0-9-]+")


class ProtocolError(ValueError):
    """A message or a command that does not follow docs/fleet-protocol.md."""


def device_id_for(terminal_id: str) -> str:
    """The MQTT device id of a terminal: 'GZ_Cili 001' becomes 'gz-cili-001'."""
    cleaned = _NOT_ALLOWED.sub("-", terminal_id.strip().lower()).strip("-")
    if not _DEVICE_ID.match(cleaned):
        raise ProtocolError(
            f"The terminal id {terminal_id!r} gives no usable device id; use letters and digits."
        )
    return cleaned


def check_device_id(device_id: str) -> str:
    if not _DEVICE_ID.match(device_id):
        raise ProtocolError(
            f"{device_id!r} is not a device id: lower-case letters, digits and '-' only."
        )
    return device_id


# -- telemetry topics ---------------------------------------------------------------------------
class TopicKind(StrEnum):
    STATE = "state"
    DESCRIPTION = "description"
    PROPERTY = "property"
    ALERT = "alert"
    LOG = "log"
    OTHER = "other"  # another Homie attribute ($target of a property, ...): kept out of the store


@dataclass(frozen=True)
class HomieTopic:
    device_id: str
    kind: TopicKind
    node: str = ""
    name: str = ""  # property name, alert id or log level


def parse_homie_topic(topic: str) -> HomieTopic | None:
    """None for a topic that is not one terminal's telemetry (someone else's Homie device tree)."""
    parts = topic.split("/")
    if len(parts) < 4 or f"{parts[0]}/{parts[1]}" != HOMIE_ROOT:
        return None
    device_id = parts[2]
    if not _DEVICE_ID.match(device_id):
        return None
    rest = parts[3:]
    if rest == ["$state"]:
        return HomieTopic(device_id, TopicKind.STATE)
    if rest == ["$description"]:
        return HomieTopic(device_id, TopicKind.DESCRIPTION)
    if len(rest) == 2 and rest[0] == "$alert" and rest[1]:
        return HomieTopic(device_id, TopicKind.ALERT, name=rest[1])
    if len(rest) == 2 and rest[0] == "$log" and rest[1]:
        return HomieTopic(device_id, TopicKind.LOG, name=rest[1])
    if len(rest) == 2 and not rest[0].startswith("$") and not rest[1].startswith("$"):
        return HomieTopic(device_id, TopicKind.PROPERTY, node=rest[0], name=rest[1])
    return HomieTopic(device_id, TopicKind.OTHER)


def command_topic(device_id: str) -> str:
    return f"{COMMAND_ROOT}/{check_device_id(device_id)}/cmd"


def reply_topic(device_id: str, console_id: str) -> str:
    return f"{COMMAND_ROOT}/{check_device_id(device_id)}/reply/{console_id}"


def reply_subscription(console_id: str) -> str:
    return f"{COMMAND_ROOT}/+/reply/{console_id}"


def device_of_reply_topic(topic: str) -> str | None:
    parts = topic.split("/")
    if len(parts) == 5 and f"{parts[0]}/{parts[1]}" == COMMAND_ROOT and parts[3] == "reply":
        return parts[2] if _DEVICE_ID.match(parts[2]) else None
    return None


# -- alerts -------------------------------------------------------------------------------------
class Severity(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Smaller is more urgent: the grid sorts on it."""
        return list(Severity).index(self)


@dataclass(frozen=True)
class Alert:
    alert_id: str
    severity: Severity
    text_en: str
    text_zh: str
    since: str


def decode_alert(alert_id: str, payload: bytes) -> Alert | None:
    """None means the alert is cleared (the protocol's empty retained payload)."""
    if not payload:
        return None
    body = _json_object(payload, "alert")
    raw_severity = str(body.get("severity", "warning")).lower()
    try:
        severity = Severity(raw_severity)
    except ValueError:
        severity = Severity.WARNING  # an unknown level still shows, never disappears
    return Alert(
        alert_id=alert_id,
        severity=severity,
        text_en=str(body.get("text_en", "")),
        text_zh=str(body.get("text_zh", "")),
        since=str(body.get("since", "")),
    )


# -- commands -----------------------------------------------------------------------------------
class ReplyStatus(StrEnum):
    RECEIVED = "RECEIVED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_final(self) -> bool:
        return self not in (ReplyStatus.RECEIVED, ReplyStatus.IN_PROGRESS)


SIGNED_FIELDS = ("id", "issuer", "issued_at", "expires_at", "name", "args")


@dataclass(frozen=True)
class Command:
    """What the console asks of one terminal; times are Unix seconds (integers, so the signed
    text is the same in every language)."""

    id: str
    issuer: str
    issued_at: int
    expires_at: int
    name: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def unsigned(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "issuer": self.issuer,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "name": self.name,
            "args": dict(self.args),
        }


@dataclass(frozen=True)
class Reply:
    command_id: str
    status: ReplyStatus
    detail: str = ""
    result: Any = None
    at: Any = None


def new_command(
    name: str, args: Mapping[str, Any], *, issuer: str, now_s: float, lifetime_s: int
) -> Command:
    issued = int(now_s)
    return Command(
        id=uuid.uuid4().hex,
        issuer=issuer,
        issued_at=issued,
        expires_at=issued + lifetime_s,
        name=name,
        args=dict(args),
    )


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8 (non-ASCII as itself): the bytes the signature covers."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def sign_command(command: Command, key: Ed25519PrivateKey) -> bytes:
    """The command's MQTT payload: its fields plus `sig`."""
    unsigned = command.unsigned()
    signature = key.sign(canonical_json(unsigned))
    return json.dumps(
        {**unsigned, "sig": base64.b64encode(signature).decode("ascii")},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")


def verify_command(payload: bytes, public_key: Ed25519PublicKey) -> Command:
    """The check a terminal makes, here for tests and for `kiosk fleet` to inspect what it sent."""
    body = _json_object(payload, "command")
    sig = body.pop("sig", None)
    if not isinstance(sig, str):
        raise ProtocolError("The command carries no signature.")
    try:
        public_key.verify(base64.b64decode(sig, validate=True), canonical_json(body))
    except (InvalidSignature, binascii.Error, ValueError) as err:
        raise ProtocolError("The command's signature does not match the console's key.") from err
    try:
        return Command(
            id=str(body["id"]),
            issuer=str(body["issuer"]),
            issued_at=int(body["issued_at"]),
            expires_at=int(body["expires_at"]),
            name=str(body["name"]),
            args=dict(body["args"]),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ProtocolError(f"The command lacks a field or has a wrong type ({err}).") from err


def decode_reply(payload: bytes) -> Reply:
    body = _json_object(payload, "reply")
    try:
        status = ReplyStatus(str(body.get("status", "")))
    except ValueError as err:
        raise ProtocolError(f"Unknown reply status {body.get('status')!r}.") from err
    command_id = body.get("id")
    if not isinstance(command_id, str) or not command_id:
        raise ProtocolError("The reply names no command id.")
    return Reply(
        command_id=command_id,
        status=status,
        detail=str(body.get("detail") or ""),
        result=body.get("result"),
        at=body.get("at"),
    )


def _json_object(payload: bytes, what: str) -> dict[str, Any]:
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ProtocolError(f"The {what} is not UTF-8 JSON ({err}).") from err
    if not isinstance(body, dict):
        raise ProtocolError(f"The {what} is not a JSON object.")
    return body
