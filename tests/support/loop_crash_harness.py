"""Kill the kiosk's core again and again in the collect, load and pickup flows; check what survives.

The parent (this module, in the test process) owns everything a crash must not take away: the
lock board and the physical world (`tests/support/loop_world.py`), the real hall on loopback,
and a clerk who plays the centre — it moves collected submissions through review to
`result_produced`, hands the result envelopes to the courier's bag and reads the pickup SMS into
the citizens' phones. The kiosk is `tests/support/loop_child.py`, a fork server whose lives are
SIGKILLed at seeded checkpoints or after a seeded random delay.

After every kill the parent runs the terminal's start-up (`CompartmentService.start_up`) on the
same files and checks door truth and parcel truth against the world (see `check_after_kill`);
at the end one life drains the outbox and `check_hall_agrees` compares the hall with the
terminal. The parent also carries what the lives cannot keep for each other: the calendar's days
ahead and the latest keypad lock a life reported, both passed to every next life. Every finding
says the seed and the kill number, so a failure can be replayed.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from kiosk.outbox import Outbox
from kiosk.storage import Database
from service_hall.lifecycle import Status, Step
from service_hall.models import DeliveryTask, KioskEvent, Submission
from service_hall.service import HallService
from service_hall.testing import RunningHall, running_hall
from tests.support.loop_world import RunningWorld, start_world

REPO_ROOT = Path(__file__).resolve().parents[2]
LIFE_DEADLINE_S = 20.0  # a life that reaches no kill point by then is killed from outside
MAX_KILL_AT = 80  # checkpoints per life: a few flows' worth
CLERK_PERIOD_S = 0.1
PAPERS_WAITING = 3
CALENDAR_JUMP_DAYS = 8  # past the terminal's 7 keeping days: every stored result falls overdue
CALENDAR_JUMP_CHANCE = 0.03  # per life: about six jumps in 200 lives, pickups in between
_CODE = re.compile(r"取件码(\d{8})")
_QR = re.compile(r"/p/(GZPK1\.[A-Za-z0-9_.-]+)")


@dataclass
class LoopReport:
    seed: int
    kills: int = 0
    self_kills: int = 0
    checks: int = 0  # lives that got through start-up and checked the invariants
    findings: list[str] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    flows: Counter[str] = field(default_factory=Counter)
    days_ahead: int = 0  # how far the lives' calendar ended ahead of the real one
    keypad_locks: int = 0  # distinct keypad locks the lives reported
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"seed {self.seed}: {self.kills} kills ({self.self_kills} at a seeded checkpoint), "
            f"{self.checks} checks, calendar {self.days_ahead} days ahead, "
            f"{self.keypad_locks} keypad locks, in "
            f"{self.seconds:.1f} s; hall saw {dict(self.flows)}"
        )


class Clerk(threading.Thread):
    """The centre's side: advances the hall and hands out envelopes and SMS codes."""

    def __init__(self, hall: RunningHall, world: RunningWorld, seed: int) -> None:
        super().__init__(name="loop-clerk", daemon=True)
        self.hall = hall
        self.world = world
        self.stop_event = threading.Event()
        self.failure: BaseException | None = None
        self._papers = 0
        self._seed = seed
        self._sms_seen = 0

    def run(self) -> None:
        try:
            while not self.stop_event.wait(CLERK_PERIOD_S):
                self.step()
        except BaseException as err:  # noqa: BLE001 - handed to the test thread
            self.failure = err

    def step(self) -> None:
        firmware = self.world.firmware
        while firmware.count_at("citizen") < PAPERS_WAITING:
            self._papers += 1
            firmware.add_item(f"materials:loop{self._seed}-{self._papers:04d}", "citizen")
        service = self.hall.service
        with service.session() as session:
            collected = list(
                session.scalars(select(Submission.id).where(Submission.status == Status.COLLECTED))
            )
        for submission_id in collected:
            for step in (Step.REVIEW_STARTED, Step.APPROVED, Step.RESULT_PRODUCED):
                service.staff_step(submission_id, step, "staff:loop-clerk")
        with service.session() as session:
            produced = list(
                session.execute(
                    select(Submission.tracking_number)
                    .join(DeliveryTask, DeliveryTask.submission_id == Submission.id)
                    .where(DeliveryTask.status == "pending")
                )
            )
        for (tracking,) in produced:
            firmware.add_item(f"result:{tracking}", "bag")
        for sms in reversed(service.sms_outbox(since=self._sms_seen)):
            self._sms_seen = max(self._sms_seen, int(sms["id"]))
            code, qr = _CODE.search(sms["body"]), _QR.search(sms["body"])
            if sms["kind"] == "pickup_code" and code and qr:
                tracking = _tracking_of(service, str(sms["submission_id"]))
                firmware.learn_phone(tracking, code.group(1), qr.group(1))


