"""The `CardReader` port over a social-security card application and any APDU transport."""

from __future__ import annotations

import threading
import time

from devices.errors import DeviceOffline
from devices.idcard.watcher import CardWatcher
from kiosk.ports.health import DeviceHealth, DeviceHealthChanged, EventSink, HealthState
from kiosk.ports.identity import Identity, IdentitySource

from .application import ApduTransport, SocialSecurityApplication

DEVICE_NAME = "social-security card reader"


class SocialSecurityCardReader:
    def __init__(self, transport: ApduTransport, *, poll_interval_s: float = 0.3) -> None:
        self._transport = transport
        self._application = SocialSecurityApplication(transport)
        self._sink: EventSink | None = None
        self._health = DeviceHealth(DEVICE_NAME, HealthState.OK, "", time.monotonic())
        self._health_lock = threading.Lock()
        self._watcher = CardWatcher(
            "social_security_card",
            self._probe,
            self._read_identity,
            self._publish,
            interval_s=poll_interval_s,
        )

    @property
    def source(self) -> IdentitySource:
        return "social_security_card"

    def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._watcher.start()

    def stop(self) -> None:
        self._watcher.stop()

    def current(self) -> Identity | None:
        return self._watcher.current()

    def health(self) -> DeviceHealth:
        return self._health

    def _probe(self, _believed_present: bool) -> bool:
        try:
            present = self._transport.card_present()
        except DeviceOffline as err:
            self._set_health(HealthState.OFFLINE, str(err))
            raise
        self._set_health(HealthState.OK, "")
        return present

    def _read_identity(self) -> Identity:
        return self._application.read_card().to_identity()

    def _publish(self, event: object) -> None:
        if self._sink is not None:
            self._sink(event)

    def _set_health(self, state: HealthState, reason: str) -> None:
        with self._health_lock:
            if (state, reason) == (self._health.state, self._health.reason):
                return
            self._health = DeviceHealth(DEVICE_NAME, state, reason, time.monotonic())
            health = self._health
        self._publish(DeviceHealthChanged(health))
