"""Pure JSON codec of the locker-column MQTT protocol: bytes in, messages out, and back.

No I/O and no clock (the caller passes `now_ms`), so the terminal's driver, the firmware stub and
the tests all share one definition of the wire, checked against the golden examples of
docs/mqtt-locker-protocol.md. Decoding is strict about what it reads (types, ranges, the protocol
version, duplicate keys) and lenient about what it does not know (unknown keys are ignored), so a
newer controller can add fields without breaking older terminals. Every rejection is a
`BadMessage` with a sentence saying what was wrong; no other exception escapes a decoder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from devices.errors import BadFrame

from .messages import (
    PROTOCOL_VERSION,
    ColumnState,
    CommandReply,
    CommandResult,
    ControllerStatus,
    DoorPosition,
    LockState,
    RefusalReason,
    UnlockCommand,
)

MAX_PAYLOAD_BYTES = 64 * 1024
_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_TOPIC_SEGMENT = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_MAX_MS = 2**53  # JSON numbers beyond this are not exact in most other languages

E = TypeVar("E")


class BadMessage(BadFrame):
    """A payload that is not a valid message of this protocol (the sentence says what is wrong)."""


@dataclass(frozen=True)
class ColumnTopics:
    """Every topic of one controller lives under `lockers/<controller_id>/`."""

    controller_id: str

    def __post_init__(self) -> None:
        if not _TOPIC_SEGMENT.fullmatch(self.controller_id):
            raise ValueError(
                f"controller id {self.controller_id!r} must be 1-64 letters, digits, '_', '.' "
                "or '-' (it becomes part of MQTT topics)"
            )

    @property
    def root(self) -> str:
        return f"lockers/{self.controller_id}"

    @property
    def command(self) -> str:
        return f"{self.root}/cmd"

    @property
    def state(self) -> str:
        return f"{self.root}/state"

    @property
    def status(self) -> str:
        return f"{self.root}/status"

    def reply(self, client_id: str) -> str:
        if not _TOPIC_SEGMENT.fullmatch(client_id):
            raise ValueError(f"client id {client_id!r} cannot be used in a reply topic")
        return f"{self.root}/reply/{client_id}"


# -- encoding ------------------------------------------------------------------------------------
def _dump(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def encode_command(command: UnlockCommand) -> bytes:
    return _dump(
        {
            "v": PROTOCOL_VERSION,
            "type": "unlock",
            "id": command.command_id,
            "board": command.board,
            "lock": command.lock,
            "expires_at_ms": command.expires_at_ms,
            "reply_to": command.reply_to,
        }
    )


def encode_reply(reply: CommandReply) -> bytes:
    return _dump(
        {
            "v": PROTOCOL_VERSION,
            "type": "reply",
            "id": reply.command_id,
            "result": reply.result.value,
            "reason": reply.reason.value if reply.reason is not None else None,
            "replayed": reply.replayed,
        }
    )


def encode_state(state: ColumnState) -> bytes:
    return _dump(
        {
            "v": PROTOCOL_VERSION,
            "type": "state",
            "seq": state.seq,
            "locks": [
                {"board": s.board, "lock": s.lock, "door": s.door.value, "item": s.item}
                for s in state.locks
            ],
        }
    )


def encode_status(status: ControllerStatus) -> bytes:
    return _dump({"v": PROTOCOL_VERSION, "type": "status", "online": status.online})


def is_expired(command: UnlockCommand, now_ms: int) -> bool:
    """A command is late from its expiry instant on: at `expires_at_ms` it is already refused."""
    return now_ms >= command.expires_at_ms


# -- decoding ------------------------------------------------------------------------------------
def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise BadMessage(f"the key {key!r} appears twice in one object")
        document[key] = value
    return document


def _reject_constant(name: str) -> Any:
    raise BadMessage(f"{name} is not a JSON number this protocol accepts")


def _load(payload: bytes, expected_type: str) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise BadMessage(f"the payload is {len(payload)} bytes; at most {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8")
        document = json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant
        )
    except UnicodeDecodeError as err:
        raise BadMessage(f"the payload is not UTF-8 text (byte {err.start})") from err
    except RecursionError as err:
        raise BadMessage("the payload nests too deeply to be a message") from err
    except ValueError as err:  # json.JSONDecodeError is a ValueError
        raise BadMessage(f"the payload is not JSON ({err})") from err
    if not isinstance(document, dict):
        raise BadMessage("the payload must be one JSON object")
    version = document.get("v")
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise BadMessage(f"protocol version {version!r} is not supported (expected v=1)")
    if document.get("type") != expected_type:
        raise BadMessage(f"expected a {expected_type!r} message, got type {document.get('type')!r}")
    return document


def _int(document: dict[str, Any], key: str, low: int, high: int) -> int:
    value = document.get(key)
    if type(value) is not int:  # bool is an int subclass: `true` is not a lock number
        raise BadMessage(f"{key!r} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise BadMessage(f"{key!r} must be between {low} and {high}, got {value}")
    return value


def _bool(document: dict[str, Any], key: str) -> bool:
    value = document.get(key)
    if type(value) is not bool:
        raise BadMessage(f"{key!r} must be true or false, got {value!r}")
    return value


def _bool_or_null(document: dict[str, Any], key: str) -> bool | None:
    if key in document and document[key] is None:
        return None
    return _bool(document, key)


def _enum(document: dict[str, Any], key: str, parse: Callable[[str], E]) -> E:
    value = document.get(key)
    if isinstance(value, str):
        try:
            return parse(value)
        except ValueError:
            pass
    raise BadMessage(f"{key!r} has an unknown value {value!r}")


def _command_id(document: dict[str, Any]) -> str:
    value = document.get("id")
    if not isinstance(value, str) or not _ID_PATTERN.fullmatch(value):
        raise BadMessage(f"'id' must be 1-64 letters, digits, '_', '.' or '-', got {value!r}")
    return value


def decode_command(payload: bytes) -> UnlockCommand:
    document = _load(payload, "unlock")
    reply_to = document.get("reply_to")
    if not isinstance(reply_to, str) or not _valid_reply_topic(reply_to):
        raise BadMessage(f"'reply_to' must be a topic without wildcards, got {reply_to!r}")
    return UnlockCommand(
        command_id=_command_id(document),
        board=_int(document, "board", 0, 255),
        lock=_int(document, "lock", 1, 255),
        expires_at_ms=_int(document, "expires_at_ms", 0, _MAX_MS),
        reply_to=reply_to,
    )


def reply_address(payload: bytes) -> tuple[str, str] | None:
    """The id and reply topic of a command that failed to decode, if they can still be read.

    A controller answers such a command `refused`/`bad_command`, so a terminal speaking another
    protocol version learns why instead of waiting for a reply that never comes.
    """
    try:
        document = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    command_id, reply_to = document.get("id"), document.get("reply_to")
    if not isinstance(command_id, str) or not _ID_PATTERN.fullmatch(command_id):
        return None
    if not isinstance(reply_to, str) or not _valid_reply_topic(reply_to):
        return None
    return command_id, reply_to


def _valid_reply_topic(topic: str) -> bool:
    return 0 < len(topic) <= 256 and not any(c in topic for c in "+#\0")


def decode_reply(payload: bytes) -> CommandReply:
    document = _load(payload, "reply")
    result = _enum(document, "result", CommandResult)
    reason: RefusalReason | None = None
    if result is CommandResult.REFUSED:
        reason = _enum(document, "reason", RefusalReason)
    elif document.get("reason") is not None:
        raise BadMessage("'reason' is only given when the result is 'refused'")
    return CommandReply(_command_id(document), result, reason, _bool(document, "replayed"))


def decode_state(payload: bytes) -> ColumnState:
    document = _load(payload, "state")
    entries = document.get("locks")
    if not isinstance(entries, list):
        raise BadMessage("'locks' must be a list")
    locks: list[LockState] = []
    seen: set[tuple[int, int]] = set()
    for entry in entries:
        if not isinstance(entry, dict):
            raise BadMessage("every entry of 'locks' must be an object")
        lock = LockState(
            board=_int(entry, "board", 0, 255),
            lock=_int(entry, "lock", 1, 255),
            door=_enum(entry, "door", DoorPosition),
            item=_bool_or_null(entry, "item"),
        )
        if (lock.board, lock.lock) in seen:
            raise BadMessage(f"board {lock.board} lock {lock.lock} is listed twice")
        seen.add((lock.board, lock.lock))
        locks.append(lock)
    return ColumnState(seq=_int(document, "seq", 0, _MAX_MS), locks=tuple(locks))


def decode_status(payload: bytes) -> ControllerStatus:
    document = _load(payload, "status")
    return ControllerStatus(online=_bool(document, "online"))
