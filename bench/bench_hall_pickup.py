"""The hall's side of collection: how long the pieces a citizen or the SMS thread waits on take.

Prints, asserts nothing:
- `result_loaded` events (hash the code, queue the SMS) per second, sent in batches of 50;
- one reminder round over N results all due at once (the notifications thread's worst case);
- GET /p/{qr} latency p50/p99 (looks the QR up by hash and draws it as SVG) over loopback.

    .venv/bin/python bench/bench_hall_pickup.py [--results 500] [--page-requests 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx

from service_hall.lifecycle import Step
from service_hall.schemas import EventIn, SubmissionIn
from service_hall.seed import seed
from service_hall.server import HallServer
from service_hall.service import HallConfig, HallService
from service_hall.testing import SettableClock, birth_submission

KIOSK = "demo-0001"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", type=int, default=500)
    parser.add_argument("--page-requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        clock = SettableClock()
        config = HallConfig(db_url=f"sqlite:///{Path(folder) / 'hall.db'}", sms_retry_s=3600)
        service = HallService(config, clock=clock)
        seed(service, staff_password="bench-pass-123", courier_pin="2468")
        try:
            run(service, clock, args.results, args.page_requests)
        finally:
            service.close()


def run(service: HallService, clock: SettableClock, count: int, requests: int) -> None:
    sids = []
    for _ in range(count):
        submission, _ = service.create_submission(
            KIOSK, uuid.uuid4().hex, SubmissionIn.model_validate(birth_submission())
        )
        for step in (Step.REVIEW_STARTED, Step.APPROVED, Step.RESULT_PRODUCED):
            service.staff_step(submission["id"], step, "staff:bench")
        sids.append(submission["id"])
    deadline = clock.now + timedelta(days=7)
    qrs = []
    events = []
    for index, sid in enumerate(sids):
        code = f"{index:08d}"
        qr = f"GZPK1.p{index}.{code}.1767225600.AAAAAAAAAAAAAAAAAAAAAA"
        qrs.append(qr)
        events.append(
            EventIn.model_validate(
                {
                    "event_id": uuid.uuid4().hex,
                    "type": "result_loaded",
                    "occurred_at": clock.now.isoformat() + "Z",
                    "submission_id": sid,
                    "compartment": "B02",
                    "pickup_code": code,
                    "pickup_qr": qr,
                    "pickup_deadline": deadline.isoformat() + "Z",
                }
            )
        )
    started = time.perf_counter()
    for first in range(0, len(events), 50):
        results = service.apply_events(KIOSK, events[first : first + 50])
        assert all(r["outcome"] == "applied" for r in results), results
    took = time.perf_counter() - started
    print(f"result_loaded: {count / took:.0f} events/s ({count} in batches of 50)")

    clock.now = deadline - timedelta(hours=12)
    started = time.perf_counter()
    reminded = service.queue_pickup_reminders()
    took = time.perf_counter() - started
    print(f"reminder round: {reminded} reminders queued in {took * 1000:.0f} ms")
    started = time.perf_counter()
    service.queue_pickup_reminders()
    print(f"reminder round with nothing due: {(time.perf_counter() - started) * 1000:.1f} ms")

    with HallServer(service) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        latencies = []
        for index in range(requests):
            started = time.perf_counter()
            response = client.get(f"/p/{qrs[index % len(qrs)]}")
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        latencies.sort()
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
        print(
            f"GET /p/{{qr}}: p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms "
            f"({requests} requests, SVG {len(response.text)} bytes of HTML)"
        )


if __name__ == "__main__":
    main()
