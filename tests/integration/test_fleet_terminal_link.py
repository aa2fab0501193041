"""The fleet link as the composition root builds it: settings → database → MQTT, end to end."""

from __future__ import annotations

import json
from pathlib import Path

from bootstrap.fleet_link import build_fleet_link
from kiosk.config import settings_from_mapping
from tests.support.fleet_terminal import ConsoleKey, Recorder, door_world
from tests.support.mosquitto import MosquittoBroker, mosquitto_broker  # noqa: F401


class Notice:
    def __init__(self) -> None:
        self.shown: list[tuple[bool, str]] = []

    def set_out_of_service(self, active: bool, message_zh: str, message_en: str) -> None:
        self.shown.append((active, message_en))


def test_disabled_builds_nothing(tmp_path: Path) -> None:
    world = door_world(tmp_path / "t.sqlite3")
    try:
        link = build_fleet_link(
            settings_from_mapping({}),
            world.database,
            devices={},
            columns=[world.column],
            compartments=world.compartments,
        )
        assert link is None
    finally:
        world.database.close()


def test_the_built_link_reports_and_obeys(
    tmp_path: Path,
    mosquitto_broker: MosquittoBroker,  # noqa: F811
) -> None:
    key = ConsoleKey()
    settings = settings_from_mapping(
        {
            "terminal": {"id": "GZ_Cili_007"},
            "fleet": {
                "enabled": True,
                "broker_url": mosquitto_broker.url,
                "console_public_key": key.public_b64,
                "keepalive_s": 10,
            },
        }
    )
    world = door_world(tmp_path / "t.sqlite3")
    notice = Notice()
    link = build_fleet_link(
        settings,
        world.database,
        devices={},
        columns=[world.column],
        compartments=world.compartments,
        notice=notice,
    )
    assert link is not None
    watcher = Recorder(mosquitto_broker.port, "homie/5/gz-cili-007/#", "gzk/1/gz-cili-007/reply/#")
    link.start()
    try:
        watcher.wait_for(
            lambda: watcher.latest("homie/5/gz-cili-007/$state") == b"ready", 15, "ready"
        )
        assert watcher.latest("homie/5/gz-cili-007/doors/state-6") == b"free"
        _, payload = key.command("set-out-of-service", {"active": True, "message_en": "Back at 8"})
        watcher.client.publish("gzk/1/gz-cili-007/cmd", payload, qos=1)
        watcher.wait_for(
            lambda: (
                watcher.latest("homie/5/gz-cili-007/$alert/terminal-out-of-service") is not None
            ),
            15,
            "the out-of-service alert",
        )
        replies = [
            json.loads(p) for t, p, _ in watcher.messages if t.startswith("gzk/1/gz-cili-007/reply")
        ]
        assert replies[-1]["status"] == "SUCCEEDED"
        assert notice.shown == [(True, "Back at 8")]
    finally:
        link.stop()
        watcher.wait_for(
            lambda: watcher.latest("homie/5/gz-cili-007/$state") == b"disconnected", 10, "stop"
        )
        watcher.close()
        world.database.close()
