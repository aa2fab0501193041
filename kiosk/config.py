"""Typed settings of one terminal, read from a TOML file and validated at start-up.

A terminal is configured by people on site, often at night and under pressure: a mistake must stop
start-up with one sentence that names the file, the key and what was expected, never a traceback.
The defaults are the demo: every device points at its firmware stub on loopback, and local state
lives in the per-user data folder.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

CONFIG_ENV_VAR = "KIOSK_CONFIG"
DEFAULT_CONFIG_NAME = "kiosk.toml"

Language = Literal["zh-CN", "en"]
PortUrl = Annotated[str, Field(min_length=1, description="a pyserial URL or device path")]


class _Section(BaseModel):
    """Every section rejects unknown keys: a typo must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TerminalSettings(_Section):
    id: str = Field("demo-0001", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    name_zh: str = "慈利县零阳街道24小时政务自助服务站"
    name_en: str = "Lingyang Street 24-Hour Government Self-Service Point"
    hotline: str = Field("12345", pattern=r"^[0-9-]{3,20}$")
    default_language: Language = "zh-CN"
    kiosk_mode: bool = Field(
        False, description="full screen and no exit gesture without a technician credential"
    )


class DisplaySettings(_Section):
    width: int = Field(1080, ge=320, le=7680)
    height: int = Field(1920, ge=320, le=7680)
    font_path: str = Field("", description="a CJK font file; empty = search the system fonts")
    large_text_scale: float = Field(1.35, ge=1.0, le=2.5)
    multisamples: int = Field(
        0, ge=0, le=8, description="GPU edge smoothing (MSAA); 0 = off, see docs/adr/0022"
    )


class IdleSettings(_Section):
    warn_after_s: float = Field(60.0, gt=0, le=3600)
    countdown_s: float = Field(20.0, gt=0, le=600)


class NoticesSettings(_Section):
    file: str = Field("", description="TOML file of public notices; empty = the packaged sample")
    rotate_every_s: float = Field(8.0, ge=1, le=600)


class StorageSettings(_Section):
    data_dir: str = Field("", description="folder for the database; empty = per-user data folder")


class CompartmentSettings(_Section):
    """One compartment: the number on its door, where it is wired, its size, where it sits."""

    number: int = Field(ge=1, le=9999)
    board: int = Field(0, ge=0, le=31)
    lock: int = Field(ge=1, le=64)
    size: Literal["S", "M", "L"]
    row: int = Field(ge=1, le=64, description="1 = top row of the column")
    col: int = Field(1, ge=1, le=8, description="1 = left cell of the row")


def demo_compartments() -> list[CompartmentSettings]:
    """The demo column: two 8-lock boards, two cells a row; small on top, large at the bottom."""
    sizes = ["S", "S", "S", "S", "M", "M", "M", "M", "M", "M", "M", "M", "L", "L", "L", "L"]
    return [
        CompartmentSettings(
            number=index + 1,
            board=index // 8,
            lock=index % 8 + 1,
            size=sizes[index],
            row=index // 2 + 1,
            col=index % 2 + 1,
        )
        for index in range(16)
    ]


class LockerColumnSettings(_Section):
    """One column of compartments: a serial RS485 bus of lock boards, or an MQTT controller."""

    name: str = Field("A", min_length=1, max_length=8)
    transport: Literal["serial", "mqtt"] = "serial"
    port: PortUrl = Field("socket://127.0.0.1:7101", description="serial transport only")
    protocol: Literal["kerong-cu16", "rs485-8a"] = "kerong-cu16"
    baud: int | None = Field(None, gt=0, description="empty = the protocol's default")
    broker: str = Field("mqtt://127.0.0.1:1883", pattern=r"^mqtts?://")
    controller_id: str = Field("", description="MQTT transport: the column controller's id")
    channels: int | None = Field(
        None, ge=1, le=64, description="rs485-8a channel count; empty = the highest mapped lock"
    )
    fast_poll_s: float = Field(0.25, gt=0, le=5, description="poll period while a door may move")
    idle_poll_s: float = Field(1.0, gt=0, le=60, description="poll period otherwise")
    alarm_window_s: float = Field(
        10.0, gt=0, le=300, description="a door opening this long after no unlock is an alarm"
    )
    compartments: list[CompartmentSettings] = Field(default_factory=demo_compartments)

    @model_validator(mode="after")
    def _mqtt_needs_a_controller(self) -> LockerColumnSettings:
        if self.transport == "mqtt" and not self.controller_id:
            raise ValueError(
                "an MQTT column needs controller_id (the controller's id on the broker)"
            )
        return self

    @field_validator("compartments")
    @classmethod
    def _wired_once(cls, value: list[CompartmentSettings]) -> list[CompartmentSettings]:
        seen: set[tuple[int, int]] = set()
        for compartment in value:
            wire = (compartment.board, compartment.lock)
            if wire in seen:
                raise ValueError(f"board {wire[0]} lock {wire[1]} is mapped to two compartments")
            seen.add(wire)
        return value


class SerialDeviceSettings(_Section):
    enabled: bool = True
    port: PortUrl
    baud: int = Field(9600, gt=0)


class SocialSecurityCardSettings(_Section):
    """A PC/SC reader for social-security cards (optional; needs pyscard and pcscd)."""

    enabled: bool = False
    reader: str = Field("", description="part of the PC/SC reader name; empty = the first reader")
    poll_interval_s: float = Field(0.3, gt=0, le=5)


class PrinterSettings(_Section):
    enabled: bool = True
    url: str = Field("tcp://127.0.0.1:9100", min_length=1)
    paper_mm: Literal[58, 80] = 80
    poll_interval_s: float = Field(30.0, gt=0, le=3600, description="paper status check period")


CodeFormat = Literal["QRCode", "Code128", "EAN13", "DataMatrix", "PDF417"]


def _default_code_formats() -> list[CodeFormat]:
    return ["QRCode", "Code128", "EAN13"]


class CameraSettings(_Section):
    enabled: bool = True
    source: str = Field(
        "http://127.0.0.1:7104/stream.mjpg",
        min_length=1,
        description="device index, video file, image folder or stream URL (the demo: the stub)",
    )
    fps: float = Field(15.0, gt=0, le=120, description="pace for video files and image folders")
    formats: list[CodeFormat] = Field(default_factory=_default_code_formats)
    duplicate_window_s: float = Field(3.0, ge=0, le=60)
    steady_frames: int = Field(8, ge=2, le=60)
    pages_dir: str = Field("", description="captured pages; empty = <data folder>/pages")


class DevicesSettings(_Section):
    @field_validator("locker_columns")
    @classmethod
    def _unique_numbers(cls, value: list[LockerColumnSettings]) -> list[LockerColumnSettings]:
        numbers = [c.number for column in value for c in column.compartments]
        duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
        if duplicates:
            raise ValueError(f"compartment numbers must be unique; repeated: {duplicates}")
        names = [column.name for column in value]
        if len(set(names)) != len(names):
            raise ValueError("column names must be unique")
        return value

    locker_columns: list[LockerColumnSettings] = Field(
        default_factory=lambda: [LockerColumnSettings()]
    )
    idcard: SerialDeviceSettings = SerialDeviceSettings(port="socket://127.0.0.1:7102", baud=115200)
    sscard: SocialSecurityCardSettings = SocialSecurityCardSettings()
    scanner: SerialDeviceSettings = SerialDeviceSettings(port="socket://127.0.0.1:7103", baud=9600)
    printer: PrinterSettings = PrinterSettings()
    camera: CameraSettings = CameraSettings()


def _default_voices() -> dict[Language, str]:
    return {"zh-CN": "cmn", "en": "en"}


class VoiceSettings(_Section):
    """Spoken prompts, rendered offline by espeak-ng and played by the app."""

    enabled: bool = True
    rate_wpm: int = Field(150, ge=80, le=300)
    voices: dict[Language, str] = Field(
        default_factory=_default_voices, description="espeak-ng voice per language"
    )
    timeout_s: float = Field(20.0, gt=0, le=120)
    max_cached_files: int = Field(400, ge=10, le=100_000)
    volume: float = Field(1.0, ge=0, le=1)


class CompartmentsSettings(_Section):
    hold_s: float = Field(300.0, ge=30, le=3600, description="how long a reservation is held")
    pickup_code_scrypt_n: int = Field(
        4096, ge=1024, le=1 << 20, description="scrypt cost for stored pickup codes (power of 2)"
    )

    @field_validator("pickup_code_scrypt_n")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError("must be a power of two (e.g. 4096, 16384)")
        return value


class CatalogSettings(_Section):
    most_used_count: int = Field(8, ge=1, le=24)
    most_used_default: list[str] = Field(
        default_factory=list, description="item ids shown first before local usage exists"
    )


class HallSettings(_Section):
    url: str = Field("http://127.0.0.1:8700", pattern=r"^https?://")
    token: str = Field("", description="this terminal's API token issued by the hall")
    timeout_s: float = Field(10.0, gt=0, le=300)
    public_key: str = Field(
        "", description="the hall's Ed25519 key (base64); empty = pin the key seen at first sync"
    )
    tasks_poll_s: float = Field(60.0, ge=1, le=3600)
    roster_sync_s: float = Field(900.0, ge=5, le=86400)
    catalog_sync_s: float = Field(3600.0, ge=5, le=86400)
    max_ecopy_bytes: int = Field(5 * 1024 * 1024, gt=0)
    stale_after_s: float = Field(
        600.0, gt=0, description="outbox older than this makes connectivity degraded"
    )


class PickupSettings(_Section):
    """Citizens collecting their results: expiry of a stored result and the guard on typed codes."""

    keep_days: int = Field(7, ge=1, le=90, description="days a result waits before going back")
    wrong_code_limit: int = Field(5, ge=2, le=50, description="wrong codes within the window")
    wrong_code_window_s: float = Field(60.0, ge=10, le=3600)
    keypad_lock_s: float = Field(300.0, ge=30, le=86400, description="keypad locked after that")
    ask_again_s: float = Field(20.0, ge=5, le=300, description="wait before asking once more")


class CourierSettings(_Section):
    """Couriers and village agents: sign-in, lockout and how many doors open at once."""

    pin_attempts: int = Field(3, ge=1, le=10, description="wrong PINs before the card is locked")
    card_lock_s: float = Field(900.0, ge=60, le=86400)
    session_idle_s: float = Field(120.0, ge=20, le=3600)
    roster_grace_h: float = Field(
        72.0, ge=0, le=720, description="an expired roster still signs in for this long (offline)"
    )
    doors_at_once_per_column: int = Field(1, ge=1, le=8)


class FleetSettings(_Section):
    """Remote monitoring over MQTT (docs/fleet-protocol.md)."""

    enabled: bool = False
    broker_url: str = Field("mqtt://127.0.0.1:1883", pattern=r"^mqtts?://[^/\s]+$")
    username: str = ""
    password_file: str = Field("", description="file holding this terminal's broker password")
    ca_file: str = Field("", description="CA certificate for mqtts:// (empty: system CAs)")
    client_cert_file: str = ""
    client_key_file: str = ""
    keepalive_s: int = Field(30, ge=5, le=600)
    heartbeat_s: float = Field(900.0, ge=30, le=86400)
    console_public_key: str = Field(
        "", description="the console's Ed25519 public key (base64); empty = refuse all commands"
    )
    device_id: str = Field("", pattern=r"^[a-z0-9-]*$", description="empty = from terminal.id")
    log_level_published: Literal["debug", "info", "warning", "error"] = "warning"


class Settings(_Section):
    terminal: TerminalSettings = TerminalSettings()
    display: DisplaySettings = DisplaySettings()
    idle: IdleSettings = IdleSettings()
    notices: NoticesSettings = NoticesSettings()
    storage: StorageSettings = StorageSettings()
    devices: DevicesSettings = DevicesSettings()
    voice: VoiceSettings = VoiceSettings()
    compartments: CompartmentsSettings = CompartmentsSettings()
    catalog: CatalogSettings = CatalogSettings()
    hall: HallSettings = HallSettings()
    pickup: PickupSettings = PickupSettings()
    courier: CourierSettings = CourierSettings()
    fleet: FleetSettings = FleetSettings()

    @field_validator("idle")
    @classmethod
    def _countdown_shorter_than_idle(cls, value: IdleSettings) -> IdleSettings:
        if value.countdown_s > value.warn_after_s * 10:
            raise ValueError("countdown_s must not be more than ten times warn_after_s")
        return value


class ConfigError(Exception):
    """The configuration cannot be used; the message is one sentence for the person on site."""


def describe_validation_error(source: str, error: ValidationError) -> str:
    """Turn pydantic's report into one sentence naming the file, the key and the expectation."""
    first = error.errors()[0]
    key = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]
    ).lstrip(".")
    kind = first["type"]
    if kind == "extra_forbidden":
        section, _, name = key.rpartition(".")
        where = f"section [{section}]" if section else "the top level"
        key = key or name
        return f"{source}: unknown key '{key}' — {where} has no setting called '{name}'."
    expected = first["msg"]
    if expected.startswith("Value error, "):
        expected = expected.removeprefix("Value error, ")
    got = first.get("input")
    shown = f" (got {got!r})" if isinstance(got, str | int | float | bool) else ""
    return f"{source}: key '{key}' is invalid{shown}: {expected[0].lower()}{expected[1:]}."


def settings_from_mapping(data: Mapping[str, Any], source: str = "configuration") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        raise ConfigError(describe_validation_error(source, err)) from err


def resolve_config_path(
    cli_path: str | None, environ: Mapping[str, str] = os.environ
) -> Path | None:
    """`--config` wins over $KIOSK_CONFIG, then ./kiosk.toml; None means the built-in demo."""
    if cli_path:
        return Path(cli_path)
    if environ.get(CONFIG_ENV_VAR):
        return Path(environ[CONFIG_ENV_VAR])
    local = Path(DEFAULT_CONFIG_NAME)
    return local if local.is_file() else None


def load_settings(path: Path | None) -> Settings:
    """Read and validate the file; without a file, the demo defaults apply."""
    if path is None:
        return Settings()
    try:
        raw = path.read_bytes()
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: the configuration file does not exist.") from err
    except OSError as err:
        raise ConfigError(
            f"{path}: the configuration file cannot be read ({err.strerror})."
        ) from err
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: the file is not UTF-8 text (byte {err.start}).") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML — {err}.") from err
    return settings_from_mapping(data, str(path))
