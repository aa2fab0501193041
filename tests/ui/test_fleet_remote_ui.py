"""A technician acts on the real app, off-screen, over a real Mosquitto: out of service, screenshot,
restart.

The app runs in a subprocess (this same file run as a script: Kivy allows one window per process)
with `[fleet] enabled` and the console's public key made by the test; the test is the console: it
signs commands with the private key, publishes them with an MQTT 5 response topic and correlation
data, and reads the replies. The child prints one JSON line each time what is on screen changes,
so the test waits on what a person would see, not on time.
"""

from __future__ import annotations

import base64
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEVICE_ID = "gz-fleet-ui-001"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WAIT_S = 40.0
PROCESS_TIMEOUT_S = 90


# -- the child: the real app --------------------------------------------------------------------
def run_app(config: str) -> int:
    from bootstrap.composition import build_app
    from kiosk.config import load_settings

    seen: dict[str, Any] = {}

    def on_first_frame(app: Any) -> None:
        from kivy.clock import Clock

        def report(_dt: float) -> None:
            notice = app.widget_at("out_of_service")
            attract_notices = app.screens.get_screen("attract").ids.notices.ids
            state = {
                "screen": app.screens.current,
                "attract_notice": attract_notices.notice_body.text,
                "message_zh": notice.ids.message_zh.text,
                "message_en": notice.ids.message_en.text,
                "hotline": notice.ids.hotline.text,
                "notice_on_screen": notice.parent is not None,
            }
            if state != seen:
                seen.clear()
                seen.update(state)
                print(json.dumps(state, ensure_ascii=False), flush=True)

        Clock.schedule_interval(report, 0.1)

    build_app(load_settings(Path(config)), headless=True, on_first_frame=on_first_frame).run()
    return 0  # not reached after a remote restart: run() leaves with SystemExit(75)


if __name__ == "__main__":
    sys.exit(run_app(sys.argv[1]))


# -- the test: the console ----------------------------------------------------------------------
import pytest  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

from tests.support.fleet_terminal import ConsoleKey, Recorder  # noqa: E402
from tests.support.mosquitto import MosquittoBroker, mosquitto_broker  # noqa: E402, F401
from tests.support.ui_process import headless_env  # noqa: E402

pytestmark = pytest.mark.ui

BASE = f"homie/5/{DEVICE_ID}"
CMD = f"gzk/1/{DEVICE_ID}/cmd"
REPLY = f"gzk/1/{DEVICE_ID}/reply/test-console"


