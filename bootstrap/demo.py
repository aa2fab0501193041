"""`kiosk demo`: device stubs, a private service hall and the app; headless with screenshots."""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from firmware_stubs.launcher import start_stubs
from firmware_stubs.loopback import free_port
from firmware_stubs.mqtt_locker_column import MOSQUITTO, MosquittoBroker
from kiosk.config import Settings, load_settings, resolve_config_path
from kiosk.fleet import FleetIdError, device_id_for

from .composition import build_app, has_display
from .journeys import DEFAULT_HEADLESS_JOURNEY, JOURNEYS, JourneyUnavailable
from .journeys.script import Journey, JourneyWorldError, StubWorld

EXIT_UNKNOWN_JOURNEY = 2


def run_demo(
    config_path: str | None = None,
    headless: bool = False,
    out_dir: str = "demo-out",
    journey: str | None = None,
) -> int:
    if journey is not None and journey not in JOURNEYS:
        known = ", ".join(sorted(JOURNEYS))
        print(
            f"kiosk demo: there is no journey called '{journey}'; known: {known}.", file=sys.stderr
        )
        return EXIT_UNKNOWN_JOURNEY
    settings = load_settings(resolve_config_path(config_path))
    headless = headless or not has_display()
    if journey is None and headless:
        journey = DEFAULT_HEADLESS_JOURNEY
    factory = JOURNEYS[journey] if journey is not None else None
    if factory is not None:
        try:
            settings = factory(settings).adjust_settings(settings)  # e.g. shorter idle timeouts
        except JourneyUnavailable as err:
            print(f"kiosk demo: {err}.", file=sys.stderr)
            return EXIT_UNKNOWN_JOURNEY
    with contextlib.ExitStack() as stack:
        try:
            demo = stack.enter_context(demo_world(settings, Path(out_dir)))
        except OSError as err:
            print(
                f"kiosk demo: a port the demo's stubs need is taken ({err.strerror or err}); is"
                " another `kiosk demo` or `kiosk stubs start` running?",
                file=sys.stderr,
            )
            return 1
        # Built inside the world: a journey may talk to the private hall it started.
        script = factory(demo.settings) if factory is not None else None
        return _play(demo, headless, script, Path(out_dir))


@dataclass(frozen=True)
class DemoWorld:
    settings: Settings
    control_port: int  # the stubs' control server (a free port, so demos can run side by side)


@contextlib.contextmanager
def demo_world(settings: Settings, out_dir: Path) -> Iterator[DemoWorld]:
    """The world a demo terminal lives in: device stubs, a service hall, a throwaway data folder.

    Unless the configuration names a real hall (its token is set), the demo starts its own seeded
    hall on a free loopback port. Unless it names a data folder, the terminal's state goes to a
    fresh temporary one, so demo runs never see each other's outbox or pinned hall key.
    Unless the configuration already joins a fleet, the terminal joins a private one (see
    `join_demo_fleet`), so a technician's console can watch and command the demo.
    """
    with contextlib.ExitStack() as stack:
        state = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kiosk-demo-")))
        if not settings.storage.data_dir:
            storage = settings.storage.model_copy(update={"data_dir": str(state / "terminal")})
            settings = settings.model_copy(update={"storage": storage})
        settings = devices_on_free_ports(settings)
        settings = join_demo_fleet(stack, settings, state / "fleet")
        if not settings.hall.token:
            try:
                from service_hall.testing import running_hall
            except ModuleNotFoundError:  # the kiosk bundle ships without the server side
                print("kiosk demo: no service hall in this build; the terminal works offline")
                yield _with_stubs(stack, settings, out_dir)
                return
            folder = state / "hall"
            folder.mkdir()
            hall = stack.enter_context(running_hall(folder))
            link = settings.hall.model_copy(update={"url": hall.url, "token": hall.token})
            settings = settings.model_copy(update={"hall": link})
            print(f"kiosk demo: service hall at {hall.url}/staff/ (user admin)")
        yield _with_stubs(stack, settings, out_dir)


