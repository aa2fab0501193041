"""The console's pure parts and its store: topics, signing, urgency, history rules, drawing."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from fleet_console.broker_setup import BrokerOptions, acl_text, config_text
from fleet_console.commands import CommandArgumentError, build_args, parse_settings
from fleet_console.drawing import columns_from_values, locker_columns_svg
from fleet_console.ingest import Ingest
from fleet_console.keys import generate_key_pair, load_private_key, public_key_from_text
from fleet_console.protocol import (
    ProtocolError,
    TopicKind,
    device_id_for,
    new_command,
    parse_homie_topic,
    sign_command,
    verify_command,
)
from fleet_console.store import ConsoleStore

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ingest(tmp_path: Path) -> Ingest:
    return Ingest(ConsoleStore(tmp_path / "console.db"), Clock())


def alert(severity: str) -> bytes:
    return json.dumps(
        {"severity": severity, "text_en": "x", "text_zh": "x", "since": "2025-01-01T00:00:00Z"}
    ).encode()


# -- protocol -------------------------------------------------------------------------------------
def test_device_ids_follow_the_protocol() -> None:
    assert device_id_for("GZ_Cili 001") == "gz-cili-001"
    assert device_id_for("gz-cili-001") == "gz-cili-001"
    with pytest.raises(ProtocolError):
        device_id_for("__")


def test_topics_are_classified() -> None:
    assert parse_homie_topic("homie/5/gz-1/$state").kind is TopicKind.STATE  # type: ignore[union-attr]
    prop = parse_homie_topic("homie/5/gz-1/doors/door-12")
    assert prop is not None
    assert (prop.kind, prop.node, prop.name) == (TopicKind.PROPERTY, "doors", "door-12")
    assert parse_homie_topic("homie/5/gz-1/$alert/disk-low").name == "disk-low"  # type: ignore[union-attr]
    assert parse_homie_topic("homie/5/gz-1/doors/door-12/$target").kind is TopicKind.OTHER  # type: ignore[union-attr]
    assert parse_homie_topic("homie/5/Not_An_Id/$state") is None
    assert parse_homie_topic("lockers/col-a/state") is None


@given(
    name=st.sampled_from(["open-compartment", "logs"]),
    reason=st.text(min_size=1, max_size=40),
    number=st.integers(1, 999),
)
def test_a_signed_command_verifies_and_any_change_breaks_it(
    name: str, reason: str, number: int
) -> None:
    key = Ed25519PrivateKey.generate()
    command = new_command(
        name, {"number": number, "reason": reason}, issuer="alice", now_s=1e9, lifetime_s=60
    )
    payload = sign_command(command, key)
    assert verify_command(payload, key.public_key()) == command
    body = json.loads(payload)
    body["args"]["number"] = number + 1
    with pytest.raises(ProtocolError):
        verify_command(json.dumps(body).encode(), key.public_key())
    with pytest.raises(ProtocolError):
        verify_command(payload, Ed25519PrivateKey.generate().public_key())


def test_the_terminal_accepts_what_the_console_signs() -> None:
    """The two sides build the canonical bytes separately: they must agree byte for byte."""
    terminal = pytest.importorskip("kiosk.fleet.commands")
    key = Ed25519PrivateKey.generate()
    command = new_command(
        "open-compartment",
        {"number": 3, "reason": "市民忘取材料"},
        issuer="李工",
        now_s=1.7e9,
        lifetime_s=60,
    )
    checked = terminal.verify(sign_command(command, key), key.public_key())
    assert checked.id == command.id
    assert dict(checked.args) == {"number": 3, "reason": "市民忘取材料"}


# -- commands -------------------------------------------------------------------------------------
def test_command_arguments_are_checked_before_signing() -> None:
    assert build_args("open-compartment", compartment=12, reason=" jam ") == {
        "number": 12,
        "reason": "jam",
    }
    with pytest.raises(CommandArgumentError, match="reason"):
        build_args("open-compartment", compartment=12)
    with pytest.raises(CommandArgumentError, match="compartment"):
        build_args("take-out-of-service", reason="broken")
    assert build_args("return-to-service", compartment=2, reason="fixed") == {
        "number": 2,
        "note": "fixed",
    }
    assert build_args("set-config", values={"idle.timeout_s": 90}, version=4) == {
        "version": 4,
        "values": {"idle.timeout_s": 90},
    }
    assert build_args("set-out-of-service", active=False) == {"active": False}
    with pytest.raises(CommandArgumentError, match="Unknown command"):
        build_args("format-disk")
    assert parse_settings(["a=90", "b=hello", "c=true"]) == {"a": 90, "b": "hello", "c": True}


def test_keygen_writes_an_owner_only_private_key(tmp_path: Path) -> None:
    path = tmp_path / "k" / "console.key"
    public = generate_key_pair(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = load_private_key(path)
    message = b"x"
    public_key_from_text(public).verify(key.sign(message), message)
    assert (tmp_path / "k" / "console.key.pub").read_text().strip() == public


# -- store and ingest ---------------------------------------------------------------------------
def test_urgency_puts_lost_then_alerts_then_not_ready_then_healthy(ingest: Ingest) -> None:
    states = {
        "t-ok": "ready",
        "t-info": "ready",
        "t-init": "init",
        "t-warn": "ready",
        "t-crit": "ready",
        "t-lost": "lost",
        "t-err": "ready",
    }
    for device, state in states.items():
        ingest.handle(f"homie/5/{device}/$state", state.encode())
    for device, severity in (
        ("t-info", "info"),
        ("t-warn", "warning"),
        ("t-crit", "critical"),
        ("t-err", "error"),
        ("t-lost", "warning"),
    ):
        ingest.handle(f"homie/5/{device}/$alert/a-{severity}", alert(severity))
    order = [t.device_id for t in ingest.store.terminals()]
    assert order == ["t-lost", "t-crit", "t-err", "t-warn", "t-init", "t-info", "t-ok"]
    ingest.handle("homie/5/t-crit/$alert/a-critical", b"")
    assert [t.device_id for t in ingest.store.terminals()][1] == "t-err"


def test_retained_repeats_do_not_become_history(ingest: Ingest) -> None:
    clock = ingest._clock
    assert isinstance(clock, Clock)
    for value in ("ok", "ok", "near-end", "near-end", "out", "unknown", "ok"):
        clock.now += 60
        ingest.handle("homie/5/t-1/printer/paper", value.encode())
    assert [v for _, v in ingest.store.series("t-1", "paper", 0)] == [1.0, 0.5, 0.0, 1.0]
    for _ in range(2):
        ingest.handle("homie/5/t-1/$alert/door-3-attention", alert("critical"))
    ingest.handle("homie/5/t-1/$alert/door-3-attention", b"")
    assert len(ingest.store.alert_events("t-1", 0)) == 1
    assert [v for _, v in ingest.store.series("t-1", "door-alarms", 0)] == [1.0, 0.0]


def test_a_malformed_message_is_dropped_and_the_rest_goes_on(ingest: Ingest) -> None:
    ingest.handle("homie/5/t-1/$alert/x", b"{not json")
    ingest.handle("homie/5/t-1/$description", b"[1, 2]")
    ingest.handle("gzk/1/t-1/reply/console", b'{"status": "NOPE"}')
    ingest.handle("homie/5/t-1/$state", b"ready")
    summary = ingest.store.terminal("t-1")
    assert summary is not None
    assert summary.state == "ready"
    assert summary.alerts == ()


def test_a_late_progress_reply_never_overwrites_the_final_status(ingest: Ingest) -> None:
    command = new_command("self-test", {}, issuer="a", now_s=1e9, lifetime_s=60)
    ingest.store.record_command("t-1", command, 1e9)
    for status in ("RECEIVED", "SUCCEEDED", "IN_PROGRESS"):
        ingest.handle(
            "gzk/1/t-1/reply/console", json.dumps({"id": command.id, "status": status}).encode()
        )
    record = ingest.store.command(command.id)
    assert record is not None
    assert record.status == "SUCCEEDED"


def test_a_chunked_screenshot_is_put_together_and_checked(ingest: Ingest) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    command = new_command("screenshot", {}, issuer="a", now_s=1e9, lifetime_s=60)
    ingest.store.record_command("t-1", command, 1e9)
    pieces = [png[:500], png[500:]]
    for index, piece in enumerate(pieces):
        result = {"chunk": index, "chunks": 2, "data": base64.b64encode(piece).decode()}
        body = {"id": command.id, "status": "IN_PROGRESS", "result": result}
        ingest.handle("gzk/1/t-1/reply/console", json.dumps(body).encode())
    final = {"chunks": 2, "sha256": hashlib.sha256(png).hexdigest()}
    body = {"id": command.id, "status": "SUCCEEDED", "result": final}
    ingest.handle("gzk/1/t-1/reply/console", json.dumps(body).encode())
    shot = ingest.store.screenshot("t-1")
    assert shot is not None
    assert shot[0] == png


def test_logs_are_bounded_per_terminal(tmp_path: Path) -> None:
    store = ConsoleStore(tmp_path / "c.db", logs_per_terminal=5)
    for index in range(12):
        store.add_log("t-1", "warning", f"line {index}", float(index))
    assert [line.text for line in store.logs("t-1")] == [f"line {i}" for i in range(11, 6, -1)]


# -- drawing --------------------------------------------------------------------------------------
def test_the_column_is_drawn_from_the_layout_and_the_doors() -> None:
    layout = [{"n": 1, "row": 1, "col": 1, "size": "S"}, {"n": 2, "row": 1, "col": 2, "size": "S"}]
    values = {
        "locker-a": {"layout": json.dumps(layout)},
        "doors": {
            "door-1": "open",
            "item-1": "present",
            "state-1": "occupied",
            "door-2": "closed",
            "state-2": "out-of-service",
            "door-9": "closed",
        },
    }
    columns = columns_from_values(values, {"nodes": {"locker-a": {"name": "Column A"}}})
    assert [c.name for c in columns] == ["Column A", "Compartments"]
    first, second = columns[0].compartments
    assert (first.door, first.item, first.in_service) == ("open", "present", True)
    assert second.in_service is False
    svg = locker_columns_svg(columns)
    assert 'data-number="1" data-door="open"' in svg
    assert 'data-state="out-of-service"' in svg
    assert 'data-number="9"' in svg  # a door the layout does not place still shows


def test_text_is_escaped_in_the_drawing() -> None:
    values = {"locker-a": {"layout": '[{"n":1,"row":1,"col":1}]'}, "doors": {"state-1": "<b>"}}
    assert "<b>" not in locker_columns_svg(columns_from_values(values, {}))


# -- broker files ---------------------------------------------------------------------------------
def test_the_acl_confines_terminals_with_patterns() -> None:
    text = acl_text(["fleet-console"])
    assert "pattern readwrite homie/5/%u/#" in text
    assert "pattern read gzk/1/%u/cmd" in text
    assert "pattern write gzk/1/%u/reply/#" in text
    assert "user fleet-console\ntopic read homie/5/#" in text


def test_the_shipped_templates_are_what_the_generator_writes() -> None:
    assert (DEPLOY / "acl").read_text(encoding="utf-8") == acl_text(["fleet-console"])
    assert (DEPLOY / "mosquitto.conf").read_text(encoding="utf-8") == config_text(
        BrokerOptions(), "/etc/mosquitto/fleet"
    )
