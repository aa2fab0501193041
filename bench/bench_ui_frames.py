"""Issue 5: does the UI stay smooth while the camera, the door polling and the outbox all work?

Runs the real app off-screen (composition root, firmware stubs, a private seeded service hall),
plays the `apply` journey by touches up to the materials step — where the camera preview is drawn
and the page detector runs on every frame — then, for `--seconds`, keeps changing what lies under
the camera (a QR code, a page moving, a page lying still, nothing) and records, in the app:

- loop interval: time between two turns of Kivy's event loop (a per-frame Clock callback).
  Kivy caps the loop at 60 per second, so ~16.7 ms is the floor; anything that holds the UI
  thread (a slow redraw, a blocking call) shows up here as a longer interval. Target: p99 ≤ 20 ms,
  no interval > 50 ms.
- draw interval: time between two buffer swaps (Window on_flip). Kivy draws only when something
  changed, so this follows the camera preview's frame rate, not the loop's health.
- CPU wait (Linux): how much of each loop interval the UI thread spent runnable but waiting for
  a core (the kernel's run-queue delay, /proc/thread-self/schedstat). On a shared 2-core machine
  other programs' load shows up there, not in the app; "loop less CPU wait" is the interval with
  that wait taken out: what the app itself held the loop for (its own work, the GIL, the renderer).

The firmware stubs and the seeded hall run in a child process: in the field they are other
machines, and in-process their JPEG encoding and HTTP serving would compete for the app's GIL.
The child also runs at a lower scheduling priority (`--world-nice`, default 10): encoding 15
full-HD JPEGs a second is the camera's own work, not the terminal's, and on a 2-core box it would
otherwise take CPU from the software renderer. Other programs on the machine still compete;
the load average is printed next to the figures so runs can be compared.
Every port is free-picked (control server included), so it runs beside tests and demos.

    .venv/bin/python bench/bench_ui_frames.py [--seconds 15] [--width 1080 --height 1920]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from firmware_stubs.control import send_control  # noqa: E402
from firmware_stubs.launcher import start_stubs  # noqa: E402
from firmware_stubs.loopback import free_port  # noqa: E402
from kiosk.config import Settings, load_settings  # noqa: E402

if TYPE_CHECKING:
    from screens.app import KioskApp

MATERIALS_SHOT = "12-materials"  # the apply journey's step that reaches the camera
SCENE_EVERY_S = 1.0
LOOP_TARGET_P99_MS = 20.0
STALL_LIMIT_MS = 50.0
WORLD_START_TIMEOUT_S = 60.0


def write_config(folder: Path, width: int, height: int) -> Path:
    path = folder / "kiosk.toml"
    path.write_text(
        f"[display]\nwidth = {width}\nheight = {height}\n"
        f'[storage]\ndata_dir = "{folder / "terminal"}"\n'
        f'[devices.idcard]\nport = "socket://127.0.0.1:{free_port()}"\nbaud = 115200\n'
        f'[devices.scanner]\nport = "socket://127.0.0.1:{free_port()}"\n'
        f'[devices.printer]\nurl = "tcp://127.0.0.1:{free_port()}"\n'
        f'[devices.camera]\nsource = "http://127.0.0.1:{free_port()}/stream.mjpg"\n'
        f'[[devices.locker_columns]]\nport = "socket://127.0.0.1:{free_port()}"\n',
        encoding="utf-8",
    )
    return path


@contextlib.contextmanager
def bench_world(settings: Settings, folder: Path) -> Iterator[tuple[Settings, int]]:
    """Like `kiosk demo`'s world, but the stubs' control server gets a free port too."""
    from service_hall.testing import running_hall

    hall_folder = folder / "hall"
    hall_folder.mkdir()
    with running_hall(hall_folder) as hall:
        link = settings.hall.model_copy(update={"url": hall.url, "token": hall.token})
        settings = settings.model_copy(update={"hall": link})
        stubs = start_stubs(
            settings, control_port=0, options={"printer": {"out_dir": folder / "receipts"}}
        )
        try:
            yield settings, stubs.control.port
        finally:
            stubs.stop()


def _serve_world(settings_json: str, folder: str, pipe: Connection, nice: int) -> None:
    """Child process: the world lives here, so its JPEG encoding and HTTP serving do not take
    the app's GIL — on a real terminal the camera and the hall are other machines."""
    if nice:
        os.nice(nice)
    settings = Settings.model_validate_json(settings_json)
    with bench_world(settings, Path(folder)) as (world_settings, control_port):
        pipe.send((world_settings.model_dump_json(), control_port))
        pipe.recv()  # anything (or the pipe closing) means: stop


