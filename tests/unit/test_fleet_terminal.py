"""The fleet core without a broker: the Homie model, alerts, the telemetry rules, signed commands
and their ledger, remote configuration — on real SQLite files and fake clocks."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet_console import protocol as console_protocol
from kiosk.fleet import (
    Command,
    CommandFailed,
    CommandPorts,
    CommandProcessor,
    DoorReport,
    FleetIdError,
    FleetKeyError,
    FleetTelemetry,
    MemoryFleetStore,
    Outcome,
    RemoteConfig,
    RemoteConfigRefused,
    Reply,
    RingLogHandler,
    SqliteFleetStore,
    Status,
    TerminalSnapshot,
    build_handlers,
    derive_alerts,
    device_id_for,
    load_public_key,
    sign_command,
)
from kiosk.fleet.handlers import SCREENSHOT_CHUNK_BYTES, screenshot_outcome
from kiosk.fleet.model import ColumnReport, describe, values
from kiosk.fleet.snapshot import paper_from_health
from kiosk.fleet.store import Outbound
from kiosk.ports.health import DeviceHealth, HealthState
from kiosk.storage import Database
from tests.support.fleet_terminal import ConsoleKey, DoorWorld, door_world, open_fleet_database

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
OK = DeviceHealth("x", HealthState.OK)


def snapshot(**changes: object) -> TerminalSnapshot:
    base = TerminalSnapshot(
        name="慈利县零阳街道自助服务站",
        app_version="0.1.0",
        boot_time=T0,
        devices=MappingProxyType({n: OK for n in ("printer", "idcard", "scanner", "camera")}),
        paper="ok",
        columns=(ColumnReport("A", OK),),
        doors=tuple(
            DoorReport(n, "A", (n + 1) // 2, 2 - n % 2, "S", "closed", False, "free")
            for n in (1, 2)
        ),
        disk_free_mb=20_000.0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = open_fleet_database(tmp_path / "terminal.sqlite3")
    yield db
    db.close()


# -- ids and the Homie model -----------------------------------------------------------------------


def test_device_ids_follow_homie_rules() -> None:
    assert device_id_for("GZ_Cili 001") == "gz-cili-001"
    assert device_id_for("demo-0001", "gz-cili-009") == "gz-cili-009"
    assert device_id_for("x") == console_protocol.device_id_for("x")
    with pytest.raises(FleetIdError, match=r"fleet\.device_id"):
        device_id_for("___")


def test_the_description_has_every_node_and_leaves_out_what_is_not_reported() -> None:
    nodes = {node.id: node for node in describe(snapshot())}
    assert list(nodes) == [
        "printer", "idcard", "sscard", "scanner", "camera", "locker-a", "doors", "outbox", "system"
    ]  # fmt: skip
    assert {p.id for p in nodes["doors"].properties} == {
        "door-1", "item-1", "state-1", "door-2", "item-2", "state-2"
    }  # fmt: skip
    system = {p.id for p in nodes["system"].properties}
    assert "cpu-temperature" not in system  # no thermal sensor: "not reported"
    assert "cpu-temperature" in {
        p.id for p in describe(snapshot(cpu_temperature_c=51.0))[-1].properties
    }
    shown = values(snapshot())
    assert shown[("sscard", "state")] == "disabled"
    assert shown[("locker-a", "free")] == "2"
    assert json.loads(shown[("locker-a", "layout")])[1] == {"n": 2, "row": 1, "col": 2, "size": "S"}
    assert shown[("system", "boot-time")] == "2026-03-01T02:00:00Z"


def test_paper_is_read_back_from_the_printer_health() -> None:
    assert (
        paper_from_health(DeviceHealth("p", HealthState.DEGRADED, "nearly used up")) == "near-end"
    )
    assert paper_from_health(DeviceHealth("p", HealthState.FAULT, "the paper has run out")) == "out"
    assert paper_from_health(DeviceHealth("p", HealthState.FAULT, "the cover is open")) == "unknown"


# -- alerts ----------------------------------------------------------------------------------------


def test_alerts_have_stable_ids_and_keep_their_first_time() -> None:
    broken = snapshot(
        paper="out",
        devices=MappingProxyType(
            {"printer": DeviceHealth("p", HealthState.FAULT, "the paper has run out"), "idcard": OK}
        ),
        doors=(
            DoorReport(3, "A", 2, 1, "M", "open", None, "out_of_service", "jammed", "door alarm"),
        ),
        outbox_size=4,
        outbox_age_s=3600,
        disk_free_mb=100.0,
    )
    first = derive_alerts(broken, {}, T0)
    assert set(first) == {
        "printer-paper-out",
        "door-3-attention",
        "compartment-3-out-of-service",
        "outbox-stale",
        "disk-low",
    }  # the printer's own fault is said by the paper alert, not twice
    assert first["door-3-attention"].severity == "critical"
    assert "纸" in first["printer-paper-out"].text_zh
    later = derive_alerts(broken, first, T0 + timedelta(hours=1))
    assert later["printer-paper-out"].since == "2026-03-01T02:00:00Z"


# -- telemetry -------------------------------------------------------------------------------------


def topics_of(publishes: list[object]) -> list[str]:
    return [p.topic.removeprefix("homie/5/t-1/") for p in publishes]  # type: ignore[attr-defined]


def test_every_connect_sends_init_description_values_alerts_heartbeat_ready(
    database: Database,
) -> None:
    telemetry = FleetTelemetry("t-1", SqliteFleetStore(database), heartbeat_s=900)
    telemetry.observe(snapshot(paper="out"), T0, 0.0)
    sent = telemetry.on_connected(T0, 0.0)
    names = topics_of(sent)
    assert names[:2] == ["$state", "$description"]
    assert sent[0].payload == b"init"
    assert names[-1] == "$state"
    assert sent[-1].payload == b"ready"
    assert "printer/paper" in names
    assert "system/heartbeat" in names
    assert names.count("$alert/printer-paper-out") == 2  # the durable history, then current state
    assert all(p.retain for p in sent)
    description = json.loads(sent[1].payload)
    assert description["homie"] == "5.0"
    assert "doors" in description["nodes"]


def test_only_changes_are_published_and_drifting_numbers_need_a_real_move(
    database: Database,
) -> None:
    telemetry = FleetTelemetry("t-1", SqliteFleetStore(database), heartbeat_s=900)
    telemetry.observe(snapshot(), T0, 0.0)
    telemetry.on_connected(T0, 0.0)
    assert telemetry.observe(snapshot(disk_free_mb=19_900.0), T0, 10.0) == []
    door_open = snapshot(
        doors=(DoorReport(1, "A", 1, 1, "S", "open", False, "free"), snapshot().doors[1])
    )
    assert topics_of(telemetry.observe(door_open, T0, 20.0)) == ["doors/door-1"]
    assert topics_of(telemetry.observe(snapshot(disk_free_mb=10_000.0), T0, 30.0)) == [
        "doors/door-1",
        "system/disk-free",
    ]


def test_the_heartbeat_comes_every_heartbeat_s_and_nothing_else_when_idle(
    database: Database,
) -> None:
    telemetry = FleetTelemetry("t-1", SqliteFleetStore(database), heartbeat_s=900)
    telemetry.observe(snapshot(), T0, 0.0)
    telemetry.on_connected(T0, 0.0)
    assert telemetry.tick(T0, 899.0) == []
    beat = telemetry.tick(T0 + timedelta(seconds=900), 900.0)
    assert topics_of(beat) == ["system/heartbeat"]
    assert beat[0].payload == b"2026-03-01T02:15:00Z"


def test_alerts_raised_offline_are_kept_and_sent_in_order_after_reconnect(
    database: Database, tmp_path: Path
) -> None:
    store = SqliteFleetStore(database)
    telemetry = FleetTelemetry("t-1", store)
    telemetry.observe(snapshot(), T0, 0.0)
    telemetry.on_disconnected()
    assert telemetry.observe(snapshot(paper="near-end"), T0, 1.0) == []
    assert telemetry.observe(snapshot(paper="out"), T0, 2.0) == []
    assert telemetry.observe(snapshot(paper="ok"), T0, 3.0) == []
    # the terminal restarts before the broker comes back: a new process, the same file
    telemetry = FleetTelemetry("t-1", SqliteFleetStore(database))
    telemetry.observe(snapshot(), T0, 4.0)
    sent = telemetry.on_connected(T0, 4.0)
    history = [(p.topic.rsplit("/", 1)[-1], bool(p.payload)) for p in sent if p.outbound_seq]
    assert history == [
        ("printer-paper-low", True),
        ("printer-paper-low", False),  # a change clears the old alert before raising the new
        ("printer-paper-out", True),
        ("printer-paper-out", False),
    ]
    for publish in sent:
        if publish.outbound_seq is not None:
            telemetry.acknowledged(publish.outbound_seq)
    assert store.pending_outbound() == []


def test_an_alert_that_ended_while_the_terminal_was_off_is_cleared(database: Database) -> None:
    store = SqliteFleetStore(database)
    before = FleetTelemetry("t-1", store)
    before.observe(snapshot(paper="out"), T0, 0.0)
    for stored in store.pending_outbound():
        store.delete_outbound(stored.seq)  # the broker had it
    after = FleetTelemetry("t-1", store)
    after.observe(snapshot(paper="ok"), T0, 0.0)
    cleared = [s.message for s in store.pending_outbound()]
    assert [(m.topic.rsplit("/", 1)[-1], m.payload) for m in cleared] == [
        ("printer-paper-out", b"")
    ]


def test_log_lines_are_capped_but_alert_changes_never_dropped(database: Database) -> None:
    store = SqliteFleetStore(database, max_outbound=5)
    store.append_outbound([Outbound("homie/5/t/$alert/a", b"{}", True)])
    store.append_outbound(
        [Outbound("homie/5/t/$log/warning", str(i).encode(), False) for i in range(8)]
    )
    left = [s.message.payload for s in store.pending_outbound()]
    assert left == [b"{}", b"4", b"5", b"6", b"7"]


def test_the_will_is_lost_and_an_orderly_stop_is_disconnected() -> None:
    telemetry = FleetTelemetry("t-1", MemoryFleetStore())
    assert (telemetry.will().topic, telemetry.will().payload) == ("homie/5/t-1/$state", b"lost")
    assert telemetry.stopping()[0].payload == b"disconnected"


def test_log_lines_go_out_on_their_level_not_retained() -> None:
    store = MemoryFleetStore()
    telemetry = FleetTelemetry("t-1", store)
    telemetry.observe(snapshot(), T0, 0.0)
    telemetry.on_connected(T0, 0.0)
    sent = telemetry.log("WARNING", "devices.printer", "paper low", T0)
    assert [(p.topic, p.retain) for p in sent] == [("homie/5/t-1/$log/warning", False)]
    assert json.loads(sent[0].payload)["message"] == "paper low"


# -- commands --------------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def key() -> ConsoleKey:
    return ConsoleKey()


def processor_for(
    store: MemoryFleetStore | SqliteFleetStore, key: ConsoleKey, calls: list[str], clock: Clock
) -> CommandProcessor:
    def ping(command: Command) -> Outcome:
        calls.append(command.id)
        return Outcome("pong", {"n": len(calls)})

    def broken(command: Command) -> Outcome:
        raise CommandFailed("the board is not answering")

    return CommandProcessor(
        store, load_public_key(key.public_b64), {"ping": ping, "broken": broken}, clock=clock
    )


def run(processor: CommandProcessor, payload: bytes) -> list[Reply]:
    replies: list[Reply] = []
    processor.process(payload, replies.append)
    return replies


def test_a_signed_command_runs_once_and_a_redelivery_gets_the_stored_result(
    database: Database, key: ConsoleKey
) -> None:
    calls: list[str] = []
    clock = Clock(1_800_000_000)
    command, payload = key.command("ping", now=clock.now)
    replies = run(processor_for(SqliteFleetStore(database), key, calls, clock), payload)
    assert [r.status for r in replies] == [Status.RECEIVED, Status.IN_PROGRESS, Status.SUCCEEDED]
    assert replies[-1].result == {"n": 1}
    # a new process (restart), the same command delivered again
    again = run(processor_for(SqliteFleetStore(database), key, calls, clock), payload)
    assert [r.status for r in again] == [Status.SUCCEEDED]
    assert again[0].result == {"n": 1}
    assert "already handled" in again[0].detail
    assert calls == [command.id]


def test_a_command_signed_by_the_console_module_is_accepted(key: ConsoleKey) -> None:
    """The console's signing code and the terminal's check agree byte for byte."""
    command = console_protocol.new_command(
        "ping", {"text": "慈利"}, issuer="li.tech", now_s=1_800_000_000, lifetime_s=60
    )
    payload = console_protocol.sign_command(command, key.private)
    replies = run(processor_for(MemoryFleetStore(), key, [], Clock(1_800_000_010)), payload)
    assert replies[-1].status == Status.SUCCEEDED


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        (lambda body: body.pop("sig"), "not signed"),
        (lambda body: body.update(sig=base64.b64encode(b"x" * 64).decode()), "does not match"),
        (lambda body: body["args"].update(number=13), "does not match"),
    ],
)
def test_unsigned_or_tampered_commands_are_rejected_and_not_remembered(
    key: ConsoleKey, tamper, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryFleetStore()
    calls: list[str] = []
    clock = Clock(1_800_000_000)
    command, payload = key.command("ping", {"number": 12}, now=clock.now)
    body = json.loads(payload)
    tamper(body)
    with caplog.at_level(logging.WARNING):
        replies = run(processor_for(store, key, calls, clock), json.dumps(body).encode())
    assert [(r.status, r.command_id) for r in replies] == [(Status.REJECTED, command.id)]
    assert why in replies[0].detail
    assert why in caplog.text
    assert store.ledger_entry(command.id) is None
    assert calls == []
    # the genuine command with that id still runs: a forged one could not reserve the id
    assert run(processor_for(store, key, calls, clock), payload)[-1].status == Status.SUCCEEDED


def test_a_command_signed_by_another_key_is_rejected(key: ConsoleKey) -> None:
    other = ConsoleKey()
    _, payload = other.command("ping", now=1_800_000_000)
    replies = run(processor_for(MemoryFleetStore(), key, [], Clock(1_800_000_000)), payload)
    assert replies[0].status == Status.REJECTED


def test_expired_future_long_lived_and_unknown_commands_are_refused(key: ConsoleKey) -> None:
    store, calls, clock = MemoryFleetStore(), [], Clock(1_800_000_000)
    processor = processor_for(store, key, calls, clock)
    expired = key.command("ping", now=clock.now - 600, lifetime_s=300)[1]
    future = key.command("ping", now=clock.now + 3600)[1]
    forever = key.command("ping", now=clock.now, lifetime_s=3 * 24 * 3600)[1]
    unknown = key.command("dance", now=clock.now)[1]
    odd_issuer = key.command("ping", issuer="rm -rf /", now=clock.now)[1]
    statuses = [
        run(processor, p)[-1].status for p in (expired, future, forever, unknown, odd_issuer)
    ]
    assert statuses == [Status.EXPIRED, *[Status.REJECTED] * 4]
    assert calls == []
    # a replay of the expired one is still expired, and remembered as such
    assert run(processor, expired)[-1].status == Status.EXPIRED


def test_a_command_cut_short_by_a_crash_is_not_repeated(
    database: Database, key: ConsoleKey
) -> None:
    class Crash(BaseException):
        pass

    def dies(command: Command) -> Outcome:
        raise Crash

    clock = Clock(1_800_000_000)
    store = SqliteFleetStore(database)
    processor = CommandProcessor(
        store, load_public_key(key.public_b64), {"ping": dies}, clock=clock
    )
    _, payload = key.command("ping", now=clock.now)
    with pytest.raises(Crash):
        run(processor, payload)
    calls: list[str] = []
    after = run(processor_for(SqliteFleetStore(database), key, calls, clock), payload)
    assert after[-1].status == Status.FAILED
    assert "not repeated" in after[-1].detail
    assert calls == []


def test_a_handler_failure_is_failed_with_its_sentence(key: ConsoleKey) -> None:
    replies = run(
        processor_for(MemoryFleetStore(), key, [], Clock(1_800_000_000)),
        key.command("broken", now=1_800_000_000)[1],
    )
    assert (replies[-1].status, replies[-1].detail) == (Status.FAILED, "the board is not answering")


def test_no_console_key_refuses_everything_and_a_bad_key_is_a_config_error(key: ConsoleKey) -> None:
    processor = CommandProcessor(MemoryFleetStore(), None, {}, clock=Clock(1_800_000_000))
    assert "console_public_key" in run(processor, key.command("ping")[1])[0].detail
    with pytest.raises(FleetKeyError, match="keygen"):
        load_public_key("not base64!")


# -- the commands themselves -----------------------------------------------------------------------


@pytest.fixture
def doors(tmp_path: Path) -> Iterator[DoorWorld]:
    world = door_world(tmp_path / "doors.sqlite3")
    yield world
    world.database.close()


def test_open_compartment_is_audited_as_the_technician_with_the_reason(
    doors: DoorWorld, key: ConsoleKey
) -> None:
    store = SqliteFleetStore(doors.database)
    handlers = build_handlers(CommandPorts(compartments=doors.compartments))
    processor = CommandProcessor(
        store, load_public_key(key.public_b64), handlers, clock=Clock(1_800_000_000)
    )
    command, payload = key.command(
        "open-compartment", {"number": 3, "reason": "citizen called"}, now=1_800_000_000
    )
    replies = run(processor, payload)
    assert replies[-1].status == Status.SUCCEEDED
    assert replies[-1].result["outcome"] == "opened"
    assert doors.column.unlocks() == [3]
    record = next(e for e in doors.audit.for_subject("compartment:3") if e.action == "door.open")
    assert f"{record.actor.kind}:{record.actor.id}" == "technician:wang.tech"
    assert "citizen called" in record.reason
    assert command.id in record.reason
    no_reason = key.command("open-compartment", {"number": 3}, now=1_800_000_000)[1]
    assert "reason" in run(processor, no_reason)[-1].detail
    assert doors.column.unlocks() == [3]


def test_out_of_service_and_back(doors: DoorWorld, key: ConsoleKey) -> None:
    handlers = build_handlers(CommandPorts(compartments=doors.compartments))
    processor = CommandProcessor(
        MemoryFleetStore(), load_public_key(key.public_b64), handlers, clock=Clock(1_800_000_000)
    )
    out = key.command(
        "take-out-of-service", {"number": 2, "reason": "hinge loose"}, now=1_800_000_000
    )[1]
    assert run(processor, out)[-1].status == Status.SUCCEEDED
    assert doors.compartments.compartment(2).state.value == "out_of_service"
    back = key.command("return-to-service", {"number": 2}, now=1_800_000_000)[1]
    assert run(processor, back)[-1].result == {"state": "free"}
    missing = key.command("take-out-of-service", {"number": 99, "reason": "x"}, now=1_800_000_000)[
        1
    ]
    assert run(processor, missing)[-1].status == Status.FAILED


def test_a_big_screenshot_goes_in_chunks_and_is_not_kept() -> None:
    png = bytes(range(256)) * 2000  # 512 000 bytes
    outcome = screenshot_outcome(png)
    assert len(outcome.progress) == -(-len(png) // SCREENSHOT_CHUNK_BYTES)
    joined = b"".join(base64.b64decode(p["data"]) for p in outcome.progress)
    assert joined == png
    assert outcome.result["chunks"] == len(outcome.progress)
    assert "png_base64" not in outcome.ledger_result
    small = screenshot_outcome(b"\x89PNG small")
    assert base64.b64decode(small.result["png_base64"]) == b"\x89PNG small"


def test_set_config_takes_only_whitelisted_keys_and_newer_versions(database: Database) -> None:
    applied: list[dict[str, object]] = []
    config = RemoteConfig(SqliteFleetStore(database), lambda values: applied.append(dict(values)))
    config.set(1, {"voice.volume": 0.5, "idle.warn_after_s": 90})
    with pytest.raises(RemoteConfigRefused, match="cannot be set remotely"):
        config.set(2, {"fleet.broker_url": "mqtt://evil"})
    with pytest.raises(RemoteConfigRefused, match="not newer"):
        config.set(1, {"voice.volume": 0.1})
    with pytest.raises(RemoteConfigRefused, match="between"):
        config.set(2, {"voice.volume": 3})
    again = RemoteConfig(SqliteFleetStore(database))
    assert again.reported.version == 1
    assert again.reported.values["voice.volume"] == 0.5
    assert applied == [{"voice.volume": 0.5, "idle.warn_after_s": 90.0}]


def test_logs_come_from_the_ring_and_restart_happens_after_the_reply(key: ConsoleKey) -> None:
    ring = RingLogHandler(capacity=3)
    for n in range(5):
        ring.emit(logging.LogRecord("kiosk", logging.INFO, "", 0, f"line {n}", None, None))
    order: list[str] = []

    class Restarter:
        def request_restart(self, exit_code: int) -> None:
            order.append(f"restart {exit_code}")

    handlers = build_handlers(CommandPorts(logs=ring, restarter=Restarter()))
    processor = CommandProcessor(
        MemoryFleetStore(), load_public_key(key.public_b64), handlers, clock=Clock(1_800_000_000)
    )
    replies = run(processor, key.command("logs", {"lines": 2}, now=1_800_000_000)[1])
    assert [line.rsplit(" ", 2)[-2:] for line in replies[-1].result["lines"]] == [
        ["line", "3"],
        ["line", "4"],
    ]
    processor.process(
        key.command("restart", now=1_800_000_000)[1],
        lambda reply: order.append(reply.status.value),
    )
    assert order == ["RECEIVED", "IN_PROGRESS", "SUCCEEDED", "restart 75"]


def test_the_ring_forwards_warnings_once_without_feeding_itself() -> None:
    forwarded: list[str] = []
    ring = RingLogHandler(
        forward=lambda r: (
            forwarded.append(r.getMessage()),
            logging.getLogger("x").warning("inner"),
        ),
        forward_level=logging.WARNING,
    )
    logger = logging.getLogger("test.fleet.ring")
    logger.addHandler(ring)
    logger.propagate = False
    try:
        logger.info("quiet")
        logger.warning("loud")
    finally:
        logger.removeHandler(ring)
    assert forwarded == ["loud"]


def test_the_signature_covers_canonical_json() -> None:
    key = Ed25519PrivateKey.generate()
    command = Command("c1", "li", 1, 2, "ping", {"b": 1, "a": "慈"})
    body = json.loads(sign_command(command, key))
    assert set(body) == {"id", "issuer", "issued_at", "expires_at", "name", "args", "sig"}


def test_the_reconnect_delay_is_spread_from_the_first_retry_and_capped() -> None:
    from backend_client.fleet_mqtt import reconnect_delay

    assert reconnect_delay(1, 0.0) == 0.1
    assert reconnect_delay(1, 0.999) < 2.0  # the first retry already spreads over 2 s
    assert reconnect_delay(3, 0.5) == 4.0
    assert reconnect_delay(40, 0.999) < 60.0
