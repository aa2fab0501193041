"""Desired/reported configuration: the few settings a technician may change remotely.

Only a whitelist can be set remotely. Anything that could lock the terminal out (broker, keys,
device ports, storage) stays in the file on site: a typo sent over the air must never leave a
terminal that cannot be reached again. Each `set-config` carries a version; an older or equal
version than the one applied is refused (two consoles, or a delayed redelivery, cannot roll a
newer setting back). What is applied is the *reported* configuration; it is stored, survives
restarts, and its version is published as `system/config-version`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .store import FleetStore

DOCUMENT = "remote_config"


@dataclass(frozen=True)
class Setting:
    kind: type
    low: float | None = None
    high: float | None = None
    max_length: int = 0


# key → rule. Notice and out-of-service texts, idle timing, voice, notice rotation.
WHITELIST: Mapping[str, Setting] = MappingProxyType(
    {
        "idle.warn_after_s": Setting(float, 10, 3600),
        "idle.countdown_s": Setting(float, 5, 600),
        "notices.rotate_every_s": Setting(float, 1, 600),
        "voice.enabled": Setting(bool),
        "voice.volume": Setting(float, 0, 1),
        "service.out_of_service_message_zh": Setting(str, max_length=200),
        "service.out_of_service_message_en": Setting(str, max_length=200),
        "service.notice_zh": Setting(str, max_length=500),
        "service.notice_en": Setting(str, max_length=500),
    }
)


class RemoteConfigRefused(ValueError):
    """A set-config the terminal will not apply; the message is the reply's detail."""


@dataclass(frozen=True)
class ReportedConfig:
    version: int
    values: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"version": self.version, "values": dict(self.values)}


def check_value(key: str, value: Any) -> Any:
    rule = WHITELIST.get(key)
    if rule is None:
        raise RemoteConfigRefused(
            f"'{key}' cannot be set remotely; allowed: {', '.join(sorted(WHITELIST))}"
        )
    if rule.kind is bool:
        if not isinstance(value, bool):
            raise RemoteConfigRefused(f"'{key}' must be true or false")
        return value
    if rule.kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RemoteConfigRefused(f"'{key}' must be a number")
        if (rule.low is not None and value < rule.low) or (
            rule.high is not None and value > rule.high
        ):
            raise RemoteConfigRefused(f"'{key}' must be between {rule.low:g} and {rule.high:g}")
        return float(value)
    if not isinstance(value, str) or len(value) > rule.max_length:
        raise RemoteConfigRefused(f"'{key}' must be text of at most {rule.max_length} characters")
    return value


class RemoteConfig:
    def __init__(
        self, store: FleetStore, apply: Callable[[Mapping[str, Any]], None] | None = None
    ) -> None:
        self._store = store
        self._apply = apply
        saved = store.load_document(DOCUMENT) or {}
        self._reported = ReportedConfig(
            int(saved.get("version", 0)), MappingProxyType(dict(saved.get("values", {})))
        )

    @property
    def reported(self) -> ReportedConfig:
        return self._reported

    def reapply(self) -> None:
        """At start-up: the stored remote values win over the file for whitelisted keys."""
        if self._apply is not None and self._reported.values:
            self._apply(self._reported.values)

    def set(self, version: Any, values: Any) -> ReportedConfig:
        if isinstance(version, bool) or not isinstance(version, int):
            raise RemoteConfigRefused("set-config needs an integer 'version'")
        if version <= self._reported.version:
            raise RemoteConfigRefused(
                f"version {version} is not newer than the applied version "
                f"{self._reported.version}; send the next version"
            )
        if not isinstance(values, dict) or not values:
            raise RemoteConfigRefused("set-config needs 'values': an object of settings")
        checked = {str(key): check_value(str(key), value) for key, value in values.items()}
        merged = {**self._reported.values, **checked}
        if self._apply is not None:
            self._apply(checked)
        self._reported = ReportedConfig(version, MappingProxyType(merged))
        self._store.save_document(DOCUMENT, self._reported.as_json())
        return self._reported
