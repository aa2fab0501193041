"""The commands a technician may send, with their arguments checked before anything is signed.

The console refuses a malformed command itself: a technician learns at once that a reason is
missing, instead of waiting for the terminal's REJECTED. The terminal checks again (it trusts
nothing but the signature).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class CommandArgumentError(ValueError):
    """The technician's input does not make a valid command; the message says what to fix."""


@dataclass(frozen=True)
class CommandSpec:
    name: str
    title_en: str
    title_zh: str
    needs_compartment: bool = False
    needs_reason: bool = False
    dangerous: bool = False  # drawn red in the console; every command asks for confirmation
    lifetime_s: int = 120


COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec(
            "open-compartment",
            "Open compartment",
            "打开格口",
            needs_compartment=True,
            needs_reason=True,
            dangerous=True,
            lifetime_s=60,
        ),
        CommandSpec(
            "take-out-of-service",
            "Take compartment out of service",
            "停用格口",
            needs_compartment=True,
            needs_reason=True,
        ),
        CommandSpec(
            "return-to-service", "Return compartment to service", "恢复格口", needs_compartment=True
        ),
        CommandSpec("print-test-page", "Print a test page", "打印测试页"),
        CommandSpec("self-test", "Run device self-test", "设备自检"),
        CommandSpec("screenshot", "Take a screenshot", "截取屏幕"),
        CommandSpec("logs", "Fetch recent log lines", "获取最近日志"),
        CommandSpec("reload-config", "Reload configuration", "重新加载配置"),
        CommandSpec("set-config", "Set configuration", "设置配置"),
        CommandSpec("restart", "Restart the app", "重启应用", dangerous=True),
        CommandSpec(
            "set-out-of-service", "Set terminal out of service", "终端暂停服务", dangerous=True
        ),
    )
}
MAX_LOG_LINES = 500  # what the terminal accepts (kiosk/fleet/handlers.py)


def build_args(
    name: str,
    *,
    compartment: int | None = None,
    reason: str = "",
    lines: int | None = None,
    values: Mapping[str, Any] | None = None,
    version: int | None = None,
    active: bool = True,
    message_zh: str = "",
    message_en: str = "",
) -> dict[str, Any]:
    """The `args` object of one command as docs/fleet-protocol.md names them, or an error a
    technician can act on."""
    spec = COMMANDS.get(name)
    if spec is None:
        raise CommandArgumentError(
            f"Unknown command {name!r}; known commands: {', '.join(sorted(COMMANDS))}."
        )
    args: dict[str, Any] = {}
    if spec.needs_compartment:
        if compartment is None or compartment < 1:
            raise CommandArgumentError(f"{name} needs a compartment number (1 or more).")
        args["number"] = compartment
    reason = reason.strip()
    if spec.needs_reason and not reason:
        raise CommandArgumentError(
            f"{name} needs a reason: it goes into the terminal's audit log with your name."
        )
    if reason:
        args["note" if name == "return-to-service" else "reason"] = reason
    if name == "logs":
        args["lines"] = lines if lines is not None else 100
        if not 1 <= args["lines"] <= MAX_LOG_LINES:
            raise CommandArgumentError(f"logs takes between 1 and {MAX_LOG_LINES} lines.")
    if name == "set-config":
        if not values:
            raise CommandArgumentError("set-config needs at least one KEY=VALUE setting.")
        if version is None or version < 1:
            raise CommandArgumentError(
                "set-config needs the new configuration version (one more than the terminal's "
                "system/config-version)."
            )
        args["version"] = version
        args["values"] = dict(values)
    if name == "set-out-of-service":
        args["active"] = active
        if message_zh.strip():
            args["message_zh"] = message_zh.strip()
        if message_en.strip():
            args["message_en"] = message_en.strip()
    return args


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    """`idle.timeout_s=90` → {"idle.timeout_s": 90}; values are JSON when they parse as JSON."""
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise CommandArgumentError(f"{pair!r} is not KEY=VALUE.")
        try:
            settings[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            settings[key.strip()] = raw
    return settings
