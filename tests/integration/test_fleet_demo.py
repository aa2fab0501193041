"""A technician acts on the demo's terminal: `kiosk demo` joins a private fleet broker, and the
`kiosk fleet` CLI, with the key the demo made, sees the terminal ready and prints a test page.

The demo world (stubs, a private hall, Mosquitto, the console key) and the real app run in a
subprocess — this same file run as a script, since Kivy allows one window per process — exactly as
`kiosk demo` composes them. The test reads the lines the demo prints for a person (the broker, the
key, the stub controls), then calls the CLI in-process like a technician would type it, and asks
the printer stub whether paper came out. Closing the child's stdin stops the app, and the demo
world then stops its broker and stubs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TERMINAL_ID = "GZ-Cili-Demo"
DEVICE_ID = "gz-cili-demo"
WAIT_S = 40.0  # a deadline for a loaded two-core box, not a speed target
READY_LINE = "DEMO-APP-DRAWN"


# -- the child: `kiosk demo`'s world and the app, stopped by closing stdin -----------------------
def run_demo_app(config: str, out_dir: str) -> int:
    from bootstrap.composition import build_app
    from bootstrap.demo import demo_world
    from kiosk.config import load_settings

    with demo_world(load_settings(Path(config)), Path(out_dir)) as demo:

        def on_first_frame(app: Any) -> None:
            from kivy.clock import Clock

            def stop_when_stdin_closes() -> None:
                sys.stdin.read()
                Clock.schedule_once(lambda _dt: app.stop())

            threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
            print(READY_LINE, flush=True)

        build_app(demo.settings, headless=True, on_first_frame=on_first_frame).run()
    return 0


if __name__ == "__main__":
    sys.exit(run_demo_app(sys.argv[1], sys.argv[2]))


# -- the test: a technician at the console -------------------------------------------------------
import pytest  # noqa: E402

from bootstrap.cli import main as kiosk_main  # noqa: E402
from firmware_stubs.control import send_control  # noqa: E402
from firmware_stubs.loopback import free_port  # noqa: E402
from firmware_stubs.mqtt_locker_column import MOSQUITTO  # noqa: E402

pytestmark = [
    pytest.mark.ui,
    pytest.mark.timeout(90),
    pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="needs Debian's mosquitto"),
]


class DemoProcess:
    def __init__(self, folder: Path) -> None:
        config = folder / "kiosk.toml"
        config.write_text(
            f'[terminal]\nid = "{TERMINAL_ID}"\n'
            "[display]\nwidth = 540\nheight = 960\n"
            f'[devices.idcard]\nport = "socket://127.0.0.1:{free_port()}"\nbaud = 115200\n'
            f'[devices.scanner]\nport = "socket://127.0.0.1:{free_port()}"\n'
            f'[devices.printer]\nurl = "tcp://127.0.0.1:{free_port()}"\n'
            f'[devices.camera]\nsource = "http://127.0.0.1:{free_port()}/stream.mjpg"\n'
            f'[[devices.locker_columns]]\nport = "socket://127.0.0.1:{free_port()}"\n'
            "[voice]\nenabled = false\n",
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env["PYTHONPATH"] = str(ROOT)
        env["PYTHONUNBUFFERED"] = "1"
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), str(config), str(folder / "out")],
            cwd=folder,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_line(self, pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + WAIT_S
        with self._changed:
            while True:
                for line in self.lines:
                    if found := re.search(pattern, line):
                        return found
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    tail = "\n".join(self.lines[-40:])
                    raise AssertionError(f"the demo never printed {pattern!r}:\n{tail}")
                self._changed.wait(min(left, 0.5))

    def stop(self) -> int:
        """Close stdin (the app stops, the demo world tidies up); kill only as a last resort."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            return self.process.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    running = DemoProcess(tmp_path_factory.mktemp("fleet-demo"))
    try:
        yield running
    finally:
        code = running.stop()
        assert code == 0, "\n".join(running.lines[-40:])


def fleet(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = kiosk_main(["fleet", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def wait_for(check: Callable[[], bool], what: Callable[[], str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_S:.0f} s: {what()}")


def test_a_technician_sees_the_demo_terminal_and_prints_a_test_page(
    demo: DemoProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    console = demo.wait_line(r"kiosk fleet console --broker (mqtt://\S+) --key (\S+)")
    broker, key = console.group(1), console.group(2)
    simulate = demo.wait_line(r"kiosk fleet simulate --terminals 20 --broker (\S+) --console-")
    assert simulate.group(1) == broker
    assert demo.wait_line(r"terminal (\S+) reports to the fleet broker").group(1) == DEVICE_ID
    controls = int(demo.wait_line(r"stub controls at 127\.0\.0\.1:(\d+)").group(1))
    demo.wait_line(READY_LINE)

    seen: list[dict[str, Any]] = []

    def demo_terminal_ready() -> bool:
        code, out, err = fleet(capsys, "status", "--broker", broker, "--json", "--wait", "3")
        assert code == 0, err
        seen[:] = [t for t in json.loads(out) if t["device_id"] == DEVICE_ID]
        return bool(seen) and seen[0]["state"] == "ready" and "printer" in seen[0]["devices"]

    wait_for(demo_terminal_ready, lambda: f"status said {seen}")
    devices = seen[0]["devices"]
    assert {"printer", "idcard", "scanner", "camera", "locker-a"} <= set(devices), devices
    assert devices["printer"] == "ok", devices

    code, out, _ = fleet(capsys, "status", "--broker", broker)
    assert code == 0
    assert re.search(rf"^{DEVICE_ID}\s+ready\b", out, re.MULTILINE), out

    before = send_control("printer", "jobs", port=controls)["jobs"]
    code, out, err = fleet(
        capsys, "cmd", DEVICE_ID, "print-test-page", "--broker", broker, "--key", key,
        "--issuer", "test-technician", "--wait", str(WAIT_S),
    )  # fmt: skip
    assert code == 0, out + err
    assert "SUCCEEDED" in out, out
    jobs = send_control("printer", "jobs", port=controls)["jobs"]
    assert len(jobs) == len(before) + 1, jobs
    printed = "\n".join(jobs[-1]["lines"])
    assert "gz-cili-demo" in printed.lower() or TERMINAL_ID in printed, printed