class AppProcess:
    """The app in a subprocess; its screen reports arrive on a queue, read by a thread."""

    def __init__(self, config: Path) -> None:
        env = headless_env()
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), str(config)],
            cwd=config.parent,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.screens: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                self.screens.put(json.loads(line))

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)

    def wait_screen(self, wanted: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_S
        while (left := deadline - time.monotonic()) > 0:
            try:
                state = self.screens.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if wanted(state):
                return state
        log = "".join(self.stderr)[-3000:]
        raise AssertionError(f"{what}: not seen within {WAIT_S:g} s\n{log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


class Console:
    def __init__(self, recorder: Recorder, key: ConsoleKey) -> None:
        self.recorder = recorder
        self.key = key

    def send(self, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """Publish a signed command; return its final reply (anything but RECEIVED/IN_PROGRESS)."""
        command, payload = self.key.command(name, args)
        properties = Properties(PacketTypes.PUBLISH)
        properties.ResponseTopic = REPLY
        properties.CorrelationData = command.id.encode()
        properties.MessageExpiryInterval = 120
        self.recorder.client.publish(CMD, payload, qos=1, properties=properties)
        final: list[dict[str, Any]] = []

        def done() -> bool:
            for topic, body, _ in self.recorder.messages:
                if topic == REPLY and body:
                    reply = json.loads(body)
                    if reply["id"] == command.id and reply["status"] not in (
                        "RECEIVED",
                        "IN_PROGRESS",
                    ):
                        final.append(reply)
                        return True
            return False

        self.recorder.wait_for(done, WAIT_S, f"the final reply to {name}")
        return final[0]


@pytest.fixture(scope="module")
def terminal(
    tmp_path_factory: pytest.TempPathFactory,
    mosquitto_broker: MosquittoBroker,  # noqa: F811 - the fixture imported above
) -> Iterator[tuple[AppProcess, Console]]:
    folder = tmp_path_factory.mktemp("fleet_remote_ui")
    key = ConsoleKey()
    config = folder / "kiosk.toml"
    config.write_text(
        '[terminal]\nid = "GZ_Fleet.UI-001"\nhotline = "0744-12345"\n'
        "[display]\nwidth = 1080\nheight = 1920\n"
        f'[storage]\ndata_dir = "{folder / "data"}"\n'
        "[voice]\nenabled = false\n"
        f'[fleet]\nenabled = true\nbroker_url = "mqtt://127.0.0.1:{mosquitto_broker.port}"\n'
        f'console_public_key = "{key.public_b64}"\nkeepalive_s = 10\n',
        encoding="utf-8",
    )
    recorder = Recorder(mosquitto_broker.port, f"{BASE}/#", f"gzk/1/{DEVICE_ID}/reply/#")
    app = AppProcess(config)
    try:
        yield app, Console(recorder, key)
    finally:
        app.stop()
        recorder.close()


@pytest.mark.timeout(PROCESS_TIMEOUT_S)
def test_a_technician_drives_the_real_app_over_mqtt(terminal: tuple[AppProcess, Console]) -> None:
    app, console = terminal
    recorder = console.recorder
    app.wait_screen(lambda s: s["screen"] == "attract", "the attract screen")

    # the terminal reaches `ready`, with its description retained
    recorder.wait_for(lambda: recorder.latest(f"{BASE}/$state") == b"ready", WAIT_S, "ready")
    description = json.loads(recorder.latest(f"{BASE}/$description") or b"{}")
    assert description["homie"] == "5.0"
    assert {"system", "outbox", "doors"} <= set(description["nodes"])

    # out of service: the polite notice covers the attract screen, with the technician's words
    reply = console.send(
        "set-out-of-service",
        {"active": True, "message_zh": "设备维护中，请明天再来。", "message_en": "Under repair."},
    )
    assert (reply["status"], reply["result"]) == ("SUCCEEDED", {"active": True})
    shown = app.wait_screen(lambda s: s["screen"] == "out_of_service", "the out-of-service notice")
    assert shown["notice_on_screen"]
    assert shown["message_zh"] == "设备维护中，请明天再来。"
    assert shown["message_en"] == "Under repair."
    assert "0744-12345" in shown["hotline"]
    recorder.wait_for(
        lambda: recorder.latest(f"{BASE}/system/out-of-service") == b"true", WAIT_S, "published"
    )

    # the screenshot is of the notice, a real PNG of the window's size
    reply = console.send("screenshot")
    assert reply["status"] == "SUCCEEDED", reply
    result = reply["result"]
    png = base64.b64decode(result["png_base64"])
    assert png[:8] == PNG_SIGNATURE
    assert len(png) == result["bytes"] > 1000
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1080, 1920)

    # back in service: the attract screen returns
    reply = console.send("set-out-of-service", {"active": False})
    assert (reply["status"], reply["result"]) == ("SUCCEEDED", {"active": False})
    app.wait_screen(lambda s: s["screen"] == "attract", "the attract screen again")

    # a notice for this terminal and a faster rotation take effect at once, no restart
    reply = console.send(
        "set-config",
        {
            "version": 1,
            "values": {"service.notice_zh": "本机周二上午维护。", "notices.rotate_every_s": 1},
        },
    )
    assert reply["status"] == "SUCCEEDED", reply
    app.wait_screen(lambda s: s["attract_notice"] == "本机周二上午维护。", "the terminal's notice")

    # a remote restart: the final reply first, then an orderly stop and exit code 75
    reply = console.send("restart")
    assert (reply["status"], reply["result"]) == ("SUCCEEDED", {"exit_code": 75})
    assert app.process.wait(timeout=WAIT_S) == 75, "".join(app.stderr)[-3000:]
    recorder.wait_for(
        lambda: recorder.latest(f"{BASE}/$state") == b"disconnected", WAIT_S, "disconnected"
    )
