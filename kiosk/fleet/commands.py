"""Signed remote commands: check them, run each at most once, and say how it went.

A broker account alone must never open a door, so every command carries an Ed25519 signature of
the console over its canonical JSON (sorted keys, no spaces, UTF-8), checked against the public key
in the terminal's configuration. Then, in this order (docs/fleet-protocol.md):

1. not JSON, unsigned or wrongly signed → REJECTED, logged, *not* written to the ledger (otherwise
   anyone could reserve a future command id with a bad signature);
2. id already in the ledger → the stored outcome is sent again, nothing runs (QoS 1 redelivery, a
   console retry, a replay); an entry left IN_PROGRESS by a crash ends as FAILED, not repeated;
3. expired → EXPIRED; issued in the future (beyond the allowed clock skew), living longer than
   `MAX_LIFETIME_S`, an odd issuer or an unknown name → REJECTED; all recorded and logged;
4. otherwise RECEIVED, IN_PROGRESS (recorded *before* acting), then SUCCEEDED or FAILED.

Handlers live in `kiosk/fleet/handlers.py` and act through ports the composition root implements.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .model import iso_utc
from .store import LEDGER_RETENTION_S, FleetStore, LedgerEntry

_log = logging.getLogger(__name__)

SIGNED_FIELDS = ("id", "issuer", "issued_at", "expires_at", "name", "args")
MAX_LIFETIME_S = 24 * 3600
CLOCK_SKEW_S = 300
_ISSUER = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_COMMAND_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class Status(StrEnum):
    RECEIVED = "RECEIVED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class FleetKeyError(ValueError):
    """The console's public key in the configuration cannot be used."""


class CommandFailed(Exception):
    """A handler could not do what was asked; the message is the reply's detail."""


