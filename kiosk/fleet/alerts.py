"""The alert set: what a technician must act on, derived from a snapshot, with stable ids.

An alert id names the problem, not the moment (`printer-paper-out`, `door-12-attention`), so the
same fault seen again after a restart is the same retained topic, and clearing it is one empty
payload. `since` is kept from the first time the problem was seen, so "out of paper since 02:10"
does not reset at every update.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kiosk.ports.health import DeviceHealth, HealthState

from .model import SINGLE_DEVICES, TerminalSnapshot, column_node_suffix, iso_utc


class Severity(StrEnum):
    CRITICAL = "critical"  # security or a citizen's property at stake: act now
    ERROR = "error"  # a service of the terminal does not work
    WARNING = "warning"  # works, but someone should look soon
    INFO = "info"


@dataclass(frozen=True)
class Alert:
    id: str
    severity: Severity
    text_en: str
    text_zh: str
    since: str  # ISO 8601 UTC

    def payload(self) -> bytes:
        body = {
            "severity": self.severity.value,
            "text_en": self.text_en,
            "text_zh": self.text_zh,
            "since": self.since,
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class AlertThresholds:
    outbox_stale_s: float = 600.0
    disk_low_mb: float = 500.0
    cpu_hot_c: float = 80.0


_DEVICE_ZH = {
    "printer": "凭条打印机",
    "idcard": "身份证阅读器",
    "sscard": "社保卡读卡器",
    "scanner": "扫码器",
    "camera": "高拍仪",
}
_STATE_ZH = {
    HealthState.DEGRADED: "需要检查",
    HealthState.FAULT: "故障",
    HealthState.OFFLINE: "离线",
}


def _device_alert(node: str, label_en: str, label_zh: str, health: DeviceHealth) -> _Draft:
    severity = Severity.WARNING if health.state is HealthState.DEGRADED else Severity.ERROR
    reason = f": {health.reason}" if health.reason else "."
    return _Draft(
        f"device-{node}",
        severity,
        f"{label_en} is {health.state.value}{reason}",
        f"{label_zh}{_STATE_ZH.get(health.state, '异常')}"
        + (f"：{health.reason}" if health.reason else "。"),
    )


@dataclass(frozen=True)
class _Draft:
    id: str
    severity: Severity
    text_en: str
    text_zh: str


def _drafts(snapshot: TerminalSnapshot, limits: AlertThresholds) -> list[_Draft]:
    drafts: list[_Draft] = []
    for device in SINGLE_DEVICES:
        health = snapshot.devices.get(device)
        if health is None or health.state is HealthState.OK:
            continue
        if device == "printer" and snapshot.paper == "out" and health.state is HealthState.FAULT:
            continue  # the paper alert below says it better
        drafts.append(_device_alert(device, device_label(device), _DEVICE_ZH[device], health))
    if snapshot.paper == "out":
        drafts.append(
            _Draft(
                "printer-paper-out",
                Severity.ERROR,
                "The receipt printer is out of paper; citizens get no receipt. Load a new roll.",
                "凭条打印机缺纸，市民无法取得回执，请更换纸卷。",
            )
        )
    elif snapshot.paper == "near-end":
        drafts.append(
            _Draft(
                "printer-paper-low",
                Severity.WARNING,
                "The receipt printer's paper roll is nearly used up; bring a new roll.",
                "凭条打印机纸卷即将用完，请带新纸卷。",
            )
        )
    for column in snapshot.columns:
        if column.health.state is HealthState.OK:
            continue
        node = f"locker-{column_node_suffix(column.name)}"
        drafts.append(
            _device_alert(node, f"Locker column {column.name}", f"{column.name}列柜", column.health)
        )
    for door in sorted(snapshot.doors, key=lambda d: d.number):
        if door.attention:
            drafts.append(
                _Draft(
                    f"door-{door.number}-attention",
                    Severity.CRITICAL,
                    f"Compartment {door.number} needs a look: {door.attention}",
                    f"{door.number}号格口需要现场检查：{door.attention}",
                )
            )
        if door.state == "out_of_service":
            note = f": {door.service_note}" if door.service_note else "."
            drafts.append(
                _Draft(
                    f"compartment-{door.number}-out-of-service",
                    Severity.WARNING,
                    f"Compartment {door.number} is out of service{note}",
                    f"{door.number}号格口已停用"
                    + (f"：{door.service_note}" if door.service_note else "。"),
                )
            )
    if snapshot.outbox_size and snapshot.outbox_age_s >= limits.outbox_stale_s:
        minutes = int(snapshot.outbox_age_s // 60)
        drafts.append(
            _Draft(
                "outbox-stale",
                Severity.WARNING,
                f"{snapshot.outbox_size} message(s) for the service hall have waited {minutes} "
                "min; check the terminal's network and the hall.",
                f"{snapshot.outbox_size}条待发往政务大厅的消息已等待{minutes}分钟，请检查网络和大厅系统。",
            )
        )
    if snapshot.outbox_parked:
        drafts.append(
            _Draft(
                "outbox-parked",
                Severity.ERROR,
                f"The service hall refused {snapshot.outbox_parked} message(s); read the reason "
                "in the terminal's outbox and release them after fixing it.",
                f"政务大厅拒收{snapshot.outbox_parked}条消息，请查看原因并处理。",
            )
        )
    if snapshot.disk_free_mb is not None and snapshot.disk_free_mb < limits.disk_low_mb:
        drafts.append(
            _Draft(
                "disk-low",
                Severity.ERROR,
                f"Only {int(snapshot.disk_free_mb)} MB of disk are free; e-copies may fail to "
                "save. Check the data folder.",
                f"磁盘仅剩{int(snapshot.disk_free_mb)} MB，电子材料可能无法保存，请清理数据目录。",
            )
        )
    temperature = snapshot.cpu_temperature_c
    if temperature is not None and temperature >= limits.cpu_hot_c:
        drafts.append(
            _Draft(
                "cpu-hot",
                Severity.WARNING,
                f"The CPU is at {round(temperature)} °C; check the cabinet's fan and vents.",
                f"处理器温度{round(temperature)}°C，请检查机柜风扇和通风口。",
            )
        )
    if snapshot.out_of_service:
        drafts.append(
            _Draft(
                "terminal-out-of-service",
                Severity.INFO,
                "The terminal was set out of service remotely; citizens see a notice.",
                "终端已远程设置为暂停服务，屏幕显示提示。",
            )
        )
    return drafts


def device_label(node: str) -> str:
    names = {
        "printer": "The receipt printer",
        "idcard": "The ID-card reader",
        "sscard": "The social-security card reader",
        "scanner": "The code scanner",
        "camera": "The document camera",
    }
    return names.get(node, node)


def derive_alerts(
    snapshot: TerminalSnapshot,
    previous: Mapping[str, Alert],
    now: datetime,
    limits: AlertThresholds | None = None,
) -> dict[str, Alert]:
    """The active alerts now; an alert already active keeps its `since`."""
    current: dict[str, Alert] = {}
    for draft in _drafts(snapshot, limits or AlertThresholds()):
        before = previous.get(draft.id)
        since = before.since if before is not None else iso_utc(now)
        current[draft.id] = Alert(draft.id, draft.severity, draft.text_en, draft.text_zh, since)
    return current


def decode_alert(alert_id: str, payload: bytes) -> Alert:
    """Read back a stored alert payload (the durable active set keeps payloads)."""
    body = json.loads(payload.decode("utf-8"))
    return Alert(
        alert_id,
        Severity(str(body["severity"])),
        str(body["text_en"]),
        str(body["text_zh"]),
        str(body["since"]),
    )
