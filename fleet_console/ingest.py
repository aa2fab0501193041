"""Turns what the broker delivers into the console's store, and decides what becomes history.

Retained messages are replayed to the console at every (re)connection and by the terminal after
each of its reconnects, so history is written only on a change, never on a repeat. A malformed
message is logged and dropped: one faulty terminal must not stop the console reading the others.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from .protocol import (
    ProtocolError,
    Reply,
    TopicKind,
    decode_alert,
    decode_reply,
    device_of_reply_topic,
    parse_homie_topic,
)
from .store import ConsoleStore

log = logging.getLogger(__name__)

# Values kept as history for the terminal page's charts: (node, property) → series name.
SAMPLED_PROPERTIES = {
    ("printer", "paper"): "paper",
    ("system", "submissions-today"): "submissions",
    ("outbox", "size"): "outbox",
}
# Text values of the printer's paper property, as a level from 0 (out) to 1 (fine).
PAPER_LEVELS = {"ok": 1.0, "near-end": 0.5, "out": 0.0}  # "unknown" leaves a gap
CONNECTED_STATES = {"ready": 1.0, "sleeping": 1.0}
DOOR_ALERT_PREFIX = "door-"  # door-<n>-attention: a door alarm or an unvouched deposit

ReplyListener = Callable[[str, Reply], None]


class Ingest:
    def __init__(self, store: ConsoleStore, clock: Callable[[], float]) -> None:
        self.store = store
        self._clock = clock
        self._reply_listeners: list[ReplyListener] = []
        self._chunks: dict[str, dict[int, bytes]] = {}

    def on_reply(self, listener: ReplyListener) -> None:
        """Called with (device id, reply) after the reply is stored; used by `kiosk fleet cmd`."""
        self._reply_listeners.append(listener)

    def handle(self, topic: str, payload: bytes) -> None:
        try:
            self._handle(topic, payload)
        except ProtocolError as err:
            log.warning("dropped a message on %s: %s", topic, err)

    def _handle(self, topic: str, payload: bytes) -> None:
        now = self._clock()
        reply_device = device_of_reply_topic(topic)
        if reply_device is not None:
            self._handle_reply(reply_device, payload, now)
            return
        parsed = parse_homie_topic(topic)
        if parsed is None or parsed.kind is TopicKind.OTHER:
            return
        device = parsed.device_id
        if parsed.kind is TopicKind.STATE:
            state = _text(payload) or "unknown"
            if self.store.set_state(device, state, now):
                self.store.add_sample(device, "connectivity", CONNECTED_STATES.get(state, 0.0), now)
        elif parsed.kind is TopicKind.DESCRIPTION:
            if not payload:
                return  # the device was removed on purpose; keep what we knew
            try:
                description = json.loads(payload.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                raise ProtocolError(f"The $description is not UTF-8 JSON ({err}).") from err
            if not isinstance(description, dict):
                raise ProtocolError("The $description is not a JSON object.")
            self.store.set_description(device, description, now)
        elif parsed.kind is TopicKind.PROPERTY:
            value = _text(payload)
            if self.store.set_value(device, parsed.node, parsed.name, value, now):
                self._sample_property(device, parsed.node, parsed.name, value, now)
        elif parsed.kind is TopicKind.ALERT:
            alert = decode_alert(parsed.name, payload)
            if alert is None:
                changed = self.store.clear_alert(device, parsed.name, now)
            else:
                changed = self.store.raise_alert(device, alert, now)
            if changed and _is_door_alert(parsed.name):
                summary = self.store.terminal(device)
                alerts = summary.alerts if summary is not None else ()
                active = sum(1 for a in alerts if _is_door_alert(a.alert_id))
                self.store.add_sample(device, "door-alarms", float(active), now)
        elif parsed.kind is TopicKind.LOG:
            self.store.add_log(device, parsed.name, _log_text(payload), now)

    def _sample_property(self, device: str, node: str, prop: str, value: str, now: float) -> None:
        metric = SAMPLED_PROPERTIES.get((node, prop))
        if metric is None:
            return
        if metric == "paper":
            level = PAPER_LEVELS.get(value)
            if level is None:
                return
        else:
            try:
                level = float(value)
            except ValueError:
                return
        self.store.add_sample(device, metric, level, now)

    def _handle_reply(self, device: str, payload: bytes, now: float) -> None:
        reply = decode_reply(payload)
        owner = self.store.record_reply(reply, now)
        if owner is None:
            log.info("a reply from %s to unknown command %s", device, reply.command_id)
            return
        png = self._screenshot(reply)
        if png is not None:
            self.store.save_screenshot(owner, png, reply.command_id, now)
        for listener in self._reply_listeners:
            listener(owner, reply)

    def _screenshot(self, reply: Reply) -> bytes | None:
        """A screenshot comes inline (`png_base64`) or, when large, as IN_PROGRESS chunks
        followed by a final reply that gives the count and the SHA-256 of the whole image."""
        result = reply.result
        if not isinstance(result, dict):
            return None
        if "chunk" in result and "data" in result:
            try:
                piece = base64.b64decode(str(result["data"]), validate=True)
                self._chunks.setdefault(reply.command_id, {})[int(result["chunk"])] = piece
            except (binascii.Error, ValueError):
                log.warning("a screenshot chunk of %s is not base64", reply.command_id)
            return None
        if not reply.status.is_final:
            return None
        chunks = self._chunks.pop(reply.command_id, {})
        if isinstance(result.get("png_base64"), str):
            try:
                data = base64.b64decode(result["png_base64"], validate=True)
            except (binascii.Error, ValueError):
                return None
        elif isinstance(result.get("chunks"), int) and len(chunks) == result["chunks"]:
            data = b"".join(chunks[index] for index in sorted(chunks))
        else:
            return None
        digest = result.get("sha256")
        if isinstance(digest, str) and hashlib.sha256(data).hexdigest() != digest:
            log.warning("the screenshot of %s does not match its SHA-256", reply.command_id)
            return None
        return data if data.startswith(b"\x89PNG") else None


def _text(payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ProtocolError(f"A Homie value must be UTF-8 ({err}).") from err


def _log_text(payload: bytes) -> str:
    text = _text(payload)
    try:
        body: Any = json.loads(text)
    except json.JSONDecodeError:
        return text
    if isinstance(body, dict):
        return str(body.get("text") or body.get("message") or text)
    return text


def _is_door_alert(alert_id: str) -> bool:
    return alert_id.startswith(DOOR_ALERT_PREFIX)
