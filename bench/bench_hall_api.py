"""Submission API throughput of the service hall with concurrent kiosks.

Starts `kiosk hall serve --port 0` as its own process (so client threads do not share its GIL),
registers one kiosk per concurrent client, and posts valid submissions with Idempotency-Keys.
Prints submissions per second and request latency percentiles per concurrency level, for
POST /submissions (one per request) and POST /submissions/batch; asserts nothing. A p50 of a
few milliseconds for single creates also shows Nagle is off on the hall's connections (with it,
every keep-alive answer waits ~40 ms for a delayed ACK).

    .venv/bin/python bench/bench_hall_api.py [--per-kiosk 100] [--levels 1,4,8] [--batch 50]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from service_hall.service import HallConfig, HallService
from service_hall.testing import birth_submission


def run_level(url: str, tokens: list[str], per_kiosk: int, batch: int) -> tuple[float, list[float]]:
    """`batch` 0: one POST /submissions each; else POST /submissions/batch of that many."""
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(tokens) + 1)

    def kiosk(token: str) -> None:
        mine: list[float] = []
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:
            barrier.wait()
            sent = 0
            while sent < per_kiosk:
                began = time.perf_counter()
                if batch:
                    size = min(batch, per_kiosk - sent)
                    entries = [
                        {"idempotency_key": uuid.uuid4().hex, "submission": birth_submission()}
                        for _ in range(size)
                    ]
                    response = client.post(
                        "/api/v1/submissions/batch", json={"submissions": entries}
                    )
                    ok = response.status_code == 200 and all(
                        r["outcome"] == "created" for r in response.json()["results"]
                    )
                else:
                    size = 1
                    response = client.post(
                        "/api/v1/submissions",
                        json=birth_submission(),
                        headers={"Idempotency-Key": uuid.uuid4().hex},
                    )
                    ok = response.status_code == 201
                mine.append(time.perf_counter() - began)
                if not ok:
                    raise RuntimeError(f"hall answered {response.status_code}: {response.text}")
                sent += size
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=kiosk, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kiosk", type=int, default=100)
    parser.add_argument("--levels", default="1,4,8")
    parser.add_argument("--batch", type=int, default=50, help="entries per batch request")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="bench-hall-"))
    db = f"sqlite:///{folder / 'hall.db'}"
    service = HallService(HallConfig(db_url=db))
    tokens = [service.add_kiosk(f"bench {i}", f"bench-{i}")[1] for i in range(max(levels))]
    service.close()
    process = subprocess.Popen(
        [sys.executable, "-m", "bootstrap.cli", "hall", "serve", "--port", "0", "--db", db],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        found = re.search(r"listening on (http://\S+)", process.stdout.readline())
        if found is None:
            print("the hall did not start", file=sys.stderr)
            return 1
        url = found.group(1)
        print(f"hall {url}, SQLite, {os.cpu_count()} CPUs, {args.per_kiosk} submissions per kiosk")
        print("latencies are per request (a batch request creates --batch submissions)")
        print(
            f"{'mode':>8} {'kiosks':>6} {'subs':>6} {'subs/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'max ms':>8}"
        )
        for mode, batch in (("single", 0), (f"batch{args.batch}", args.batch)):
            for level in levels:
                elapsed, latencies = run_level(url, tokens[:level], args.per_kiosk, batch)
                ordered = sorted(latencies)
                p95 = ordered[int(0.95 * (len(ordered) - 1))]
                subs = level * args.per_kiosk
                print(
                    f"{mode:>8} {level:>6} {subs:>6} {subs / elapsed:>8.1f} "
                    f"{statistics.median(ordered) * 1000:>8.1f} {p95 * 1000:>8.1f} "
                    f"{ordered[-1] * 1000:>8.1f}"
                )
    finally:
        process.terminate()
        process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
