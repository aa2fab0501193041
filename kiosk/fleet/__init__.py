"""Fleet monitoring, the terminal's side (docs/fleet-protocol.md): the Homie v5 model of the
terminal, its alert set, the telemetry rules, and signed remote commands with their ledger.

Pure core: no MQTT here (backend_client/fleet_mqtt.py moves the bytes) and no file reads (the
adapter measures disk and temperature). Ed25519 from `cryptography` is used for the signature
check, which does no I/O.
"""

from .alerts import Alert, AlertThresholds, Severity, derive_alerts
from .commands import (
    Command,
    CommandFailed,
    CommandProcessor,
    FleetKeyError,
    Outcome,
    Reply,
    Status,
    canonical_json,
    load_public_key,
    sign_command,
    verify,
)
from .handlers import RESTART_EXIT_CODE, CommandPorts, build_handlers
from .logring import RingLogHandler
from .model import ColumnReport, DoorReport, TerminalSnapshot
from .remote_config import WHITELIST, RemoteConfig, RemoteConfigRefused
from .store import FleetStore, MemoryFleetStore, SqliteFleetStore
from .submissions import SubmissionsToday
from .telemetry import FleetTelemetry, Publish
from .topics import FleetIdError, FleetTopics, device_id_for

__all__ = [
    "RESTART_EXIT_CODE",
    "WHITELIST",
    "Alert",
    "AlertThresholds",
    "ColumnReport",
    "Command",
    "CommandFailed",
    "CommandPorts",
    "CommandProcessor",
    "DoorReport",
    "FleetIdError",
    "FleetKeyError",
    "FleetStore",
    "FleetTelemetry",
    "FleetTopics",
    "MemoryFleetStore",
    "Outcome",
    "Publish",
    "RemoteConfig",
    "RemoteConfigRefused",
    "Reply",
    "RingLogHandler",
    "Severity",
    "SqliteFleetStore",
    "Status",
    "SubmissionsToday",
    "TerminalSnapshot",
    "build_handlers",
    "canonical_json",
    "derive_alerts",
    "device_id_for",
    "load_public_key",
    "sign_command",
    "verify",
]
