"""The terminal's side of the Homie conversation, as a state machine that returns publications.

No MQTT here: `FleetTelemetry` is told what happened (a new snapshot, connected, disconnected, a
log line, time passing) and answers with the `Publish` list to send, in order. The adapter moves
the bytes. That keeps the rules — report by exception, heartbeat, the reconnect sequence, the
durable alert history — testable with a fake clock and no broker.

The rules:

* **Report by exception.** A property is published when its value changes; slowly drifting
  numbers (disk free, temperature, outbox age) only when they moved past a deadband. A heartbeat
  property every `heartbeat_s` tells the console the terminal is alive and idle.
* **Reconnect sequence** (every connect, so a broker that lost its memory is refilled): `$state`
  = init, `$description`, every value, the undelivered alert/log history from the durable outbox,
  the current alert set, heartbeat, `$state` = ready. Everything retained except logs.
* **Alerts are history, not only state.** Each raise/update/clear is written to the durable outbox
  at once (connected or not) with the new active set in the same transaction, and published from
  there in order; the row is deleted after the broker's PUBACK (`acknowledged`).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from .alerts import Alert, AlertThresholds, decode_alert, derive_alerts
from .model import (
    DEADBANDS,
    NodeSpec,
    TerminalSnapshot,
    describe,
    description_json,
    iso_utc,
    values,
)
from .store import FleetStore, Outbound
from .topics import FleetTopics

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


@dataclass(frozen=True)
class Publish:
    """One message to hand to the broker (QoS 1); `outbound_seq` marks a durable outbox row."""

    topic: str
    payload: bytes
    retain: bool
    outbound_seq: int | None = None


class FleetTelemetry:
    """One terminal's telemetry. Not thread-safe: the adapter calls it from one thread."""

    def __init__(
        self,
        device_id: str,
        store: FleetStore,
        *,
        heartbeat_s: float = 900.0,
        thresholds: AlertThresholds | None = None,
        drain_batch: int = 100,
    ) -> None:
        self.topics = FleetTopics(device_id)
        self._store = store
        self._heartbeat_s = heartbeat_s
        self._thresholds = thresholds or AlertThresholds()
        self._drain_batch = drain_batch
        self._snapshot: TerminalSnapshot | None = None
        self._connected = False
        self._published: dict[tuple[str, str], str] = {}
        self._structure: tuple[NodeSpec, ...] | None = None
        self._last_heartbeat_mono: float | None = None
        self._in_flight: set[int] = set()
        self._alerts: dict[str, Alert] = {
            alert_id: decode_alert(alert_id, payload)
            for alert_id, payload in store.active_alerts().items()
        }

    # -- what the adapter tells us ------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def active_alerts(self) -> Mapping[str, Alert]:
        return dict(self._alerts)

    def observe(self, snapshot: TerminalSnapshot, now: datetime, now_mono: float) -> list[Publish]:
        """A fresh snapshot: record alert changes durably, and (connected) what to publish."""
        self._snapshot = snapshot
        self._record_alert_changes(snapshot, now)
        if not self._connected:
            return []
        out: list[Publish] = []
        structure = describe(snapshot)
        if structure != self._structure:
            out += self._full_state(snapshot, structure, now, now_mono)
            return out
        for key, value in values(snapshot).items():
            if self._changed(key, value):
                self._published[key] = value
                out.append(Publish(self.topics.value(*key), value.encode(), retain=True))
        out += self._heartbeat_if_due(now, now_mono)
        out += self.outbound()
        return out

    def tick(self, now: datetime, now_mono: float) -> list[Publish]:
        """Time passed with no new snapshot: the heartbeat, and queued history."""
        if not self._connected:
            return []
        return self._heartbeat_if_due(now, now_mono) + self.outbound()

    def on_connected(self, now: datetime, now_mono: float) -> list[Publish]:
        self._connected = True
        self._in_flight.clear()
        self._published.clear()
        if self._snapshot is None:
            return [Publish(self.topics.state, b"init", retain=True)]
        return self._full_state(self._snapshot, describe(self._snapshot), now, now_mono)

    def on_disconnected(self) -> None:
        """Unacknowledged outbox rows will be sent again after the next connect."""
        self._connected = False
        self._in_flight.clear()

    def stopping(self) -> list[Publish]:
        """An orderly stop: the console shows `disconnected`, not `lost`."""
        return [Publish(self.topics.state, b"disconnected", retain=True)]

    def will(self) -> Publish:
        return Publish(self.topics.state, b"lost", retain=True)

    def log(self, level: str, logger: str, message: str, now: datetime) -> list[Publish]:
        """A log line for `$log/<level>` (not retained), queued durably like alerts."""
        level = level.lower() if level.lower() in LOG_LEVELS else "info"
        body = {"at": iso_utc(now), "logger": logger, "message": message[:2000]}
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        self._store.append_outbound([Outbound(self.topics.log(level), payload, retain=False)])
        return self.outbound() if self._connected else []

    def outbound(self) -> list[Publish]:
        """The next durable rows not already handed to the broker."""
        if not self._connected:
            return []
        out: list[Publish] = []
        for stored in self._store.pending_outbound(self._drain_batch + len(self._in_flight)):
            if stored.seq in self._in_flight:
                continue
            self._in_flight.add(stored.seq)
            message = stored.message
            out.append(Publish(message.topic, message.payload, message.retain, stored.seq))
        return out

    def acknowledged(self, outbound_seq: int) -> list[Publish]:
        """The broker has the row: delete it, and hand out the next ones when a batch emptied."""
        self._store.delete_outbound(outbound_seq)
        self._in_flight.discard(outbound_seq)
        return self.outbound() if not self._in_flight else []

    # -- internals ----------------------------------------------------------------------------

    def _full_state(
        self,
        snapshot: TerminalSnapshot,
        structure: tuple[NodeSpec, ...],
        now: datetime,
        now_mono: float,
    ) -> list[Publish]:
        self._structure = structure
        version = zlib.crc32(description_json(snapshot, structure, 0))
        out = [
            Publish(self.topics.state, b"init", retain=True),
            Publish(self.topics.description, description_json(snapshot, structure, version), True),
        ]
        self._published = values(snapshot)
        out += [
            Publish(self.topics.value(*key), value.encode(), retain=True)
            for key, value in self._published.items()
        ]
        out += self.outbound()
        out += [Publish(self.topics.alert(a.id), a.payload(), True) for a in self._alerts.values()]
        out += self._heartbeat(now, now_mono)
        out.append(Publish(self.topics.state, b"ready", retain=True))
        return out

    def _heartbeat_if_due(self, now: datetime, now_mono: float) -> list[Publish]:
        last = self._last_heartbeat_mono
        if last is not None and now_mono - last < self._heartbeat_s:
            return []
        return self._heartbeat(now, now_mono)

    def _heartbeat(self, now: datetime, now_mono: float) -> list[Publish]:
        self._last_heartbeat_mono = now_mono
        topic = self.topics.value("system", "heartbeat")
        return [Publish(topic, iso_utc(now).encode(), retain=True)]

    def _changed(self, key: tuple[str, str], value: str) -> bool:
        before = self._published.get(key)
        if before == value:
            return False
        band = DEADBANDS.get(key)
        if before is None or band is None:
            return True
        try:
            old, new = float(before), float(value)
        except ValueError:
            return True
        if (old == 0) != (new == 0):
            return True  # crossing zero (an outbox that emptied) always counts
        return abs(new - old) >= band

    def _record_alert_changes(self, snapshot: TerminalSnapshot, now: datetime) -> None:
        current = derive_alerts(snapshot, self._alerts, now, self._thresholds)
        changes: list[Outbound] = []
        for alert_id in sorted(self._alerts.keys() - current.keys()):
            changes.append(Outbound(self.topics.alert(alert_id), b"", retain=True))
        for alert_id, alert in current.items():
            if self._alerts.get(alert_id) != alert:
                changes.append(Outbound(self.topics.alert(alert_id), alert.payload(), True))
        if not changes:
            return
        self._store.append_outbound(
            changes, {alert_id: alert.payload() for alert_id, alert in current.items()}
        )
        self._alerts = current
