"""A seeded hall on loopback for tests and benches (here and in backend_client's tests).

Not used at run time; it saves every test module from re-learning how to start the real server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .adapters import RecordingSmsSender, SmsSender
from .seed import CITIZEN_ZHANG, SeedReport, seed
from .server import HallServer
from .service import Clock, HallConfig, HallService, utc_now

STAFF_PASSWORD = "staff-pass-123"
COURIER_PIN = "2468"
AGENT_PIN = "1357"


@dataclass
class RunningHall:
    server: HallServer
    service: HallService
    seed: SeedReport

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def token(self) -> str:
        assert self.seed.kiosk_token is not None
        return self.seed.kiosk_token


class SettableClock:
    """A clock tests move by hand, for supervision colours and deadlines."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utc_now()

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def running_hall(
    folder: Path,
    *,
    clock: Clock = utc_now,
    max_upload_bytes: int = 5 * 1024 * 1024,
    sms_sender: SmsSender | None = None,
    db_busy_timeout_s: float = 30.0,
) -> Iterator[RunningHall]:
    """A fresh hall with its own SQLite file, seeded, listening on a free loopback port."""
    config = HallConfig(
        db_url=f"sqlite:///{folder / 'hall.db'}",
        max_upload_bytes=max_upload_bytes,
        db_busy_timeout_s=db_busy_timeout_s,
    )
    service = HallService(config, clock=clock, sms_sender=sms_sender or RecordingSmsSender())
    report = seed(
        service, staff_password=STAFF_PASSWORD, courier_pin=COURIER_PIN, agent_pin=AGENT_PIN
    )
    server = HallServer(service).start()
    try:
        yield RunningHall(server, service, report)
    finally:
        server.stop()
        service.close()


def passport_submission(id_number: str = CITIZEN_ZHANG) -> dict[str, Any]:
    """A valid submission with a fee (the passport costs 120 yuan)."""
    return {
        "item_ids": ["ee-passport"],
        "applicant": {"id_number": id_number, "name": "张秀英", "phone": "13800138000"},
        "forms": {
            "ee-passport": {
                "kind": "first",
                "travel_purpose": "tourism",
                "emergency_contact_phone": "13900139000",
            }
        },
    }


def birth_submission(id_number: str = CITIZEN_ZHANG) -> dict[str, Any]:
    """A valid free submission with a paper original."""
    return {
        "item_ids": ["hh-birth-registration"],
        "applicant": {"id_number": id_number, "name": "张秀英", "phone": "13800138000"},
        "forms": {
            "hh-birth-registration": {
                "child_name": "王小明",
                "child_birth_date": "2025-03-01",
                "child_sex": "male",
                "register_with": "mother",
            }
        },
    }