def devices_on_free_ports(settings: Settings) -> Settings:
    """Every device left at its built-in loopback address moves to a free port.

    The demo starts the stubs and the app from the same settings, so any port will do; free ones
    let two demos (or a demo beside `kiosk stubs start`) run side by side. Addresses a
    configuration chose itself are kept."""
    defaults = Settings().devices
    devices = settings.devices
    default_column_port = defaults.locker_columns[0].port
    columns = [
        column.model_copy(update={"port": f"socket://127.0.0.1:{free_port()}"})
        if column.transport == "serial" and column.port == default_column_port
        else column
        for column in devices.locker_columns
    ]
    update: dict[str, object] = {"locker_columns": columns}
    for name in ("idcard", "scanner"):
        device = getattr(devices, name)
        if device.port == getattr(defaults, name).port:
            update[name] = device.model_copy(update={"port": f"socket://127.0.0.1:{free_port()}"})
    if devices.printer.url == defaults.printer.url:
        update["printer"] = devices.printer.model_copy(
            update={"url": f"tcp://127.0.0.1:{free_port()}"}
        )
    if devices.camera.source == defaults.camera.source:
        update["camera"] = devices.camera.model_copy(
            update={"source": f"http://127.0.0.1:{free_port()}/stream.mjpg"}
        )
    return settings.model_copy(update={"devices": devices.model_copy(update=update)})


def join_demo_fleet(
    stack: contextlib.ExitStack[bool | None], settings: Settings, folder: Path
) -> Settings:
    """A private Mosquitto on a free port and a console key pair made for this run.

    The demo terminal trusts that key, so the printed `kiosk fleet` lines can watch it and send it
    signed commands, and a simulated fleet can join the same broker. A configuration that already
    enables `[fleet]` keeps its own broker and key: the demo must not redirect a real terminal.
    """
    if settings.fleet.enabled:
        print(f"kiosk demo: fleet link to {settings.fleet.broker_url} (from your configuration)")
        return settings
    if shutil.which(MOSQUITTO) is None:
        print(
            f"kiosk demo: fleet monitoring is off in this demo: there is no MQTT broker here"
            f" ({MOSQUITTO} is missing; install the Debian package 'mosquitto')."
        )
        return settings
    try:
        from fleet_console.keys import generate_key_pair
    except ModuleNotFoundError:  # the kiosk bundle ships without the console
        print("kiosk demo: fleet monitoring is off in this demo: this build has no fleet console")
        return settings
    try:
        device = device_id_for(settings.terminal.id, settings.fleet.device_id)
    except FleetIdError as err:
        print(f"kiosk demo: fleet monitoring is off in this demo: {err}")
        return settings
    broker = MosquittoBroker()
    try:
        broker.start()
    except RuntimeError as err:
        broker.cleanup()
        print(f"kiosk demo: fleet monitoring is off in this demo: {err}")
        return settings
    stack.callback(broker.cleanup)
    key_path = folder / "fleet-console.key"
    public_key = generate_key_pair(key_path)
    fleet = settings.fleet.model_copy(
        update={"enabled": True, "broker_url": broker.url, "console_public_key": public_key}
    )
    print(f"kiosk demo: terminal {device} reports to the fleet broker at {broker.url}; try")
    print(f"  kiosk fleet console --broker {broker.url} --key {key_path}")
    print(
        f"  kiosk fleet simulate --terminals 20 --broker {broker.url}"
        f" --console-public-key {public_key}"
    )
    return settings.model_copy(update={"fleet": fleet})


def _with_stubs(
    stack: contextlib.ExitStack[bool | None], settings: Settings, out_dir: Path
) -> DemoWorld:
    # The printer stub renders each job to a PNG beside the screenshots.
    stubs = start_stubs(
        settings, control_port=0, options={"printer": {"out_dir": out_dir / "receipts"}}
    )
    stack.callback(stubs.stop)
    print(f"kiosk demo: stub controls at 127.0.0.1:{stubs.control.port}")
    return DemoWorld(settings, stubs.control.port)


def _play(demo: DemoWorld, headless: bool, script: Journey | None, out_dir: Path) -> int:
    settings = demo.settings
    if script is None:
        build_app(settings, headless=headless).run()
        return 0
    world = StubWorld(port=demo.control_port)
    if script.prepare is not None:
        try:
            script.prepare(settings, world)
        except JourneyWorldError as err:
            print(f"kiosk demo: journey '{script.name}' could not set its stage: {err}")
            return 1
    app = build_app(settings, headless=headless, on_first_frame=lambda app: runner.start(app))
    from .journeys.runner import JourneyRunner  # imports kivy: only after build_app set it up

    runner = JourneyRunner(script, out_dir, world=world)
    app.run()
    verdict = "passed" if runner.exit_code == 0 else "FAILED"
    print(f"kiosk demo: journey '{script.name}' {verdict}; see {out_dir / 'journey.json'}")
    return runner.exit_code