@contextlib.contextmanager
def world_in_child(
    settings: Settings, folder: Path, nice: int = 0
) -> Iterator[tuple[Settings, int]]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(
        target=_serve_world,
        args=(settings.model_dump_json(), str(folder), theirs, nice),
        daemon=True,
    )
    child.start()
    try:
        if not ours.poll(WORLD_START_TIMEOUT_S):
            raise RuntimeError("the stubs and the hall did not start in a child process")
        settings_json, control_port = ours.recv()
        yield Settings.model_validate_json(settings_json), int(control_port)
    finally:
        with contextlib.suppress(OSError):
            ours.send("stop")
        child.join(timeout=30)
        if child.is_alive():
            child.terminate()


@dataclass
class FrameRecorder:
    """Collects loop and draw timestamps on the UI thread for a fixed span."""

    seconds: float
    loop_ms: list[float] = field(default_factory=list)
    draw_ms: list[float] = field(default_factory=list)
    cpu_wait_ms: list[float] = field(default_factory=list)  # per loop interval (Linux only)
    started_at: float | None = None
    _last_loop: float | None = None
    _last_draw: float | None = None
    _event: Any = None
    _schedstat: int | None = None
    _last_wait_ns: int | None = None

    def start(self) -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window

        with contextlib.suppress(OSError):  # opened on the UI thread: its own run-queue delay
            self._schedstat = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
            self._last_wait_ns = self._run_queue_ns()
        self.started_at = time.perf_counter()
        self._event = Clock.schedule_interval(self._on_loop, 0)
        Window.bind(on_flip=self._on_flip)

    def watch_stalls(self, threshold_ms: float) -> None:
        """Print where the UI thread is when it has not turned for `threshold_ms` (diagnosis)."""
        import traceback

        ui_thread = threading.get_ident()

        def watch() -> None:
            reported: float | None = None
            while not self.done:
                time.sleep(threshold_ms / 4000)
                last = self._last_loop
                if last is None or last == reported:
                    continue
                if (time.perf_counter() - last) * 1000 > threshold_ms:
                    reported = last
                    frame = sys._current_frames().get(ui_thread)
                    stack = "".join(traceback.format_stack(frame, limit=12)) if frame else "?"
                    print(f"--- UI thread held > {threshold_ms:g} ms at:\n{stack}")

        threading.Thread(target=watch, name="bench-stall-watch", daemon=True).start()

    def _run_queue_ns(self) -> int | None:
        if self._schedstat is None:
            return None
        fields = os.pread(self._schedstat, 128, 0).split()
        return int(fields[1]) if len(fields) >= 2 else None

    def _on_loop(self, _dt: float) -> None:
        now = time.perf_counter()
        waited = self._run_queue_ns()
        if self._last_loop is not None:
            self.loop_ms.append((now - self._last_loop) * 1000)
            if waited is not None and self._last_wait_ns is not None:
                self.cpu_wait_ms.append((waited - self._last_wait_ns) / 1e6)
        self._last_loop = now
        self._last_wait_ns = waited
        if self.done:
            self._stop()

    def loop_less_cpu_wait(self) -> list[float]:
        if len(self.cpu_wait_ms) != len(self.loop_ms):
            return []
        pairs = zip(self.loop_ms, self.cpu_wait_ms, strict=True)
        return [max(0.0, loop - wait) for loop, wait in pairs]

    def _on_flip(self, *_args: object) -> None:
        now = time.perf_counter()
        if self._last_draw is not None:
            self.draw_ms.append((now - self._last_draw) * 1000)
        self._last_draw = now

    @property
    def done(self) -> bool:
        started = self.started_at
        return started is not None and time.perf_counter() - started >= self.seconds

    def _stop(self) -> None:
        from kivy.core.window import Window

        if self._event is not None:
            self._event.cancel()
            self._event = None
        Window.unbind(on_flip=self._on_flip)
        if self._schedstat is not None:
            os.close(self._schedstat)
            self._schedstat = None


