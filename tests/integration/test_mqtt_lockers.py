"""The MQTT locker-column driver against a real Mosquitto and a controller on the other side.

Two controllers play the far side: the firmware stub (with the world's controls: doors by hand,
jams, power cuts, a wrong clock, lost replies) and a few lines of raw paho + json written straight
from docs/mqtt-locker-protocol.md, so a mistake shared by the codec and the stub still shows.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devices.mqtt_lockers import MqttLockerColumn, column_from_settings
from firmware_stubs.mqtt_locker_column import LockerColumnController, start_from_settings
from kiosk.config import settings_from_mapping
from kiosk.ports.health import DeviceHealthChanged, HealthState
from kiosk.ports.lockers import (
    CompartmentSpec,
    DoorClosed,
    DoorOpened,
    DoorOpenedWithoutCommand,
    DoorState,
    ItemDetected,
    ItemRemoved,
    LockerError,
    UnlockOutcome,
)
from tests.support.mosquitto import MosquittoBroker, free_port, mosquitto_broker
from tests.support.waiting import wait_for

__all__ = ["mosquitto_broker"]  # the fixture, imported for pytest

REPO = Path(__file__).resolve().parents[2]
LOCKS = [(0, lock) for lock in range(1, 5)]
SPECS = [CompartmentSpec(lock, "A", 0, lock, "M", 1) for _, lock in LOCKS]


class Recorder:
    """An EventSink that keeps what it got, for any thread to call."""

    def __init__(self) -> None:
        self._events: list[object] = []
        self._lock = threading.Lock()

    def __call__(self, event: object) -> None:
        with self._lock:
            self._events.append(event)

    def events(self) -> list[object]:
        with self._lock:
            return [e for e in self._events if not isinstance(e, DeviceHealthChanged)]

    def health_states(self) -> list[HealthState]:
        with self._lock:
            return [e.health.state for e in self._events if isinstance(e, DeviceHealthChanged)]


def unique_id() -> str:
    return f"col-{uuid.uuid4().hex[:10]}"


def make_driver(broker_url: str, controller_id: str, **options: Any) -> MqttLockerColumn:
    return MqttLockerColumn(
        "A", broker_url, controller_id, SPECS, client_id=f"kiosk-{uuid.uuid4().hex[:8]}", **options
    )


def is_ok(driver: MqttLockerColumn) -> bool:
    return driver.health().state is HealthState.OK


@pytest.fixture
def column(
    mosquitto_broker: MosquittoBroker,
) -> Iterator[tuple[LockerColumnController, MqttLockerColumn, Recorder]]:
    controller = LockerColumnController(unique_id(), mosquitto_broker.url, LOCKS).start()
    driver = make_driver(mosquitto_broker.url, controller.topics.controller_id)
    recorder = Recorder()
    driver.start(recorder)
    try:
        assert wait_for(lambda: is_ok(driver)), driver.health()
        yield controller, driver, recorder
    finally:
        driver.stop()
        controller.stop()


class RawClient:
    """A bare paho client: publishes what a test writes by hand and collects what arrives."""

    def __init__(self, broker_url: str, *topics: str) -> None:
        port = int(broker_url.rsplit(":", 1)[1])
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"raw-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if topics:
            self.client.subscribe([(topic, 1) for topic in topics])
            assert self._subscribed.wait(5)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, json.loads(message.payload)))

    def received(self, topic: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for t, body in self.messages if t == topic]

    def publish(self, topic: str, body: dict[str, Any] | bytes, retain: bool = False) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# -- unlock outcomes and events -------------------------------------------------------------------
def test_unlock_opens_and_door_events_follow(
    column: tuple[LockerColumnController, MqttLockerColumn, Recorder],
) -> None:
    controller, driver, recorder = column
    assert driver.unlock(2) is UnlockOutcome.OPENED
    assert wait_for(lambda: DoorOpened(2) in recorder.events())
    assert driver.readings()[2].door is DoorState.OPEN
    assert driver.unlock(2) is UnlockOutcome.ALREADY_OPEN

    controller.control("put_item", {"lock": 2})
    controller.control("close_door", {"lock": 2})
    assert wait_for(lambda: DoorClosed(2) in recorder.events())
    assert recorder.events() == [DoorOpened(2), ItemDetected(2), DoorClosed(2)]
    assert driver.readings()[2].item_present is True
    assert controller.control("pulses", {"lock": 2}) == {"pulses": 2}


def test_jammed_lock_and_unknown_compartment(
    column: tuple[LockerColumnController, MqttLockerColumn, Recorder],
) -> None:
    controller, driver, _ = column
    controller.control("jam", {"lock": 3})
    assert driver.unlock(3) is UnlockOutcome.JAMMED
    assert driver.readings()[3].door is DoorState.CLOSED
    with pytest.raises(LockerError, match="has no compartment 99"):
        driver.unlock(99)


def test_hand_opened_door_raises_the_alarm(
    column: tuple[LockerColumnController, MqttLockerColumn, Recorder],
) -> None:
    controller, _, recorder = column
    controller.control("open_door", {"lock": 1})
    assert wait_for(lambda: DoorOpenedWithoutCommand(1) in recorder.events())
    assert recorder.events() == [DoorOpened(1), DoorOpenedWithoutCommand(1)]
    controller.control("remove_item", {"lock": 1})  # it was already empty: no event
    controller.control("put_item", {"lock": 1})
    controller.control("remove_item", {"lock": 1})
    assert wait_for(lambda: ItemRemoved(1) in recorder.events())
    assert recorder.events()[2:] == [ItemDetected(1), ItemRemoved(1)]


def test_config_that_names_a_lock_the_controller_lacks(mosquitto_broker: MosquittoBroker) -> None:
    controller = LockerColumnController(unique_id(), mosquitto_broker.url, [(0, 1)]).start()
    driver = make_driver(mosquitto_broker.url, controller.topics.controller_id)
    driver.start(Recorder())
    try:
        assert wait_for(lambda: is_ok(driver), timeout=30)
        with pytest.raises(LockerError, match="does not match the controller"):
            driver.unlock(4)
    finally:
        driver.stop()
        controller.stop()


# -- exactly once, and never late ------------------------------------------------------------------
def test_duplicate_delivery_of_one_command_id_unlocks_once(
    column: tuple[LockerColumnController, MqttLockerColumn, Recorder],
    mosquitto_broker: MosquittoBroker,
) -> None:
    controller, _, _ = column
    root = f"lockers/{controller.topics.controller_id}"
    raw = RawClient(mosquitto_broker.url, f"{root}/reply/raw")
    try:
        command = {
            "v": 1,
            "type": "unlock",
            "id": "dup-1",
            "board": 0,
            "lock": 4,
            "expires_at_ms": now_ms() + 10_000,
            "reply_to": f"{root}/reply/raw",
        }
        raw.publish(f"{root}/cmd", command)
        raw.publish(f"{root}/cmd", command)
        assert wait_for(lambda: len(raw.received(f"{root}/reply/raw")) == 2)
        first, second = raw.received(f"{root}/reply/raw")
        assert first["result"] == second["result"] == "opened"
        assert (first["replayed"], second["replayed"]) == (False, True)
        assert controller.control("pulses", {"lock": 4}) == {"pulses": 1}
    finally:
        raw.close()


def test_lost_reply_is_resent_with_the_same_id_and_does_not_unlock_twice(
    column: tuple[LockerColumnController, MqttLockerColumn, Recorder],
) -> None:
    controller, driver, recorder = column
    controller.control("drop_replies", {"count": 1})
    assert driver.unlock(1) is UnlockOutcome.OPENED  # the answer came from the replay
    assert controller.control("pulses", {"lock": 1}) == {"pulses": 1}
    assert wait_for(lambda: DoorOpened(1) in recorder.events())
    assert DoorOpenedWithoutCommand(1) not in recorder.events()


def test_expired_command_is_refused_and_nothing_opens(
    column: tuple[LockerColumnController, MqttLockerColumn, Recorder],
    mosquitto_broker: MosquittoBroker,
) -> None:
    controller, driver, _ = column
    root = f"lockers/{controller.topics.controller_id}"
    raw = RawClient(mosquitto_broker.url, f"{root}/reply/late")
    try:
        raw.publish(
            f"{root}/cmd",
            {
                "v": 1,
                "type": "unlock",
                "id": "late-1",
                "board": 0,
                "lock": 2,
                "expires_at_ms": now_ms() - 1,
                "reply_to": f"{root}/reply/late",
            },
        )
        assert wait_for(lambda: bool(raw.received(f"{root}/reply/late")))
        assert raw.received(f"{root}/reply/late")[0] == {
            "v": 1,
            "type": "reply",
            "id": "late-1",
            "result": "refused",
            "reason": "expired",
            "replayed": False,
        }
        # a command of a future protocol version is refused as such, not silently dropped
        raw.publish(
            f"{root}/cmd",
            {"v": 2, "type": "unlock", "id": "v2-1", "reply_to": f"{root}/reply/late"},
        )
        assert wait_for(lambda: len(raw.received(f"{root}/reply/late")) == 2)
        assert raw.received(f"{root}/reply/late")[1]["reason"] == "bad_command"
    finally:
        raw.close()
    assert controller.control("pulses", {"lock": 2}) == {"pulses": 0}

    # The driver's own command refused for lateness (the controller's clock runs 10 s ahead):
    controller.control("clock_skew", {"ms": 10_000})
    assert driver.unlock(2) is UnlockOutcome.UNKNOWN
    assert driver.health().state is HealthState.DEGRADED
    assert "too late" in driver.health().reason
    assert controller.control("pulses", {"lock": 2}) == {"pulses": 0}
    controller.control("clock_skew", {"ms": 0})
    assert driver.unlock(2) is UnlockOutcome.OPENED
    assert is_ok(driver)


def test_a_command_the_terminal_gave_up_on_never_opens_later(
    mosquitto_broker: MosquittoBroker,
) -> None:
    controller = LockerColumnController(unique_id(), mosquitto_broker.url, LOCKS).start()
    driver = make_driver(
        mosquitto_broker.url,
        controller.topics.controller_id,
        reply_timeout_s=0.6,
        command_ttl_s=0.5,
        resend_every_s=0.2,
    )
    driver.start(Recorder())
    try:
        assert wait_for(lambda: is_ok(driver), timeout=30)
        controller.control("slow", {"seconds": 0.8})
        assert driver.unlock(3) is UnlockOutcome.UNKNOWN
        # let the slow controller work through every copy of the command
        assert wait_for(controller.is_idle, timeout=10)
        assert controller.control("pulses", {"lock": 3}) == {"pulses": 0}
        assert driver.readings()[3].door is DoorState.CLOSED
    finally:
        driver.stop()
        controller.stop()


# -- presence, restarts, retained state
def test_killed_controller_goes_offline_by_its_will_and_unlock_is_unknown(
    mosquitto_broker: MosquittoBroker,
) -> None:
    controller_id = unique_id()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "firmware_stubs.mqtt_locker_column",
            "--broker",
            mosquitto_broker.url,
            "--controller-id",
            controller_id,
            "--locks",
            "4",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    driver = make_driver(mosquitto_broker.url, controller_id)
    recorder = Recorder()
    driver.start(recorder)
    try:
        assert process.stdout is not None
        assert select.select([process.stdout], [], [], 60)[0], "the controller did not start"
        assert process.stdout.readline() == b"ready\n"
        assert wait_for(lambda: is_ok(driver), timeout=30)
        # ok comes with the status message; the retained state may land a moment later
        assert wait_for(lambda: driver.readings()[1].door is DoorState.CLOSED)

        process.send_signal(signal.SIGKILL)
        process.wait(5)
        assert wait_for(lambda: driver.health().state is HealthState.OFFLINE)
        assert "offline (the broker published its last will)" in driver.health().reason
        assert driver.unlock(1) is UnlockOutcome.UNKNOWN
        assert driver.readings()[1].door is DoorState.UNKNOWN
    finally:
        driver.stop()
        if process.poll() is None:
            process.kill()
            process.wait(5)


def test_power_cut_and_return(
    column: tuple[LockerColumnController, MqttLockerColumn, Recorder],
) -> None:
    controller, driver, recorder = column
    controller.control("power_off", {})
    assert wait_for(lambda: driver.health().state is HealthState.OFFLINE)
    controller.control("open_door", {"lock": 2})  # forced while the controller was down
    controller.control("power_on", {})
    assert wait_for(lambda: is_ok(driver))
    assert wait_for(lambda: DoorOpenedWithoutCommand(2) in recorder.events())
    assert driver.unlock(1) is UnlockOutcome.OPENED
    assert recorder.health_states()[-2:] == [HealthState.OFFLINE, HealthState.OK]


def test_broker_restart_the_driver_reconnects_by_itself() -> None:
    broker = MosquittoBroker().start()
    controller = LockerColumnController(unique_id(), broker.url, LOCKS).start()
    driver = make_driver(broker.url, controller.topics.controller_id)
    recorder = Recorder()
    driver.start(recorder)
    try:
        assert wait_for(lambda: is_ok(driver), timeout=30)
        broker.stop()
        assert wait_for(lambda: driver.health().state is HealthState.OFFLINE)
        assert "cannot be reached" in driver.health().reason
        assert driver.unlock(1) is UnlockOutcome.UNKNOWN
        broker.start()
        assert wait_for(lambda: is_ok(driver), timeout=10), driver.health()
        assert driver.unlock(1) is UnlockOutcome.OPENED
        assert wait_for(lambda: DoorOpened(1) in recorder.events())
    finally:
        driver.stop()
        controller.stop()
        broker.cleanup()


def test_broker_down_at_start_is_offline_until_it_comes() -> None:
    broker = MosquittoBroker(free_port())
    controller = LockerColumnController(unique_id(), broker.url, LOCKS).start()
    driver = make_driver(broker.url, controller.topics.controller_id)
    driver.start(Recorder())
    try:
        assert driver.health().state is HealthState.OFFLINE
        assert broker.url in driver.health().reason
        broker.start()
        assert wait_for(lambda: is_ok(driver), timeout=10), driver.health()
    finally:
        driver.stop()
        controller.stop()
        broker.cleanup()


def test_retained_state_tells_a_new_terminal_the_doors(
    column: tuple[LockerColumnController, MqttLockerColumn, Recorder],
    mosquitto_broker: MosquittoBroker,
) -> None:
    controller, first_terminal, _ = column
    controller.control("open_door", {"lock": 3})
    controller.control("put_item", {"lock": 4})
    assert wait_for(lambda: first_terminal.readings()[4].item_present is True)

    newcomer = make_driver(mosquitto_broker.url, controller.topics.controller_id)
    recorder = Recorder()
    newcomer.start(recorder)
    try:
        assert wait_for(lambda: is_ok(newcomer))
        assert wait_for(lambda: newcomer.readings()[3].door is DoorState.OPEN)
        readings = newcomer.readings()
        assert readings[4].item_present is True
        assert readings[1].door is DoorState.CLOSED
        assert recorder.events() == []  # what was already so is not news
    finally:
        newcomer.stop()


# -- an independent controller, written from the document with raw paho + json
class SpecController:
    """Answers unlocks 'opened' and keeps the retained state; no project code involved."""

    def __init__(self, broker_url: str, controller_id: str) -> None:
        self.root = f"lockers/{controller_id}"
        self.doors = {1: "closed", 2: "closed"}
        self.seq = 0
        self.raw = RawClient(broker_url, f"{self.root}/cmd")
        self.raw.client.on_message = self._on_message
        self.raw.publish(f"{self.root}/status", {"v": 1, "type": "status", "online": True}, True)
        self._publish_state()

    def _publish_state(self) -> None:
        self.seq += 1
        locks = [
            {"board": 0, "lock": n, "door": door, "item": None} for n, door in self.doors.items()
        ]
        body = {"v": 1, "type": "state", "seq": self.seq, "locks": locks}
        self.raw.client.publish(f"{self.root}/state", json.dumps(body), qos=1, retain=True)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        command = json.loads(message.payload)
        result = "already_open" if self.doors[command["lock"]] == "open" else "opened"
        self.doors[command["lock"]] = "open"
        self._publish_state()
        reply = {"v": 1, "type": "reply", "id": command["id"], "result": result}
        client.publish(
            command["reply_to"], json.dumps({**reply, "reason": None, "replayed": False})
        )


def test_driver_against_an_independent_controller(mosquitto_broker: MosquittoBroker) -> None:
    controller_id = unique_id()
    spec_controller = SpecController(mosquitto_broker.url, controller_id)
    driver = MqttLockerColumn(
        "B",
        mosquitto_broker.url,
        controller_id,
        [CompartmentSpec(n, "B", 0, n, "S", 1) for n in (1, 2)],
        client_id="kiosk-independent",
    )
    recorder = Recorder()
    driver.start(recorder)
    try:
        assert wait_for(lambda: is_ok(driver), timeout=30)
        assert driver.readings()[1].item_present is None  # this column has no item sensors
        spec_controller.raw.publish(f"lockers/{controller_id}/state", b"{not json")
        assert driver.unlock(1) is UnlockOutcome.OPENED
        assert driver.unlock(1) is UnlockOutcome.ALREADY_OPEN
        assert wait_for(lambda: recorder.events() == [DoorOpened(1)])
        assert is_ok(driver)
    finally:
        driver.stop()
        spec_controller.raw.close()


# -- what `kiosk stubs start` and the composition root use
def test_start_from_settings_brings_up_broker_and_controller() -> None:
    port = free_port()
    settings = settings_from_mapping(
        {
            "devices": {
                "locker_columns": [
                    {
                        "name": "A",
                        "transport": "mqtt",
                        "broker": f"mqtt://127.0.0.1:{port}",
                        "controller_id": "col-a",
                    },
                ]
            }
        }
    )
    stubs = start_from_settings(settings)
    driver = column_from_settings(settings.devices.locker_columns[0], "demo-0001")
    try:
        assert [stub.name for stub in stubs] == ["mqtt-broker", "mqtt-lockers-A"]
        driver.start(Recorder())
        assert wait_for(lambda: is_ok(driver), timeout=30)
        assert len(driver.compartments()) == 16
        assert driver.unlock(9) is UnlockOutcome.OPENED  # board 1 lock 1 in the demo map
        doors = stubs[1].control("doors", {})["doors"]
        assert isinstance(doors, dict)
        assert doors["1-1"]["door"] == "open"
    finally:
        driver.stop()
        for stub in reversed(stubs):
            stub.stop()