def _tracking_of(service: HallService, submission_id: str) -> str:
    with service.session() as session:
        row = session.get(Submission, submission_id)
        assert row is not None, f"the hall texted about submission {submission_id} it lacks"
        return str(row.tracking_number)


class ForkServer:
    """The kiosk fork server (loop_child) and the lines it prints."""

    def __init__(self, folder: Path, world: RunningWorld, hall: RunningHall) -> None:
        environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.loop_child",
                str(folder),
                world.url,
                str(world.control.port),
                hall.url,
                hall.token,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=environment,
            cwd=REPO_ROOT,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.anomalies: list[str] = []
        self.checks = 0
        self.keypad_locked_until = 0.0  # the latest lock a life saw committed (epoch seconds)
        self.keypad_locks = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("anomaly"):
                self.anomalies.append(line.strip())
            elif line.startswith("checked"):
                self.checks += 1
            elif line.startswith("keypad-locked"):
                until = float(line.split()[1])
                self.keypad_locks += until > self.keypad_locked_until
                self.keypad_locked_until = max(self.keypad_locked_until, until)
            else:
                self.lines.put(line.strip())
        self.lines.put("eof")

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def expect(self, prefix: str | tuple[str, ...], timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the kiosk fork server did not say {prefix!r} in time")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line == "eof":
                raise RuntimeError("the kiosk fork server died")
            if line.startswith(prefix):
                return line

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.send("quit")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- the checks -----------------------------------------------------------------------------------


def check_hall_agrees(folder: Path, hall: RunningHall) -> list[str]:
    """After the outbox drained: every parcel's story is the hall's story."""
    database = Database.open(folder / "terminal.sqlite3")
    findings = []
    try:
        outbox = Outbox(database)
        for message in outbox.messages(parked_only=True):
            findings.append(f"outbox message parked: {message.parked_reason}")
        with database.snapshot() as view:
            rows = view.fetch_all(
                "SELECT kind, submission_id, tracking_number, status FROM parcels"
            )
        with hall.service.session() as session:
            submissions = {s.id: s for s in session.scalars(select(Submission))}
            tasks = {t.submission_id: t for t in session.scalars(select(DeliveryTask))}
            terminal_results: Counter[str] = Counter()
            for kind, submission_ref, tracking, status in rows:
                if kind == "materials":
                    hall_id = outbox.hall_id_for(str(submission_ref))
                    row = submissions.get(hall_id or "")
                    if row is None:
                        findings.append(f"materials of {submission_ref} are unknown to the hall")
                        continue
                    wanted = {"stored": {Status.DEPOSITED}}.get(
                        str(status),
                        {Status.COLLECTED, Status.IN_REVIEW, Status.APPROVED, Status.RESULT_READY},
                    )
                    if str(status) == "collected" and tasks.get(row.id) is not None:
                        wanted = {Status.RESULT_READY, Status.PICKED_UP, Status.RETURNED}
                    if row.status not in wanted:
                        findings.append(
                            f"terminal: materials of {submission_ref} {status}; hall: {row.status}"
                        )
                else:
                    terminal_results[str(submission_ref)] += 1
                    task = tasks.get(str(submission_ref))
                    hall_row = submissions.get(str(submission_ref))
                    expected = {
                        "stored": ("loaded", Status.RESULT_READY),
                        "returned": ("returned", Status.RETURNED),
                    }.get(str(status), ("picked_up", Status.PICKED_UP))
                    seen = (task.status if task else None, hall_row.status if hall_row else None)
                    if seen != expected:
                        findings.append(
                            f"terminal: result {tracking} {status}; hall: task {seen[0]}, "
                            f"submission {seen[1]}"
                        )
            for submission_id, task in tasks.items():
                if task.status != "pending" and not terminal_results[submission_id]:
                    findings.append(
                        f"hall: result of {submission_id} {task.status}; terminal: none"
                    )
            deposited = {outbox.hall_id_for(str(r[1])) for r in rows if r[0] == "materials"}
            for submission_id, row in submissions.items():
                if row.status == Status.DEPOSITED and submission_id not in deposited:
                    findings.append(f"hall: {submission_id} deposited; terminal: no parcel")
    finally:
        database.close()
    return findings


def hall_flows(hall: RunningHall) -> Counter[str]:
    """Submissions by status; envelopes citizens left inside; pickups by ID card."""
    with hall.service.session() as session:
        flows = Counter(str(s.status) for s in session.scalars(select(Submission)))
        for event in session.scalars(select(KioskEvent)):
            if event.type == "pickup_not_taken":
                flows["not_taken_events"] += 1
            elif event.type == "picked_up" and event.payload.get("method") == "id_card":
                flows["picked_up_by_id_card"] += 1
        return flows


# -- the run --------------------------------------------------------------------------------------


@contextlib.contextmanager
def loop_rig(folder: Path) -> Iterator[tuple[RunningWorld, RunningHall]]:
    world = start_world()
    try:
        with running_hall(folder) as hall:
            yield world, hall
    finally:
        world.stop()


def run_loop_crash(folder: Path, seed: int, points: int) -> LoopReport:
    """`points` lives, each ended by SIGKILL; findings are collected, not raised."""
    rng = random.Random(seed)
    report = LoopReport(seed)
    started = time.monotonic()
    with loop_rig(folder) as (world, hall):
        clerk = Clerk(hall, world, seed)
        clerk.start()
        server = ForkServer(folder, world, hall)
        try:
            for kill in range(1, points + 1):
                kill_at = rng.randint(1, MAX_KILL_AT) if rng.random() < 0.75 else 0
                if rng.random() < CALENDAR_JUMP_CHANCE:
                    report.days_ahead += CALENDAR_JUMP_DAYS
                seed_of_life = rng.randrange(2**32)
                server.send(
                    f"run {seed_of_life} {kill_at} {kill - 1} {report.days_ahead} "
                    f"{server.keypad_locked_until}"
                )
                pid = int(server.expect("started", 30).split()[1])
                if kill_at == 0:
                    server.expect("ready", LIFE_DEADLINE_S)
                    threading.Event().wait(rng.uniform(0.0, 0.4))  # a random moment to die
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                try:
                    ended = server.expect(f"ended {pid}", LIFE_DEADLINE_S)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                    ended = server.expect(f"ended {pid}", 10)
                status = int(ended.split()[2])
                if status != -signal.SIGKILL:
                    report.findings.append(f"kill {kill}: the kiosk ended by itself ({status})")
                report.kills += 1
                report.self_kills += kill_at > 0
                if clerk.failure is not None:
                    raise clerk.failure
            clerk.stop_event.set()
            clerk.join(timeout=10)
            server.send(f"drain {points} {report.days_ahead}")
            server.expect("started", 30)
            drained = server.expect(("drained", "not drained"), 90)
            server.expect("ended", 30)
            if drained != "drained":
                report.findings.append("the outbox did not drain to the hall")
            report.findings += [f"hall (seed {seed}): {f}" for f in check_hall_agrees(folder, hall)]
            report.flows = hall_flows(hall)
        finally:
            clerk.stop_event.set()
            server.close()
        report.anomalies = list(server.anomalies)
        report.checks = server.checks
        report.keypad_locks = server.keypad_locks
    report.seconds = time.monotonic() - started
    return report
