"""The services behind the screens, built from the settings: part of the composition root.

Built after Kivy's environment is set (the UI bridge is a Kivy object) and before the first frame;
started from the app's first frame so the attract screen never waits for a device, the network or
a pre-rendered prompt. Stopped in reverse order before the database closes.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from kiosk.apply.adapters import (
    CatalogAdapter,
    ELicenceDesk,
    FormRulesAdapter,
    LockerDesk,
    PageFiles,
    PaymentDeskAdapter,
    ReceiptSmsDesk,
    SubmissionDesk,
)
from kiosk.apply.flow import ApplyFlow, TerminalFacts
from kiosk.apply.runtime import ApplyRuntime, ApplyServices
from kiosk.apply.store import SubmissionStore
from kiosk.apply.texts import tr, voice_keys
from kiosk.apply.view_models import ApplyView
from kiosk.catalog import Catalog, CatalogError
from kiosk.compartments import CompartmentService, PickupCodeHasher
from kiosk.config import Settings
from kiosk.courier.adapters import CourierDesk
from kiosk.courier.flow import CourierFlow, CourierFlowSettings
from kiosk.courier.runtime import CourierRuntime, CourierServices
from kiosk.courier.sign_in import CourierIdentity, CourierSignIn
from kiosk.courier.view_models import CourierView
from kiosk.fleet.commands import CommandFailed
from kiosk.fleet.remote_config import WHITELIST
from kiosk.front_door import FrontDoor, FrontDoorDispatch
from kiosk.i18n import LocalizedText, MessageError
from kiosk.pickup.adapters import CodeReaderSwitch, PickupDesk
from kiosk.pickup.flow import PickupFlow
from kiosk.pickup.flow import PickupSettings as PickupFlowSettings
from kiosk.pickup.guard import GuardSettings, KeypadGuard
from kiosk.pickup.runtime import PickupRuntime, PickupServices
from kiosk.pickup.texts import voice_keys as pickup_voice_keys
from kiosk.pickup.tokens import TerminalKeyStore
from kiosk.pickup.view_models import PickupView
from kiosk.ports.camera import CameraError, CameraMode, PageCaptured
from kiosk.ports.hall import CatalogEntry, CatalogUpdated, SubmissionAcknowledged
from kiosk.ports.health import DeviceHealthChanged, HealthReporting
from kiosk.ports.identity import CardPlaced, CardReadFailed, CardRemoved
from kiosk.ports.lockers import DoorClosed, DoorOpened, DoorState, ItemDetected, ItemRemoved
from kiosk.ports.printer import (
    PaperStatus,
    PrintedReceipt,
    PrinterError,
    SubmissionReceipt,
)
from kiosk.ports.scanner import CodeScanned
from kiosk.ports.ui_events import UiEventBridge
from kiosk.ports.voice import Prompt
from kiosk.session import CitizenSession
from kiosk.storage import AuditLog, Database

from .device_set import DeviceSet, build_devices
from .fleet_link import FleetLink, build_fleet_link
from .hall_link import HallLink, build_hall_link

_log = logging.getLogger(__name__)

# Device events the apply journey reacts to (the runtime ignores them between journeys).
APPLY_EVENTS: tuple[type, ...] = (
    CardPlaced,
    CardRemoved,
    CardReadFailed,
    PageCaptured,
    DoorOpened,
    DoorClosed,
    ItemDetected,
    ItemRemoved,
    DeviceHealthChanged,
    SubmissionAcknowledged,
)
# Device events the pickup journey reacts to, and the attract screen's front door routes.
PICKUP_EVENTS: tuple[type, ...] = (CodeScanned, CardPlaced, CardReadFailed, DoorClosed)
FRONT_DOOR_EVENTS: tuple[type, ...] = (CodeScanned, CardPlaced)
# Device events a courier session reacts to (seals and envelopes scanned, doors closed).
COURIER_EVENTS: tuple[type, ...] = (CodeScanned, DoorClosed)
TICK_S = 0.25
RESERVATION_SWEEP_S = 30.0
SCREENSHOT_WAIT_S = 10.0
STARTUP_READINGS_WAIT_S = 5.0


def utc_now() -> datetime:
    return datetime.now(UTC)


class CurrentCatalog:
    """The catalog the terminal serves from: the hall's cached copy, swapped when it changes.

    Loading reads SQLite, so it runs on a worker; the UI thread only swaps the finished value.
    Before the first sync with the hall the catalog is empty and the screens say so.
    """

    def __init__(self, hall: HallLink) -> None:
        self._hall = hall
        self._catalog = Catalog.from_cache(_NoCatalog())
        self._catalog = self.load()

    def __call__(self) -> Catalog:
        return self._catalog

    def set(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def load(self) -> Catalog:
        try:
            return Catalog.from_cache(self._hall.catalog)
        except CatalogError as err:
            _log.error("the cached catalog is unusable, keeping the previous one: %s", err)
            return self._catalog


class _NoCatalog:
    def version(self) -> int:
        return 0

    def entries(self, kind: str) -> list[CatalogEntry]:
        return []


class PrinterAbsent:
    """Stands in when the configuration has no printer: receipts go on screen and by SMS."""

    def paper_status(self) -> PaperStatus:
        raise PrinterError("this terminal has no receipt printer ([devices.printer] enabled).")

    def print_submission_receipt(self, receipt: SubmissionReceipt) -> PrintedReceipt:
        raise PrinterError("this terminal has no receipt printer ([devices.printer] enabled).")


class CameraAbsent:
    """Stands in when the configuration has no camera: pages are handed in on paper."""

    def set_mode(self, mode: CameraMode) -> None:
        raise CameraError("this terminal has no camera ([devices.camera] enabled).")

    def begin_document(self, document_id: str) -> None:
        raise CameraError("this terminal has no camera ([devices.camera] enabled).")

    def capture_page_now(self) -> None:
        raise CameraError("this terminal has no camera ([devices.camera] enabled).")


@dataclass
class UiHooks:
    """What the screens plug into the runtime once the window exists (it is built first)."""

    show: Callable[[ApplyView], None] = lambda _view: None
    clear_down: Callable[[], None] = lambda: None
    journey_ended: Callable[[], None] = lambda: None
    pickup_show: Callable[[PickupView], None] = lambda _view: None
    pickup_clear_down: Callable[[], None] = lambda: None
    courier_show: Callable[[CourierView], None] = lambda _view: None
    courier_clear_down: Callable[[], None] = lambda: None


class FleetUi:
    """The fleet ports the UI answers (kiosk/fleet/ports.py), called on the fleet's worker thread.

    The link is built with the services, before the window exists, so each port hands its work to
    the UI thread through the bridge once the app has plugged its hooks in (`attach`); until then
    a screenshot fails with a sentence and the out-of-service state is kept and shown on attach.
    Nothing here blocks the UI thread: the worker waits on a future with a deadline.
    """

    def __init__(self, settings: Settings, bridge: UiEventBridge) -> None:
        self._settings = settings
        self._bridge = bridge
        self._lock = threading.Lock()
        self.out_of_service = threading.Event()  # read by the front door on its own threads
        self._messages = ("", "")
        self._default_messages = ("", "")
        self._capture: Callable[[], bytes] | None = None
        self._show_notice: Callable[[bool, str, str], None] | None = None
        self._apply_live: Callable[[Mapping[str, Any]], None] | None = None
        self._stop_app: Callable[[int], None] | None = None

    def attach(
        self,
        *,
        capture: Callable[[], bytes],
        show_notice: Callable[[bool, str, str], None],
        apply_live: Callable[[Mapping[str, Any]], None],
        stop_app: Callable[[int], None],
    ) -> None:
        """On the UI thread, once the window exists."""
        with self._lock:
            self._capture, self._show_notice = capture, show_notice
            self._apply_live, self._stop_app = apply_live, stop_app
        if self.out_of_service.is_set():
            show_notice(True, *self._shown_messages())

    # -- ScreenCapture --------------------------------------------------------------------
    def capture_png(self) -> bytes:
        capture = self._capture
        if capture is None:
            raise CommandFailed("the screen is not drawn yet (the app is starting); try again")
        done: Future[bytes] = Future()

        def on_ui_thread() -> None:
            try:
                done.set_result(capture())
            except Exception as err:  # noqa: BLE001 - goes back to the worker as the failure
                done.set_exception(err)

        self._bridge.call_soon(on_ui_thread)
        try:
            return done.result(timeout=SCREENSHOT_WAIT_S)
        except FutureTimeout as err:
            raise CommandFailed(
                f"the screen did not answer within {SCREENSHOT_WAIT_S:g} s (the UI may be busy)"
            ) from err
        except OSError as err:
            raise CommandFailed(f"the screenshot could not be written: {err}") from err

    # -- OutOfServiceNotice ---------------------------------------------------------------
    def set_out_of_service(self, active: bool, message_zh: str, message_en: str) -> None:
        with self._lock:
            self._messages = (message_zh, message_en)
        if active:
            self.out_of_service.set()
        else:
            self.out_of_service.clear()
        shown = self._shown_messages()
        self._on_ui(lambda: self._show_notice(active, *shown) if self._show_notice else None)

    def _shown_messages(self) -> tuple[str, str]:
        with self._lock:
            zh, en = self._messages
            default_zh, default_en = self._default_messages
        return zh or default_zh, en or default_en

    # -- RemoteConfigTarget ---------------------------------------------------------------
    def apply_remote_config(self, values: Mapping[str, Any]) -> None:
        chosen = dict(values)
        with self._lock:
            zh, en = self._default_messages
            zh = str(chosen.get("service.out_of_service_message_zh", zh))
            en = str(chosen.get("service.out_of_service_message_en", en))
            self._default_messages = (zh, en)
        if self.out_of_service.is_set():
            shown = self._shown_messages()
            self._on_ui(lambda: self._show_notice(True, *shown) if self._show_notice else None)
        self._on_ui(lambda: self._apply_live(chosen) if self._apply_live else None)

    def reload_local_config(self) -> Mapping[str, Any]:
        """The whitelisted values the file gave at start-up, applied again live."""
        values = whitelisted_file_values(self._settings)
        self.apply_remote_config(values)
        return values

    # -- Restarter ------------------------------------------------------------------------
    def request_restart(self, exit_code: int) -> None:
        _log.warning("restart requested remotely: stopping the app (exit code %d)", exit_code)
        self._on_ui(lambda: self._stop_app(exit_code) if self._stop_app else None)

    def _on_ui(self, fn: Callable[[], None]) -> None:
        self._bridge.call_soon(fn)


def present_devices(settings: Settings, devices: DeviceSet) -> dict[str, HealthReporting]:
    """The fleet's device nodes that this terminal has; the card readers are built in the order
    of the settings (identity card first), so that order names them."""
    chosen = settings.devices
    readers = iter(devices.card_readers)
    named: dict[str, object | None] = {
        "printer": devices.printer,
        "idcard": next(readers, None) if chosen.idcard.enabled else None,
        "sscard": next(readers, None) if chosen.sscard.enabled else None,
        "scanner": devices.scanner,
        "camera": devices.camera,
    }
    return {
        node: cast(HealthReporting, device)
        for node, device in named.items()
        if callable(getattr(device, "health", None))
    }


def whitelisted_file_values(settings: Settings) -> dict[str, Any]:
    """The remotely settable keys that exist in the settings file ("service.*" are fleet-only)."""
    values: dict[str, Any] = {}
    for key in WHITELIST:
        section, name = key.split(".", 1)
        holder = getattr(settings, section, None)
        if holder is not None and hasattr(holder, name):
            values[key] = getattr(holder, name)
    return values


@dataclass
class TerminalServices:
    settings: Settings
    database: Database
    bridge: UiEventBridge
    devices: DeviceSet
    hall: HallLink
    compartments: CompartmentService
    catalog: CurrentCatalog
    runtime: ApplyRuntime
    worker: ThreadPoolExecutor
    hall_worker: ThreadPoolExecutor
    ui: UiHooks
    voice: object | None = None  # devices.voice.SpokenPrompts when enabled
    pickup: PickupRuntime | None = None
    front_door: FrontDoorDispatch | None = None
    pickup_worker: ThreadPoolExecutor | None = None
    courier: CourierRuntime | None = None
    courier_worker: ThreadPoolExecutor | None = None
    fleet: FleetLink | None = None  # [fleet] enabled
    fleet_ui: FleetUi | None = None

    def start(self) -> None:
        """From the first frame: devices, the hall and fleet links, start-up reconciliation."""
        sink = self.compartments.locker_event_sink(forward=self.bridge.post)
        if self.fleet is not None:  # door and health events refresh the telemetry at once
            sink = self.fleet.event_sink(sink)
        self.devices.start(sink)
        self.hall.start()
        if self.fleet is not None:
            self.fleet.start()
        self.worker.submit(self._reconcile_doors)
        for event_type in APPLY_EVENTS:
            self.bridge.subscribe(event_type, self.runtime.handle)
        if self.pickup is not None:
            for event_type in PICKUP_EVENTS:
                self.bridge.subscribe(event_type, self.pickup.handle)
        if self.front_door is not None:
            for event_type in FRONT_DOOR_EVENTS:
                self.bridge.subscribe(event_type, self.front_door.handle)
        if self.courier is not None:  # after the front door: a badge first starts the sign-in
            for event_type in COURIER_EVENTS:
                self.bridge.subscribe(event_type, self.courier.handle)
        self.bridge.subscribe(CatalogUpdated, self._catalog_updated)

    def stop(self) -> None:
        if self.voice is not None:
            self.voice.close()  # type: ignore[attr-defined]
        if self.fleet is not None:  # first: publishes `disconnected` while the rest still runs
            self.fleet.stop()
        self.hall.stop()
        self.devices.stop()
        self.worker.shutdown(wait=True, cancel_futures=False)
        if self.pickup_worker is not None:
            self.pickup_worker.shutdown(wait=True, cancel_futures=False)
        if self.courier_worker is not None:
            self.courier_worker.shutdown(wait=True, cancel_futures=False)
        self.hall_worker.shutdown(wait=False, cancel_futures=True)

    def sweep_reservations(self) -> None:
        self.worker.submit(self.compartments.expire_reservations)

    def _reconcile_doors(self) -> None:
        """Door intents left without an outcome by a crash are settled against the boards, once
        each column has read its doors (or after a few seconds: a dead board reads unknown)."""
        deadline = time.monotonic() + STARTUP_READINGS_WAIT_S
        while time.monotonic() < deadline and not all(
            all(r.door is not DoorState.UNKNOWN for r in column.readings().values())
            for column in self.devices.locker_columns
        ):
            time.sleep(0.1)
        try:
            self.compartments.start_up()
        except Exception:  # noqa: BLE001 - logged; the terminal must still start
            _log.exception("reconciling the compartments at start-up failed")

    def _catalog_updated(self, _event: CatalogUpdated) -> None:
        self.worker.submit(self._reload)

    def _reload(self) -> None:
        fresh = self.catalog.load()
        self.bridge.call_soon(lambda: self.catalog.set(fresh))


def build_terminal_services(
    settings: Settings,
    folder: Path,
    database: Database,
    bridge: UiEventBridge,
    session: CitizenSession,
) -> TerminalServices:
    devices = build_devices(settings, folder)
    hall = build_hall_link(settings, database, bridge.post)
    compartments = CompartmentService(
        database,
        AuditLog(database),
        devices.locker_columns,
        alerts=bridge.post,
        hold_s=settings.compartments.hold_s,
        code_hasher=PickupCodeHasher(n=settings.compartments.pickup_code_scrypt_n),
    )
    catalog = CurrentCatalog(hall)
    catalog_adapter = CatalogAdapter(
        catalog, database, preferred=settings.catalog.most_used_default
    )
    terminal = settings.terminal
    flow = ApplyFlow(
        catalog=catalog_adapter,
        forms=FormRulesAdapter(),
        terminal=TerminalFacts(
            name=LocalizedText(zh=terminal.name_zh, en=terminal.name_en),
            terminal_id=terminal.id,
            hotline=terminal.hotline,
        ),
        clock=time.monotonic,
        wall_clock=utc_now,
        new_reference=lambda: uuid.uuid4().hex,
    )
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="apply")
    hall_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="apply-hall")
    voice = build_voice(settings, folder, bridge)
    ui = UiHooks()
    services = ApplyServices(
        submissions=SubmissionDesk(
            database, SubmissionStore(database, hall.outbox), catalog=catalog_adapter
        ),
        lockers=LockerDesk(compartments, hall.outbox),
        printer=devices.printer or PrinterAbsent(),
        receipt_sms=ReceiptSmsDesk(database, hall.outbox),
        camera=devices.camera or CameraAbsent(),
        pages=PageFiles(folder / "pages"),
        elicences=ELicenceDesk(hall.client),
        payments=PaymentDeskAdapter(hall.client, hall.outbox),
        guide_printer=devices.printer,  # None: "print this guide" says it cannot print here
    )
    runtime = ApplyRuntime(
        flow,
        services,
        worker=worker,
        hall_worker=hall_worker,
        post=bridge.call_soon,
        publish=lambda view: ui.show(view),  # the presenter joins when the window exists
        language=lambda: session.language,
        clock=time.monotonic,
        on_clear_down=lambda: ui.clear_down(),
        on_journey_ended=lambda: ui.journey_ended(),
    )
    pickup_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pickup")
    courier_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="courier")
    courier = build_courier(
        settings, database, compartments, hall, bridge, session, ui, courier_worker, runtime
    )
    pickup, desk = build_pickup(
        settings, database, compartments, hall, devices, bridge, session, ui, pickup_worker
    )
    fleet_ui = FleetUi(settings, bridge)
    fleet = build_fleet_link(
        settings,
        database,
        devices=present_devices(settings, devices),
        columns=devices.locker_columns,
        compartments=compartments,
        outbox=hall.outbox,
        printer=devices.printer,
        screen=fleet_ui,
        notice=fleet_ui,
        config_target=fleet_ui,
        restarter=fleet_ui,
        data_dir=str(folder),
    )
    front_door = FrontDoorDispatch(
        FrontDoor(
            courier_for_id_hash=lambda sha: _courier_card(hall, sha),
            results_waiting_for=desk.results_waiting_for,
        ),
        worker=pickup_worker.submit,
        post=bridge.call_soon,
        make_way=lambda: (
            not fleet_ui.out_of_service.is_set()  # set remotely: nothing new starts
            # a journey's closing screen (thank-you, summary, refusal) gives way to the next person
            and runtime.make_way()
            and pickup.make_way()
            and courier.make_way()
        ),
        start_pickup=pickup.start_with,
        sign_in_courier=lambda route: courier.begin_sign_in(route.card_id, route.via),
    )
    return TerminalServices(
        settings,
        database,
        bridge,
        devices,
        hall,
        compartments,
        catalog,
        runtime,
        worker,
        hall_worker,
        ui,
        voice,
        pickup,
        front_door,
        pickup_worker,
        courier,
        courier_worker,
        fleet,
        fleet_ui,
    )


def build_pickup(
    settings: Settings,
    database: Database,
    compartments: CompartmentService,
    hall: HallLink,
    devices: DeviceSet,
    bridge: UiEventBridge,
    session: CitizenSession,
    ui: UiHooks,
    worker: ThreadPoolExecutor,
) -> tuple[PickupRuntime, PickupDesk]:
    """The pickup journey: its desk over the compartments, the keypad guard and the QR key."""
    chosen = settings.pickup
    desk = PickupDesk(
        compartments,
        database,
        hall.outbox,
        KeypadGuard(
            database,
            utc_now,
            GuardSettings(
                chosen.wrong_code_limit, chosen.wrong_code_window_s, chosen.keypad_lock_s
            ),
        ),
        TerminalKeyStore(database).pickup_qr_key,
        wall_clock=utc_now,
        alerts=bridge.post,
    )
    flow = PickupFlow(
        clock=time.monotonic,
        wall_clock=utc_now,
        hotline=settings.terminal.hotline,
        settings=PickupFlowSettings(ask_again_s=chosen.ask_again_s),
    )
    runtime = PickupRuntime(
        flow,
        PickupServices(desk, code_readers=CodeReaderSwitch(devices.camera, devices.scanner)),
        worker=worker,
        post=bridge.call_soon,
        publish=lambda view: ui.pickup_show(view),
        language=lambda: session.language,
        on_clear_down=lambda: ui.pickup_clear_down(),
        on_journey_ended=lambda: ui.journey_ended(),
    )
    return runtime, desk


def build_courier(
    settings: Settings,
    database: Database,
    compartments: CompartmentService,
    hall: HallLink,
    bridge: UiEventBridge,
    session: CitizenSession,
    ui: UiHooks,
    worker: ThreadPoolExecutor,
    apply: ApplyRuntime,
) -> CourierRuntime:
    """Couriers and village agents: sign-in on the signed roster, then their doors and results."""
    chosen = settings.courier
    sign_in = CourierSignIn(
        database,
        AuditLog(database),
        hall.roster,
        pin_attempts=chosen.pin_attempts,
        card_lock_s=chosen.card_lock_s,
        roster_grace_h=chosen.roster_grace_h,
    )
    desk = CourierDesk(
        database,
        compartments,
        hall.outbox,
        hall.tasks,
        TerminalKeyStore(database).pickup_qr_key,
        keep_days=settings.pickup.keep_days,
    )
    flow = CourierFlow(
        time.monotonic,
        CourierFlowSettings(
            session_idle_s=chosen.session_idle_s,
            doors_at_once_per_column=chosen.doors_at_once_per_column,
        ),
    )

    def start_agent_apply(agent: CourierIdentity) -> None:
        apply.start_for_agent(agent.card_id, agent.name)

    return CourierRuntime(
        flow,
        CourierServices(sign_in, desk),
        worker=worker,
        post=bridge.call_soon,
        publish=lambda view: ui.courier_show(view),
        language=lambda: session.language,
        on_clear_down=lambda: ui.courier_clear_down(),
        start_agent_apply=start_agent_apply,
    )


def _courier_card(hall: HallLink, id_number_sha256: str) -> str | None:
    roster = hall.roster.current()
    courier = None if roster is None else roster.courier_by_id_hash(id_number_sha256)
    return None if courier is None else courier.card_id


def build_voice(settings: Settings, folder: Path, bridge: UiEventBridge) -> object | None:
    """Spoken prompts: espeak-ng renders into a cache, the app plays (see screens/voice_player)."""
    if not settings.voice.enabled:
        return None
    from devices.voice.prompter import SpokenPrompts
    from devices.voice.renderer import VoiceRenderer

    voice = settings.voice
    renderer = VoiceRenderer(
        folder / "voice",
        voices=voice.voices,
        rate_wpm=voice.rate_wpm,
        timeout_s=voice.timeout_s,
        max_cached_files=voice.max_cached_files,
    )
    prompts: list[Prompt] = []
    for key in [*voice_keys(), *pickup_voice_keys()]:
        for language in ("zh-CN", "en"):
            try:
                prompts.append(Prompt(key, tr(key, language), language))
            except MessageError:
                continue  # needs arguments (a compartment number): rendered when first spoken
    renderer.prerender(prompts)
    return SpokenPrompts(renderer, bridge.post, enabled=True)