class SceneCycler:
    """Changes what lies under the camera, from its own thread, as a restless citizen would."""

    def __init__(self, control_port: int) -> None:
        self._port = control_port
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-scenes", daemon=True)
        self.changes = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        scenes: list[tuple[str, dict[str, Any]]] = [
            ("show_code", {"text": "https://zwfw.example.gov.cn/t/CL-2025-000123"}),
            ("move_page", {"title": "社会保障卡 正面 / front"}),
            ("place_page", {"title": "劳动合同 / contract"}),
            ("clear", {}),
        ]
        turn = 0
        while not self._stop.is_set():
            command, args = scenes[turn % len(scenes)]
            send_control("camera", command, port=self._port, seed=turn, **args)
            self.changes += 1
            turn += 1
            self._stop.wait(SCENE_EVERY_S)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def describe(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: no samples"
    return (
        f"{name}: n={len(values)}  p50={statistics.median(values):.1f} ms"
        f"  p99={percentile(values, 0.99):.1f} ms  max={max(values):.1f} ms"
        f"  >20 ms: {sum(v > LOOP_TARGET_P99_MS for v in values)}"
        f"  >50 ms: {sum(v > STALL_LIMIT_MS for v in values)}"
    )


def run(
    seconds: float,
    width: int,
    height: int,
    out_dir: Path,
    stall_report_ms: float = 0.0,
    skip_steps: frozenset[str] = frozenset(),
    world_nice: int = 10,
) -> int:
    from bootstrap.composition import build_app
    from bootstrap.journeys.apply import apply_journey

    with tempfile.TemporaryDirectory(prefix="bench-ui-frames-") as scratch:
        folder = Path(scratch)
        settings = load_settings(write_config(folder, width, height))
        settings = apply_journey(settings).adjust_settings(settings)
        with world_in_child(settings, folder, world_nice) as (world_settings, control_port):
            journey = apply_journey(world_settings)
            shots = [step.shot for step in journey.steps]
            if MATERIALS_SHOT not in shots:
                print(f"bench: the apply journey has no '{MATERIALS_SHOT}' step any more")
                return 2
            recorder = FrameRecorder(seconds)
            watch_ms = stall_report_ms
            scenes = SceneCycler(control_port)

            def begin(_app: KioskApp, _world: object) -> None:
                scenes.start()
                recorder.start()
                if watch_ms:
                    recorder.watch_stalls(watch_ms)

            from bootstrap.journeys.script import Step, StubWorld

            measure = Step(
                name="measure frames on the materials step",
                shot="99-materials-after-bench",
                expect=f"{seconds:g} s of frames recorded",
                act=begin,
                until=lambda _app: recorder.done,
                timeout_s=seconds + 60,
            )
            reach = [
                step
                for step in journey.steps[: shots.index(MATERIALS_SHOT) + 1]
                if step.name not in skip_steps
            ]
            journey = replace(journey, steps=(*reach, measure))
            app = build_app(world_settings, headless=True, on_first_frame=lambda a: runner.start(a))
            from bootstrap.journeys.runner import JourneyRunner

            runner = JourneyRunner(journey, out_dir, world=StubWorld(control_port))
            load_before = os.getloadavg()[0]
            try:
                app.run()
            finally:
                scenes.stop()
            load_after = os.getloadavg()[0]
    if runner.exit_code != 0:
        print(f"bench: the journey did not reach the measurement; see {out_dir / 'journey.json'}")
        return 1
    print(f"UI frames on the materials step, {width}x{height} off-screen, {seconds:g} s,")
    print(f"camera scene changed {scenes.changes} times (QR code, moving page, still page, empty)")
    print(
        f"machine load average {load_before:.1f} before, {load_after:.1f} after"
        f" ({os.cpu_count()} cores; world process nice {world_nice})"
    )
    print(describe("loop interval", recorder.loop_ms))
    print(describe("draw interval", recorder.draw_ms))
    own = recorder.loop_less_cpu_wait()
    if own:
        stalled_waits = [
            wait
            for loop, wait in zip(recorder.loop_ms, recorder.cpu_wait_ms, strict=True)
            if loop > STALL_LIMIT_MS
        ]
        print(
            f"CPU wait: {sum(recorder.cpu_wait_ms) / 1000:.1f} s of {seconds:g} s;"
            f" in the intervals > {STALL_LIMIT_MS:g} ms, {sum(stalled_waits):.0f} of"
            f" {sum(v for v in recorder.loop_ms if v > STALL_LIMIT_MS):.0f} ms"
        )
        print(describe("loop less CPU wait", own))
    loop_ok = (
        recorder.loop_ms
        and percentile(recorder.loop_ms, 0.99) <= LOOP_TARGET_P99_MS
        and max(recorder.loop_ms) <= STALL_LIMIT_MS
    )
    verdict = "met" if loop_ok else "NOT met"
    print(
        f"target (loop p99 <= {LOOP_TARGET_P99_MS:g} ms, no stall > {STALL_LIMIT_MS:g} ms):"
        f" {verdict}"
    )
    if own:
        own_ok = percentile(own, 0.99) <= LOOP_TARGET_P99_MS and max(own) <= STALL_LIMIT_MS
        print(f"the same target with the CPU wait taken out: {'met' if own_ok else 'NOT met'}")
    print(f"screenshots and journey.json in {out_dir}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--width", type=int, default=1080)
    parser.add_argument("--height", type=int, default=1920)
    parser.add_argument(
        "--why",
        type=float,
        default=0.0,
        metavar="MS",
        help="print the UI thread's stack whenever it is held longer than MS (diagnosis)",
    )
    parser.add_argument(
        "--skip-step",
        action="append",
        default=[],
        metavar="NAME",
        help="leave out a journey step on the way (when the journey lags behind the flow)",
    )
    parser.add_argument(
        "--world-nice",
        type=int,
        default=10,
        metavar="N",
        help="scheduling niceness of the stubs' and hall's process (0: same as the app)",
    )
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "bench-ui-frames")
    args = parser.parse_args()
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        os.environ.pop(name, None)
    return run(
        args.seconds,
        args.width,
        args.height,
        args.out,
        args.why,
        frozenset(args.skip_step),
        args.world_nice,
    )


if __name__ == "__main__":
    sys.exit(main())
