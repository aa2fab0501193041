"""A hand-made terminal for console tests: it publishes a Homie v5 tree per docs/fleet-protocol.md
(retained), and answers commands after checking their signature like a terminal would, so the
console is tested against the protocol itself and not only against the simulator."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from fleet_console.protocol import ProtocolError, verify_command
from tests.support.mqtt_probe import MqttProbe, Received

PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000185d3a1de0000000049454e44ae426082"
)


def description(compartments: int) -> dict[str, Any]:
    health = {
        "state": {"name": "Health", "datatype": "enum"},
        "reason": {"name": "What to check", "datatype": "string"},
    }
    doors: dict[str, Any] = {}
    for n in range(1, compartments + 1):
        doors[f"door-{n}"] = {"name": f"Door {n}", "datatype": "enum"}
        doors[f"item-{n}"] = {"name": f"Item in {n}", "datatype": "enum"}
        doors[f"state-{n}"] = {"name": f"Compartment {n}", "datatype": "enum"}
    return {
        "homie": "5.0",
        "version": 1,
        "name": "Test terminal",
        "nodes": {
            "printer": {
                "name": "Receipt printer",
                "properties": {**health, "paper": {"name": "Paper", "datatype": "enum"}},
            },
            "locker-a": {
                "name": "Locker column A",
                "properties": {**health, "layout": {"name": "Layout", "datatype": "json"}},
            },
            "doors": {"name": "Compartment doors", "properties": doors},
            "system": {
                "name": "Terminal",
                "properties": {
                    "app-version": {"name": "Software version", "datatype": "string"},
                    "config-version": {
                        "name": "Remote configuration version",
                        "datatype": "integer",
                    },
                },
            },
        },
    }


@dataclass
class FakeTerminal:
    probe: MqttProbe
    device_id: str
    console_key: Ed25519PublicKey
    executed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"homie/5/{self.device_id}"

    def publish_tree(self, compartments: int = 8, paper: str = "ok") -> None:
        self.probe.publish(f"{self.base}/$state", b"init", retain=True)
        self.probe.publish(
            f"{self.base}/$description", json.dumps(description(compartments)).encode(), retain=True
        )
        layout = [
            {"n": n, "row": (n + 1) // 2, "col": 2 - n % 2, "size": "M"}
            for n in range(1, compartments + 1)
        ]
        values: dict[tuple[str, str], str] = {
            ("printer", "state"): "ok",
            ("printer", "reason"): "",
            ("printer", "paper"): paper,
            ("locker-a", "state"): "ok",
            ("locker-a", "layout"): json.dumps(layout),
            ("system", "app-version"): "0.1.0",
            ("system", "config-version"): "3",
        }
        for n in range(1, compartments + 1):
            values[("doors", f"door-{n}")] = "closed"
            values[("doors", f"item-{n}")] = "absent"
            values[("doors", f"state-{n}")] = "free"
        for (node, prop), value in values.items():
            self.set_value(node, prop, value)
        self.set_state("ready")

    def set_state(self, state: str) -> None:
        self.probe.publish(f"{self.base}/$state", state.encode(), retain=True)

    def set_value(self, node: str, prop: str, value: str) -> None:
        self.probe.publish(f"{self.base}/{node}/{prop}", value.encode(), retain=True)

    def raise_alert(self, alert_id: str, severity: str, text_en: str, text_zh: str) -> None:
        body = {
            "severity": severity,
            "text_en": text_en,
            "text_zh": text_zh,
            "since": "2025-01-01T02:10:00Z",
        }
        self.probe.publish(
            f"{self.base}/$alert/{alert_id}",
            json.dumps(body, ensure_ascii=False).encode(),
            retain=True,
        )

    def clear_alert(self, alert_id: str) -> None:
        self.probe.publish(f"{self.base}/$alert/{alert_id}", b"", retain=True)

    def log(self, level: str, text: str) -> None:
        self.probe.publish(f"{self.base}/$log/{level}", text.encode())

    def answer_commands(self) -> None:
        """Subscribe to our command topic and answer each verified command on its own thread."""
        self.probe.client.message_callback_add(f"gzk/1/{self.device_id}/cmd", self._on_command)
        self.probe.subscribe(f"gzk/1/{self.device_id}/cmd")

    def _on_command(self, client: Any, userdata: Any, message: Any) -> None:
        received = Received(message.topic, bytes(message.payload), False, message.properties)
        self.probe._on_message(client, userdata, message)  # recorded like any other message
        threading.Thread(target=self._answer, args=(received,), daemon=True).start()

    def _answer(self, message: Received) -> None:
        props = message.properties
        reply_to = getattr(props, "ResponseTopic", None)
        correlation = getattr(props, "CorrelationData", None)
        if not reply_to:
            return
        try:
            command = verify_command(message.payload, self.console_key)
        except ProtocolError as err:
            body = json.loads(message.payload)
            self._reply(
                reply_to,
                correlation,
                {"id": body.get("id", ""), "status": "REJECTED", "detail": str(err)},
            )
            return
        self.executed.append({"name": command.name, "args": dict(command.args), "id": command.id})
        self._reply(reply_to, correlation, {"id": command.id, "status": "RECEIVED"})
        result: Mapping[str, Any] | None = None
        if command.name == "screenshot":
            result = {"content_type": "image/png", "png_base64": base64.b64encode(PNG_1X1).decode()}
        elif command.name == "open-compartment":
            result = {"outcome": "opened"}
            self.set_value("doors", f"door-{command.args['number']}", "open")
        self._reply(
            reply_to,
            correlation,
            {"id": command.id, "status": "SUCCEEDED", "detail": "done", "result": result},
        )

    def _reply(self, topic: str, correlation: bytes | None, body: dict[str, Any]) -> None:
        properties = Properties(PacketTypes.PUBLISH)
        if correlation:
            properties.CorrelationData = correlation
        body.setdefault("detail", "")
        body.setdefault("result", None)
        body.setdefault("at", "2025-01-01T00:00:00Z")
        self.probe.client.publish(topic, json.dumps(body).encode(), qos=1, properties=properties)
