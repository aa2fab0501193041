"""Outbox drain rate: N queued submissions (no e-copies) delivered to a real hall on loopback.

Run: .venv/bin/python bench/bench_outbox_drain.py [--count 10000] [--concurrency 4]
The hall runs as its own process (`kiosk hall serve`), as it would on a separate machine; the
figure includes the kiosk's SQLite commits (synchronous=FULL) that delete acknowledged messages.
Target: at least 200 submissions/s.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend_client.client import HallClient
from backend_client.connectivity import ConnectivityMonitor
from backend_client.sender import OutboxSender, SenderSettings
from backend_client.testing import HallProcess, seed_hall
from kiosk.outbox import Outbox
from kiosk.storage import Database

CITIZEN = "430821198503120023"  # a valid sample ID number of the seeded hall


def instant_hall(request: httpx.Request) -> httpx.Response:
    """Answers like the hall, at once: measures what the terminal's side costs by itself."""
    if request.url.path.endswith("/submissions/batch"):
        entries = json.loads(request.content)["submissions"]
        results = [
            {
                "idempotency_key": entry["idempotency_key"],
                "outcome": "created",
                "status": 201,
                "submission": {"id": uuid.uuid4().hex, "tracking_number": "T"},
            }
            for entry in entries
        ]
        return httpx.Response(200, json={"results": results})
    return httpx.Response(201, json={"id": uuid.uuid4().hex, "tracking_number": "T"})


def body(n: int) -> dict[str, object]:
    return {
        "item_ids": ["hh-birth-registration"],
        "applicant": {"id_number": CITIZEN, "name": "张秀英", "phone": "13800138000"},
        "forms": {
            "hh-birth-registration": {
                "child_name": f"王小明{n}",
                "child_birth_date": "2025-03-01",
                "child_sex": "male",
                "register_with": "mother",
            }
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=SenderSettings().batch_size)
    parser.add_argument(
        "--one-by-one",
        action="store_true",
        help="POST /submissions per message, as against a hall without the batch endpoint",
    )
    parser.add_argument(
        "--kiosk-only",
        action="store_true",
        help="answer in-process instead of a hall: the terminal side's own ceiling",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        hall_db = Path(folder) / "hall.db"
        token = seed_hall(hall_db)
        database = Database.open(Path(folder) / "terminal.sqlite3")
        outbox = Outbox(database)
        started = time.perf_counter()
        for first in range(0, args.count, 1000):
            with database.transaction():
                for n in range(first, min(args.count, first + 1000)):
                    outbox.enqueue_submission(uuid.uuid4().hex, body(n))
        print(f"queued {args.count} submissions in {time.perf_counter() - started:.2f} s")
        with HallProcess(hall_db) as hall:
            monitor = ConnectivityMonitor(outbox)
            transport = httpx.MockTransport(instant_hall) if args.kiosk_only else None
            sender = OutboxSender(
                outbox,
                lambda: HallClient(hall.url, token, timeout_s=30, transport=transport),
                monitor,
                settings=SenderSettings(
                    batch_size=args.batch,
                    concurrency=args.concurrency,
                    batch_submissions=not args.one_by_one,
                ),
            )
            started = time.perf_counter()
            while outbox.stats().size > outbox.stats().parked:
                report = sender.deliver_round()
                if report.wait_s > 0 and report.acknowledged == 0:
                    time.sleep(min(report.wait_s, 0.5))
            elapsed = time.perf_counter() - started
            sender.stop()
        database.close()
        with sqlite3.connect(hall_db) as hall_sql:
            held = hall_sql.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    where = "in-process answers (kiosk side only)" if args.kiosk_only else "the real hall"
    if not args.kiosk_only:
        where += " (one request per submission)" if args.one_by_one else " (batch endpoint)"
    print(
        f"drained {args.count} submissions to {where} in {elapsed:.2f} s = "
        f"{args.count / elapsed:.0f}/s (concurrency {args.concurrency}, batch {args.batch}); "
        f"the hall holds {held}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
