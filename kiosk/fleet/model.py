"""What a terminal reports about itself: one frozen snapshot, and its Homie v5 rendering.

The composition root gathers the snapshot from the device drivers, the compartment service and the
outbox (and the adapter adds disk and temperature, which are file reads); everything here is pure.
A snapshot turns into a Homie `$description` (the structure: which nodes and properties exist) and
a flat map of property values. Keeping the two apart is what makes report-by-exception cheap: the
description changes only when the hardware map changes, values change when something happens.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from kiosk.ports.health import DeviceHealth, HealthState

HOMIE_VERSION = "5.0"
HEALTH_FORMAT = "ok,degraded,fault,offline,disabled"
PAPER_FORMAT = "ok,near-end,out,unknown"
DOOR_FORMAT = "open,closed,unknown"
ITEM_FORMAT = "present,absent,unknown"
COMPARTMENT_FORMAT = "free,reserved,occupied,out-of-service"
# The device nodes every terminal describes, in this order (lockers and doors come after).
SINGLE_DEVICES = ("printer", "idcard", "sscard", "scanner", "camera")


@dataclass(frozen=True)
class DoorReport:
    """One compartment as the technician sees it: where it is, its door, item and state."""

    number: int
    column: str
    row: int
    col: int
    size: str
    door: str  # open | closed | unknown
    item: bool | None  # None: no item sensor, or not read yet
    state: str  # free | reserved | occupied | out_of_service
    service_note: str = ""  # why it is out of service
    attention: str = ""  # what staff must look at (a door alarm, a deposit nothing vouched for)


@dataclass(frozen=True)
class ColumnReport:
    """One locker column (its lock boards answer as one device)."""

    name: str
    health: DeviceHealth


@dataclass(frozen=True)
class TerminalSnapshot:
    """Everything a terminal publishes, at one moment. Build it with `TerminalSnapshot(...)`.

    `devices` holds the single devices by node name (printer, idcard, sscard, scanner, camera); a
    device missing from it is reported as `disabled`. `cpu_temperature_c` is None where the
    machine has no thermal sensor: the property is then left out ("not reported").
    """

    name: str
    app_version: str
    boot_time: datetime
    devices: Mapping[str, DeviceHealth] = field(default_factory=lambda: MappingProxyType({}))
    paper: str = "unknown"  # ok | near-end | out | unknown
    columns: Sequence[ColumnReport] = ()
    doors: Sequence[DoorReport] = ()
    outbox_size: int = 0
    outbox_parked: int = 0
    outbox_age_s: float = 0.0
    disk_free_mb: float | None = None
    cpu_temperature_c: float | None = None
    out_of_service: bool = False
    config_version: int = 0
    submissions_today: int | None = None  # None: this terminal takes no applications


@dataclass(frozen=True)
class PropertySpec:
    """One Homie property: how a generic controller should show it."""

    id: str
    name: str
    datatype: str  # integer | float | boolean | string | enum | datetime | json
    format: str = ""
    unit: str = ""

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"name": self.name, "datatype": self.datatype}
        if self.format:
            body["format"] = self.format
        if self.unit:
            body["unit"] = self.unit
        return body


@dataclass(frozen=True)
class NodeSpec:
    id: str
    name: str
    type: str
    properties: tuple[PropertySpec, ...]


def _health_node(node_id: str, name: str, node_type: str) -> NodeSpec:
    return NodeSpec(
        node_id,
        name,
        node_type,
        (
            PropertySpec("state", "Health", "enum", HEALTH_FORMAT),
            PropertySpec("reason", "What to check", "string"),
        ),
    )


_DEVICE_NAMES = {
    "printer": ("Receipt printer", "gzk-printer"),
    "idcard": ("ID-card reader", "gzk-card-reader"),
    "sscard": ("Social-security card reader", "gzk-card-reader"),
    "scanner": ("Code scanner", "gzk-scanner"),
    "camera": ("Document camera", "gzk-camera"),
}


def describe(snapshot: TerminalSnapshot) -> tuple[NodeSpec, ...]:
    """The node and property structure for this snapshot (depends only on the hardware map)."""
    nodes: list[NodeSpec] = []
    for device in SINGLE_DEVICES:
        name, node_type = _DEVICE_NAMES[device]
        node = _health_node(device, name, node_type)
        if device == "printer":
            extra = PropertySpec("paper", "Paper", "enum", PAPER_FORMAT)
            node = NodeSpec(node.id, node.name, node.type, (*node.properties, extra))
        nodes.append(node)
    for column in snapshot.columns:
        base = _health_node(f"locker-{column_node_suffix(column.name)}", "", "gzk-locker-column")
        nodes.append(
            NodeSpec(
                base.id,
                f"Locker column {column.name}",
                base.type,
                (
                    *base.properties,
                    PropertySpec("compartments", "Compartments", "integer"),
                    PropertySpec("free", "Free compartments", "integer"),
                    PropertySpec("out-of-service", "Out of service", "integer"),
                    PropertySpec("layout", "Layout (number, row, col, size)", "json"),
                ),
            )
        )
    door_properties: list[PropertySpec] = []
    for door in sorted(snapshot.doors, key=lambda d: d.number):
        n = door.number
        door_properties += [
            PropertySpec(f"door-{n}", f"Door {n}", "enum", DOOR_FORMAT),
            PropertySpec(f"item-{n}", f"Item in {n}", "enum", ITEM_FORMAT),
            PropertySpec(f"state-{n}", f"Compartment {n}", "enum", COMPARTMENT_FORMAT),
        ]
    nodes.append(NodeSpec("doors", "Compartment doors", "gzk-doors", tuple(door_properties)))
    nodes.append(
        NodeSpec(
            "outbox",
            "Messages waiting for the service hall",
            "gzk-outbox",
            (
                PropertySpec("size", "Waiting", "integer"),
                PropertySpec("parked", "Refused by the hall", "integer"),
                PropertySpec("age", "Oldest waiting", "integer", unit="s"),
            ),
        )
    )
    system = [
        PropertySpec("app-version", "Software version", "string"),
        PropertySpec("boot-time", "Started", "datetime"),
        PropertySpec("heartbeat", "Last heartbeat", "datetime"),
        PropertySpec("out-of-service", "Terminal out of service", "boolean"),
        PropertySpec("config-version", "Remote configuration version", "integer"),
    ]
    if snapshot.disk_free_mb is not None:
        system.append(PropertySpec("disk-free", "Disk free", "integer", unit="MB"))
    if snapshot.cpu_temperature_c is not None:
        system.append(PropertySpec("cpu-temperature", "CPU temperature", "integer", unit="°C"))
    if snapshot.submissions_today is not None:
        system.append(PropertySpec("submissions-today", "Applications submitted today", "integer"))
    nodes.append(NodeSpec("system", "Terminal", "gzk-system", tuple(system)))
    return tuple(nodes)


def description_json(snapshot: TerminalSnapshot, nodes: Sequence[NodeSpec], version: int) -> bytes:
    """The retained `$description` payload in the Homie v5 layout."""
    body = {
        "homie": HOMIE_VERSION,
        "version": version,
        "name": snapshot.name,
        "type": "gzk-terminal",
        "nodes": {
            node.id: {
                "name": node.name,
                "type": node.type,
                "properties": {p.id: p.as_json() for p in node.properties},
            }
            for node in nodes
        },
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def column_node_suffix(column_name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in column_name.lower()).strip("-")
    return cleaned or "x"


def _health_value(health: DeviceHealth | None) -> tuple[str, str]:
    if health is None:
        return "disabled", ""
    return health.state.value, health.reason


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def values(snapshot: TerminalSnapshot) -> dict[tuple[str, str], str]:
    """Every property value as its Homie string, keyed by (node, property); no heartbeat here."""
    out: dict[tuple[str, str], str] = {}
    for device in SINGLE_DEVICES:
        state, reason = _health_value(snapshot.devices.get(device))
        out[(device, "state")] = state
        out[(device, "reason")] = reason
    out[("printer", "paper")] = snapshot.paper
    for column in snapshot.columns:
        node = f"locker-{column_node_suffix(column.name)}"
        mine = sorted((d for d in snapshot.doors if d.column == column.name), key=_number)
        out[(node, "state")] = column.health.state.value
        out[(node, "reason")] = column.health.reason
        out[(node, "compartments")] = str(len(mine))
        out[(node, "free")] = str(sum(d.state == "free" for d in mine))
        out[(node, "out-of-service")] = str(sum(d.state == "out_of_service" for d in mine))
        layout = [{"n": d.number, "row": d.row, "col": d.col, "size": d.size} for d in mine]
        out[(node, "layout")] = json.dumps(layout, separators=(",", ":"))
    for door in snapshot.doors:
        n = door.number
        out[("doors", f"door-{n}")] = door.door
        item = "unknown" if door.item is None else "present" if door.item else "absent"
        out[("doors", f"item-{n}")] = item
        out[("doors", f"state-{n}")] = door.state.replace("_", "-")
    out[("outbox", "size")] = str(snapshot.outbox_size)
    out[("outbox", "parked")] = str(snapshot.outbox_parked)
    out[("outbox", "age")] = str(int(snapshot.outbox_age_s))
    out[("system", "app-version")] = snapshot.app_version
    out[("system", "boot-time")] = iso_utc(snapshot.boot_time)
    out[("system", "out-of-service")] = "true" if snapshot.out_of_service else "false"
    out[("system", "config-version")] = str(snapshot.config_version)
    if snapshot.disk_free_mb is not None:
        out[("system", "disk-free")] = str(int(snapshot.disk_free_mb))
    if snapshot.cpu_temperature_c is not None:
        out[("system", "cpu-temperature")] = str(round(snapshot.cpu_temperature_c))
    if snapshot.submissions_today is not None:
        out[("system", "submissions-today")] = str(snapshot.submissions_today)
    return out


def _number(door: DoorReport) -> int:
    return door.number


# Numeric values that drift all the time are published only when they moved this far from the
# value last published: an idle terminal must cost the broker little.
DEADBANDS: Mapping[tuple[str, str], float] = MappingProxyType(
    {
        ("system", "disk-free"): 256.0,
        ("system", "cpu-temperature"): 3.0,
        ("outbox", "age"): 60.0,
    }
)


def health_is_ok(health: DeviceHealth | None) -> bool:
    return health is None or health.state is HealthState.OK
