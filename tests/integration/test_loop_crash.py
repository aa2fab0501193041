"""SIGKILL the kiosk's core at hundreds of points of the collect, load and pickup flows (by
code, QR or ID card; an envelope taken or left inside) and of courier returns of results left
past their keeping time (the lives' calendar jumps ahead now and then); made-up codes lock the
keypad, and the lock must outlive the kills.

Nothing may be lost, duplicated or opened without a record, and once the outbox drains the hall
must tell the same story as the terminal. The harness and what it checks are described in
tests/support/loop_crash_harness.py; `LOOP_CRASH_POINTS` (default 200) sets the number of kills,
`LOOP_CRASH_SEED` replays a run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.loop_crash_harness import run_loop_crash

POINTS = int(os.environ.get("LOOP_CRASH_POINTS", "200"))
SEED = int(os.environ.get("LOOP_CRASH_SEED", "9"))


@pytest.mark.timeout(600)
def test_no_parcel_lost_duplicated_or_opened_unrecorded_across_kills(tmp_path: Path) -> None:
    report = run_loop_crash(tmp_path, SEED, POINTS)
    print(report.summary())
    assert report.kills == POINTS
    assert not report.findings, f"seed {SEED} (LOOP_CRASH_SEED={SEED} replays it):\n" + "\n".join(
        report.findings[:40] + report.anomalies[:20]  # a life's own failure is told as an anomaly
    )
    assert not report.anomalies, f"seed {SEED}:\n" + "\n".join(report.anomalies[:40])
    # the run must actually have gone round the loop, or it proved nothing
    assert report.flows["picked_up"] > 0, report.summary()
    # how many were left inside or taken with the ID card is in the summary, not asserted: the
    # number of pickups a run reaches depends on the machine's speed (18-54 seen), and a gate on
    # a random share of them would fail now and then on a slow machine