@dataclass(frozen=True)
class Command:
    id: str
    issuer: str
    issued_at: int  # Unix seconds
    expires_at: int
    name: str
    args: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

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
    status: Status
    detail: str = ""
    result: Any = None
    at: str = ""

    def payload(self) -> bytes:
        body = {
            "id": self.command_id,
            "status": self.status.value,
            "detail": self.detail,
            "result": self.result,
            "at": self.at,
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Outcome:
    """What a handler did: SUCCEEDED with a result, and optionally something to do after the
    final reply went out (a restart must not happen before the console hears about it)."""

    detail: str = ""
    result: Any = None
    progress: tuple[Any, ...] = ()  # extra IN_PROGRESS results sent before the final reply
    after_reply: Callable[[], None] | None = None
    ledger_result: Any = None  # what a redelivery gets back, when not `result` (a big image)


Handler = Callable[[Command], Outcome]


def canonical_json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_command(command: Command, key: Ed25519PrivateKey) -> bytes:
    """The MQTT payload of a command (the console's job; here for tests and the simulator)."""
    unsigned = command.unsigned()
    signature = base64.b64encode(key.sign(canonical_json(unsigned))).decode("ascii")
    return json.dumps({**unsigned, "sig": signature}, ensure_ascii=False).encode()


def load_public_key(text: str) -> Ed25519PublicKey | None:
    """The console's key from `fleet.console_public_key`; None (refuse all commands) when empty."""
    if not text.strip():
        return None
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as err:
        raise FleetKeyError(
            "fleet.console_public_key is not a base64 Ed25519 public key (32 bytes); copy the "
            "key printed by `kiosk fleet keygen` on the console."
        ) from err


class CommandRejected(Exception):
    """Refused before the ledger: the command cannot be trusted or read."""

    def __init__(self, message: str, command_id: str) -> None:
        super().__init__(message)
        self.command_id = command_id


def verify(payload: bytes, key: Ed25519PublicKey | None) -> Command:
    """Parse and check the signature; raise CommandRejected with a reason a technician reads."""
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CommandRejected(f"the command is not UTF-8 JSON ({err})", "") from err
    if not isinstance(body, dict):
        raise CommandRejected("the command is not a JSON object", "")
    raw_id = body.get("id")
    command_id = raw_id if isinstance(raw_id, str) and _COMMAND_ID.match(raw_id) else ""
    if not command_id:
        raise CommandRejected("the command has no usable id", "")
    if key is None:
        raise CommandRejected(
            "this terminal has no console key (fleet.console_public_key) and refuses all commands",
            command_id,
        )
    signature = body.pop("sig", None)
    if not isinstance(signature, str) or not signature:
        raise CommandRejected("the command is not signed", command_id)
    if set(body) != set(SIGNED_FIELDS):
        raise CommandRejected(
            f"the command must have exactly the fields {', '.join(SIGNED_FIELDS)} and sig",
            command_id,
        )
    try:
        key.verify(base64.b64decode(signature, validate=True), canonical_json(body))
    except (InvalidSignature, binascii.Error, ValueError) as err:
        raise CommandRejected("the signature does not match the console's key", command_id) from err
    issued, expires, args = body["issued_at"], body["expires_at"], body["args"]
    if not isinstance(issued, int) or not isinstance(expires, int) or not isinstance(args, dict):
        raise CommandRejected(
            "issued_at/expires_at must be integers and args an object", command_id
        )
    return Command(
        command_id, str(body["issuer"]), issued, expires, str(body["name"]), MappingProxyType(args)
    )


class CommandProcessor:
    """Runs commands one at a time (the adapter calls `process` from one worker thread)."""

    def __init__(
        self,
        store: FleetStore,
        key: Ed25519PublicKey | None,
        handlers: Mapping[str, Handler],
        *,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._key = key
        self._handlers = dict(handlers)
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def command_names(self) -> tuple[str, ...]:
        return tuple(sorted(self._handlers))

    def process(self, payload: bytes, send: Callable[[Reply], None]) -> Reply:
        """Handle one command message; every reply goes to `send`; the final one is returned."""
        with self._lock:
            return self._process(payload, send)

    def _process(self, payload: bytes, send: Callable[[Reply], None]) -> Reply:
        try:
            command = verify(payload, self._key)
        except CommandRejected as err:
            _log.warning("Fleet command refused: %s.", err)
            return self._final(
                send, Reply(err.command_id, Status.REJECTED, f"{err}.", at=self._at())
            )
        known = self._store.ledger_entry(command.id)
        if known is not None:
            return self._repeat(command, known, send)
        problem = self._problem(command)
        if problem is not None:
            status, detail = problem
            _log.warning(
                "Fleet command %s (%s by %s) refused: %s",
                command.id,
                command.name,
                command.issuer,
                detail,
            )
            self._store.ledger_begin(self._entry(command, status, detail))
            return self._final(send, Reply(command.id, status, detail, at=self._at()))
        now_ms = int(self._clock() * 1000)
        send(Reply(command.id, Status.RECEIVED, at=self._at()))
        if not self._store.ledger_begin(self._entry(command, Status.IN_PROGRESS, "")):
            known = self._store.ledger_entry(command.id)
            if known is not None:
                return self._repeat(command, known, send)
        send(Reply(command.id, Status.IN_PROGRESS, at=self._at()))
        _log.info("Fleet command %s: %s by %s.", command.id, command.name, command.issuer)
        handler = self._handlers[command.name]
        try:
            outcome = handler(command)
        except CommandFailed as err:
            reply = Reply(command.id, Status.FAILED, str(err), at=self._at())
            self._store.ledger_finish(command.id, reply.status, reply.detail, None, now_ms)
            _log.warning("Fleet command %s (%s) failed: %s", command.id, command.name, err)
            return self._final(send, reply)
        for chunk in outcome.progress:
            send(Reply(command.id, Status.IN_PROGRESS, result=chunk, at=self._at()))
        reply = Reply(command.id, Status.SUCCEEDED, outcome.detail, outcome.result, self._at())
        kept = outcome.result if outcome.ledger_result is None else outcome.ledger_result
        self._store.ledger_finish(
            command.id, reply.status, reply.detail, kept, int(self._clock() * 1000)
        )
        self._final(send, reply)
        if outcome.after_reply is not None:
            outcome.after_reply()
        self._store.prune_ledger(int((self._clock() - LEDGER_RETENTION_S) * 1000))
        return reply

    def _problem(self, command: Command) -> tuple[Status, str] | None:
        now = self._clock()
        if command.expires_at <= now:
            return Status.EXPIRED, (
                f"the command expired at {iso_utc(_utc(command.expires_at))}, before it arrived; "
                "send a new one"
            )
        if command.issued_at > now + CLOCK_SKEW_S:
            return Status.REJECTED, (
                "the command was issued in the future; check the clocks of the console and the "
                "terminal (NTP)"
            )
        if command.expires_at - command.issued_at > MAX_LIFETIME_S:
            return Status.REJECTED, f"a command may live at most {MAX_LIFETIME_S // 3600} h"
        if not _ISSUER.match(command.issuer):
            return Status.REJECTED, "the issuer must be a user name (letters, digits, . _ @ -)"
        if command.name not in self._handlers:
            return Status.REJECTED, (
                f"this terminal has no command {command.name!r}; known: "
                f"{', '.join(self.command_names)}"
            )
        return None

    def _repeat(self, command: Command, known: LedgerEntry, send: Callable[[Reply], None]) -> Reply:
        if known.status == Status.IN_PROGRESS:
            detail = (
                "the terminal stopped while carrying out this command; it is not repeated — "
                "check the result on site or in the audit log before sending a new command"
            )
            self._store.ledger_finish(
                command.id, Status.FAILED, detail, None, int(self._clock() * 1000)
            )
            return self._final(send, Reply(command.id, Status.FAILED, detail, at=self._at()))
        _log.info(
            "Fleet command %s was already handled (%s); not repeated.", command.id, known.status
        )
        detail = f"already handled ({known.detail})" if known.detail else "already handled"
        return self._final(
            send, Reply(command.id, Status(known.status), detail, known.result, self._at())
        )

    def _entry(self, command: Command, status: Status, detail: str) -> LedgerEntry:
        now_ms = int(self._clock() * 1000)
        final = None if status is Status.IN_PROGRESS else now_ms
        return LedgerEntry(
            command.id, command.name, command.issuer, status, detail, None, now_ms, final
        )

    def _final(self, send: Callable[[Reply], None], reply: Reply) -> Reply:
        send(reply)
        return reply

    def _at(self) -> str:
        return iso_utc(_utc(self._clock()))


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
