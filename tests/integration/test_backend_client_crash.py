"""A kiosk process SIGKILLed at random points while taking submissions loses nothing.

The harness (this file run as a script) is a minimal terminal: it takes submissions through the
core's outbox API — e-copy written and flushed first, then the submission and its e-copy in one
transaction — and prints "told the user: …" only after the commit, while its sender delivers to
the real hall in the background. The test kills it at random moments (while enqueuing, while a
request is in flight, while acknowledging), restarts it, and finally lets one run drain the outbox.
Every submission the user was told about must be in the hall exactly once, with its e-copy intact.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CITIZEN = "430821198503120023"
TOLD = "told the user: "


def harness(folder: Path, hall_url: str, token: str, prefix: str, drain: bool) -> int:
    """The terminal under test; runs until killed (or, with --drain, until the outbox is empty)."""
    from backend_client.client import HallClient
    from backend_client.connectivity import ConnectivityMonitor
    from backend_client.sender import OutboxSender, SenderSettings
    from kiosk.outbox import Outbox
    from kiosk.storage import Database

    database = Database.open(folder / "terminal.sqlite3")
    outbox = Outbox(database)
    sender = OutboxSender(
        outbox,
        lambda: HallClient(hall_url, token, timeout_s=5),
        ConnectivityMonitor(outbox),
        settings=SenderSettings(backoff_base_s=0.02, backoff_cap_s=0.2, idle_check_s=0.1),
    ).start()
    if drain:
        deadline = time.monotonic() + 60
        while outbox.stats().size and time.monotonic() < deadline:
            time.sleep(0.05)
        sender.stop()
        print("drained" if outbox.stats().size == 0 else "not drained", flush=True)
        return 0
    for n in range(10_000):
        reference = f"{prefix}-{n}"
        data = b"\xff\xd8\xff\xe0" + os.urandom(3_000 + n)
        path = folder / f"{reference}.jpg"
        with open(path, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        body = {
            "item_ids": ["hh-birth-registration"],
            "applicant": {"id_number": CITIZEN, "name": "张秀英", "phone": "13800138000"},
            "forms": {
                "hh-birth-registration": {
                    "child_name": f"王{n}",
                    "child_birth_date": "2025-03-01",
                    "child_sex": "male",
                    "register_with": "mother",
                }
            },
        }
        with database.transaction():
            key = outbox.enqueue_submission(reference, body)
            outbox.enqueue_ecopy(
                reference,
                str(path),
                material_code="id-card",
                content_type="image/jpeg",
                sha256=hashlib.sha256(data).hexdigest(),
            )
        print(f"{TOLD}{reference} {key} {hashlib.sha256(data).hexdigest()}", flush=True)
    return 0


def _start(folder: Path, hall_url: str, token: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, str(folder), hall_url, token, *extra],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


def _read_line(process: subprocess.Popen[str], deadline: float) -> str:
    assert process.stdout is not None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError("the harness stopped talking")
        ready, _, _ = select.select([process.stdout], [], [], remaining)
        if ready:
            line = process.stdout.readline()
            if not line:
                raise AssertionError(f"the harness exited early (code {process.poll()})")
            return line.rstrip("\n")


@pytest.mark.timeout(150)
def test_a_kiosk_killed_at_random_points_loses_no_submission_it_told_the_user_about(
    tmp_path: Path,
) -> None:
    from backend_client.testing import HallProcess, seed_hall

    hall_db = tmp_path / "hall.db"
    token = seed_hall(hall_db)
    terminal = tmp_path / "terminal"
    terminal.mkdir()
    chance = random.Random(int.from_bytes(os.urandom(4), "big"))
    told: dict[str, tuple[str, str]] = {}  # reference -> (idempotency key, e-copy sha256)
    with HallProcess(hall_db) as hall:
        for run in range(5):
            process = _start(terminal, hall.url, token, f"run{run}-{uuid.uuid4().hex[:6]}")
            try:
                for _ in range(chance.randint(2, 12)):
                    line = _read_line(process, time.monotonic() + 60)
                    reference, key, digest = line.removeprefix(TOLD).split()
                    told[reference] = (key, digest)
            finally:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
                if process.stdout is not None:
                    process.stdout.close()
        drain = _start(terminal, hall.url, token, "drain", "--drain")
        try:
            assert _read_line(drain, time.monotonic() + 90) == "drained"
        finally:
            drain.wait(timeout=30)
            if drain.stdout is not None:
                drain.stdout.close()

    assert len(told) >= 10
    with sqlite3.connect(hall_db) as hall_sql:
        keys = [row[0] for row in hall_sql.execute("SELECT idempotency_key FROM submissions")]
        assert len(keys) == len(set(keys)), "a submission reached the hall twice"
        for reference, (key, digest) in told.items():
            rows = hall_sql.execute(
                "SELECT id FROM submissions WHERE idempotency_key = ?", (key,)
            ).fetchall()
            assert len(rows) == 1, f"submission {reference} the user was told about is missing"
            copies = hall_sql.execute(
                "SELECT sha256, data FROM ecopies WHERE submission_id = ?", (rows[0][0],)
            ).fetchall()
            assert len(copies) == 1
            assert copies[0][0] == digest == hashlib.sha256(copies[0][1]).hexdigest()
    leftovers = sorted(p.name for p in terminal.glob("*.jpg"))
    # Only files written just before a kill, whose transaction never committed, may remain.
    assert not {name.removesuffix(".jpg") for name in leftovers} & set(told)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("hall_url")
    parser.add_argument("token")
    parser.add_argument("prefix")
    parser.add_argument("--drain", action="store_true")
    arguments = parser.parse_args()
    sys.exit(
        harness(
            arguments.folder,
            arguments.hall_url,
            arguments.token,
            arguments.prefix,
            arguments.drain,
        )
    )
