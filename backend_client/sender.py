"""The sender: a background thread that empties the outbox into the service hall.

A round takes the oldest due message of each ordering key (so order holds within a key), delivers
them a few at a time over keep-alive connections, and records every outcome in one commit:

* acknowledged → deleted, with its files (e-copies) removed after the commit;
* the hall did not answer, or answered 5xx/408/429 (its "retry_later" is a 503 with
  Retry-After) → retried later with exponential backoff and
  jitter; the first such failure also stops the round and backs the whole sender off, so a hall
  outage costs one probe per backoff step rather than one timeout per queued message;
* rejected as invalid (other 4xx, 409 included), or an event the hall recorded as refused →
  parked with the hall's reason and an `OutboxParked` alert; an e-copy whose bytes the hall saw
  damaged is resent (the local file's checksum is checked before every upload, so damage on disk
  parks instead);
* 401 → nothing is counted against the message; sending pauses (health "fault") and the token is
  re-checked every `auth_retry_s` or when a technician sets a new one.

Submissions that are due together go in POST /submissions/batch requests (one result per
entry; a hall without that endpoint gets them one by one), kiosk events and receipt-by-SMS
requests in one POST /events batch. The hall deduplicates by
Idempotency-Key (submissions), by content (e-copies) and by event id (events), so a request that
reached the hall but whose answer was lost is simply sent again: at-least-once delivery plus the
hall's idempotency gives exactly-once.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kiosk.outbox import (
    Acknowledgement,
    MessageKind,
    Outbox,
    OutboxMessage,
    Outcome,
    Park,
    Retry,
    backoff_delay,
)
from kiosk.ports.hall import HallHealth, OutboxParked, SubmissionAcknowledged
from kiosk.ports.health import EventSink

from .client import MAX_SUBMISSIONS_PER_BATCH, HallClient
from .connectivity import ConnectivityMonitor
from .errors import (
    HallAuthRejected,
    HallClientError,
    HallProtocolError,
    HallRejected,
    HallUnavailable,
    HallUnreachable,
)

logger = logging.getLogger(__name__)

MAX_EVENTS_PER_BATCH = 200  # the hall's limit per POST /events
MIN_SUBMISSIONS_PER_BATCH = 8  # below this, more parallel requests gain less than one batch
# Messages that travel in POST /events batches.
EVENT_KINDS = frozenset({MessageKind.EVENT, MessageKind.RECEIPT_SMS})
CHECKSUM_MISMATCH = "checksum_mismatch"  # the hall's code for bytes damaged in transit


@dataclass(frozen=True)
class SenderSettings:
    batch_size: int = 200  # messages taken per round (one settle commit, one fsync, per round)
    concurrency: int = 4  # requests in flight at once (different ordering keys only)
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 300.0
    max_ecopy_bytes: int = 5 * 1024 * 1024
    auth_retry_s: float = 60.0  # how often a refused token is tried again
    idle_check_s: float = 30.0  # upper bound on sleeping when nothing seems due
    batch_submissions: bool = True  # POST /submissions/batch (False: one request per submission)


@dataclass(frozen=True)
class RoundReport:
    acknowledged: int = 0
    parked: int = 0
    retried: int = 0
    wait_s: float = 0.0  # how long the sender may sleep before the next useful round


@dataclass
class _JobResult:
    outcomes: list[Outcome] = field(default_factory=list)
    error: HallClientError | None = None  # a failure that concerns the hall, not the message
    answered: bool = False
    alerts: list[object] = field(default_factory=list)


def _ignore(event: object) -> None:
    del event


class OutboxSender:
    """Delivers the outbox: `start()` runs it in a thread, `deliver_round()` one round inline."""

    def __init__(
        self,
        outbox: Outbox,
        client_factory: Callable[[], HallClient],
        monitor: ConnectivityMonitor,
        *,
        events: EventSink = _ignore,
        settings: SenderSettings | None = None,
        random_fraction: Callable[[], float] = random.random,
    ) -> None:
        self._outbox = outbox
        self._client_factory = client_factory
        self._monitor = monitor
        self._events = events
        self._settings = settings or SenderSettings()
        self._random = random_fraction
        self._local = threading.local()
        self._clients: list[HallClient] = []
        self._clients_lock = threading.Lock()
        self._token: str | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0
        self._hall_retry_at = 0.0  # monotonic
        self._auth_probe_at: float | None = None  # monotonic; None = not paused
        # Until the hall answers the batch endpoint with 404/405 (a hall older than it).
        self._batch_supported = self._settings.batch_submissions
        outbox.subscribe(self.wake)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> OutboxSender:
        self._thread = threading.Thread(target=self._run, name="hall-outbox-sender", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()

    def wake(self) -> None:
        self._wake.set()

    def set_token(self, token: str) -> None:
        """A technician entered a new token: use it everywhere and stop the auth pause now."""
        with self._clients_lock:
            self._token = token
            for client in self._clients:
                client.set_token(token)
        self._auth_probe_at = time.monotonic()
        self.wake()

    def health(self) -> HallHealth:
        return self._monitor.health()

    @property
    def paused_for_auth(self) -> bool:
        return self._auth_probe_at is not None

    # -- the loop -----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                report = self.deliver_round()
            except Exception:  # the thread must outlive any bug; the log keeps the traceback
                logger.exception("the outbox sender failed a round; retrying shortly")
                report = RoundReport(wait_s=min(5.0, self._settings.idle_check_s))
            if report.wait_s > 0:
                self._wake.wait(report.wait_s)

    def deliver_round(self) -> RoundReport:
        now = time.monotonic()
        if self._auth_probe_at is not None:
            if now < self._auth_probe_at:
                return RoundReport(wait_s=self._auth_probe_at - now)
            if not self._probe_token():
                return RoundReport(wait_s=self._settings.auth_retry_s)
        if now < self._hall_retry_at:
            return RoundReport(wait_s=self._hall_retry_at - now)
        due = self._outbox.due(self._settings.batch_size)
        if not due:
            return RoundReport(wait_s=self._idle_wait())
        results = self._deliver_all(due)
        return self._finish_round(results)

    # -- one round ----------------------------------------------------------------------------

    def _deliver_all(self, due: Sequence[OutboxMessage]) -> list[_JobResult]:
        """One job per request: submissions and events go in batches, the rest one by one.

        `due` holds at most one message per ordering key, so batching them keeps every key's
        order; the jobs run `concurrency` at a time.
        """
        halt = threading.Event()
        events = [m for m in due if m.kind in EVENT_KINDS]
        submissions = [m for m in due if m.kind == MessageKind.SUBMISSION]
        work: list[Callable[[], _JobResult]] = [
            functools.partial(self._deliver_one, message)
            for message in due
            if message.kind not in EVENT_KINDS and message.kind != MessageKind.SUBMISSION
        ]
        for chunk in _chunks(submissions, self._submission_chunk_size(len(submissions))):
            work.append(functools.partial(self._deliver_submissions, chunk))
        for chunk in _chunks(events, MAX_EVENTS_PER_BATCH):
            work.append(functools.partial(self._deliver_events, chunk))
        jobs = [functools.partial(self._guarded, halt, job) for job in work]
        if self._settings.concurrency <= 1 or len(jobs) == 1:
            return [job() for job in jobs]
        executor = self._pool()
        futures: list[Future[_JobResult]] = [executor.submit(job) for job in jobs]
        return [future.result() for future in futures]

    def _submission_chunk_size(self, count: int) -> int:
        """Spread a round's submissions over the parallel requests, in batches the hall takes."""
        per_request = -(-count // max(1, self._settings.concurrency))
        return max(MIN_SUBMISSIONS_PER_BATCH, min(MAX_SUBMISSIONS_PER_BATCH, per_request))

    def _guarded(self, halt: threading.Event, job: Callable[[], _JobResult]) -> _JobResult:
        """Skip the job once the hall failed this round; stop the round on a hall failure."""
        if halt.is_set() or self._stopping.is_set():
            return _JobResult()
        result = job()
        if result.error is not None:
            halt.set()
        return result

    def _finish_round(self, results: Sequence[_JobResult]) -> RoundReport:
        outcomes = [outcome for result in results for outcome in result.outcomes]
        settled = self._outbox.settle(outcomes)
        by_key = {outcome.key: outcome for outcome in outcomes}
        for message in settled.acknowledged:
            self._after_acknowledged(message, by_key[message.key])
        for message in settled.parked:
            park = by_key[message.key]
            reason = park.reason if isinstance(park, Park) else ""
            logger.warning("parked %s %s: %s", message.kind, message.key, reason)
            self._events(OutboxParked(message.key, message.kind, message.ordering_key, reason))
        for result in results:
            for alert in result.alerts:
                self._events(alert)
        errors = [result.error for result in results if result.error is not None]
        if errors:
            self._hall_failed(_most_severe(errors))
        elif any(result.answered for result in results):
            self._failures = 0
            self._monitor.answered()
        self._monitor.publish()
        wait = 0.0
        if errors:
            wait = max(0.0, self._hall_retry_at - time.monotonic())
            if self._auth_probe_at is not None:
                wait = max(0.0, self._auth_probe_at - time.monotonic())
        return RoundReport(
            acknowledged=len(settled.acknowledged),
            parked=len(settled.parked),
            retried=len(settled.retried),
            wait_s=wait,
        )

    def _after_acknowledged(self, message: OutboxMessage, outcome: Outcome) -> None:
        for path in message.files:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
            except OSError as err:  # the hall has it; a leftover file is swept later
                logger.warning("could not delete %s after the hall acknowledged it: %s", path, err)
        if (
            message.kind == MessageKind.SUBMISSION
            and message.reference is not None
            and isinstance(outcome, Acknowledgement)
            and outcome.hall_id
        ):
            self._events(
                SubmissionAcknowledged(message.reference, outcome.hall_id, outcome.hall_label)
            )

    def _hall_failed(self, error: HallClientError) -> None:
        """Pause or back off first, then tell the monitor: whoever sees the state sees both."""
        if isinstance(error, HallAuthRejected):
            self._auth_probe_at = time.monotonic() + self._settings.auth_retry_s
        else:
            self._failures += 1
            delay = self._backoff(self._failures)
            if isinstance(error, HallUnavailable) and error.retry_after_s is not None:
                delay = max(delay, min(error.retry_after_s, self._settings.backoff_cap_s))
            self._hall_retry_at = time.monotonic() + delay
        self._monitor.failed(error)

    def _probe_token(self) -> bool:
        try:
            self._client().whoami()
        except HallAuthRejected as err:
            self._auth_probe_at = time.monotonic() + self._settings.auth_retry_s
            self._monitor.failed(err)
            return False
        except HallClientError as err:  # the hall is away: retry the token check after backoff
            self._auth_probe_at = time.monotonic() + self._backoff(1)
            self._monitor.failed(err)
            return False
        self._auth_probe_at = None
        self._monitor.answered()
        return True

    def _idle_wait(self) -> float:
        upcoming = self._outbox.next_attempt_at()
        if upcoming is None:
            return self._settings.idle_check_s
        seconds = (upcoming - datetime.now(UTC)).total_seconds()
        return min(self._settings.idle_check_s, max(0.05, seconds))

    # -- delivering one message ----------------------------------------------------------------

    def _deliver_one(self, message: OutboxMessage) -> _JobResult:
        try:
            if message.kind == MessageKind.SUBMISSION:
                answer = self._client().create_submission(message.key, message.payload)
                return _JobResult(
                    outcomes=[
                        Acknowledgement(
                            message.key,
                            _text(answer, "id"),
                            _text(answer, "tracking_number", required=False),
                        )
                    ],
                    answered=True,
                )
            if message.kind == MessageKind.ECOPY:
                return self._deliver_ecopy(message)
            return _JobResult(
                outcomes=[
                    Park(
                        message.key,
                        f"This software does not know how to send a '{message.kind}' message; "
                        "update the terminal software.",
                    )
                ]
            )
        except HallClientError as err:
            return self._failure([message], err)

    def _deliver_submissions(self, messages: Sequence[OutboxMessage]) -> _JobResult:
        """POST /submissions/batch; one by one for a single message or a hall without it."""
        if len(messages) == 1 or not self._batch_supported:
            return self._one_by_one(messages)
        try:
            results = self._client().create_submissions([(m.key, m.payload) for m in messages])
        except HallRejected as err:
            if err.status in (404, 405):  # a hall older than the batch endpoint
                logger.info("the hall has no POST /submissions/batch; sending one by one")
                self._batch_supported = False
            # Else one malformed entry spoiled the batch: one by one, so only that one parks.
            return self._one_by_one(messages)
        except HallClientError as err:
            return self._failure(messages, err)
        job = _JobResult(answered=True)
        for message, entry in zip(messages, results, strict=True):
            job.outcomes.append(self._submission_outcome(message, entry))
        return job

    def _submission_outcome(self, message: OutboxMessage, entry: Mapping[str, Any]) -> Outcome:
        outcome = entry.get("outcome")
        found = entry.get("error")
        error: Mapping[str, Any] = found if isinstance(found, dict) else {}
        said = f"HTTP {entry.get('status')}, {error.get('code') or 'no code'}"
        if outcome in ("created", "replayed"):
            submission = entry.get("submission")
            if isinstance(submission, dict) and submission.get("id"):
                return Acknowledgement(
                    message.key,
                    str(submission["id"]),
                    _text(submission, "tracking_number", required=False),
                )
        elif outcome == "retry_later":
            return Retry(
                message.key,
                f"The service hall could not store the submission now ({said}); "
                f"it will be retried: {error.get('message', '')}",
                self._backoff(message.attempts + 1),
            )
        elif outcome == "rejected":
            return Park(
                message.key,
                f"The service hall rejected the submission ({said}) ({error.get('message', '')})",
            )
        return Retry(
            message.key,
            f"The hall's batch answer for this submission is not understood ({outcome!r}); "
            "it will be sent again.",
            self._backoff(message.attempts + 1),
        )

    def _one_by_one(self, messages: Sequence[OutboxMessage]) -> _JobResult:
        """In order; the first failure that concerns the hall ends the job (the rest wait)."""
        job = _JobResult()
        for message in messages:
            single = self._deliver_one(message)
            job.outcomes.extend(single.outcomes)
            job.alerts.extend(single.alerts)
            job.answered = job.answered or single.answered
            if single.error is not None:
                job.error = single.error
                break
        return job

    def _deliver_ecopy(self, message: OutboxMessage) -> _JobResult:
        payload = message.payload
        submission_id = self._resolve(message, str(payload.get("submission_ref", "")))
        if isinstance(submission_id, _JobResult):
            return submission_id
        if not message.files:
            return _JobResult(outcomes=[Park(message.key, "The e-copy message names no file.")])
        path = message.files[0]
        try:
            size = os.path.getsize(path)
            if size > self._settings.max_ecopy_bytes:
                return _JobResult(
                    outcomes=[
                        Park(
                            message.key,
                            f"The e-copy {path} is {size} bytes, more than the "
                            f"{self._settings.max_ecopy_bytes} the hall accepts; rescan it.",
                        )
                    ]
                )
            with open(path, "rb") as file:
                data = file.read()
        except FileNotFoundError:
            return _JobResult(
                outcomes=[
                    Park(
                        message.key,
                        f"The e-copy file {path} is gone from the disk; the citizen's page must "
                        "be scanned again.",
                    )
                ]
            )
        except OSError as err:
            return _JobResult(
                outcomes=[
                    Retry(
                        message.key,
                        f"The e-copy file {path} cannot be read ({err.strerror}); check the disk.",
                        self._backoff(message.attempts + 1),
                    )
                ]
            )
        if hashlib.sha256(data).hexdigest() != str(payload["sha256"]):
            return _JobResult(
                outcomes=[
                    Park(
                        message.key,
                        f"The e-copy file {path} changed on disk since it was captured (its "
                        "checksum differs); check the disk, and scan the page again.",
                    )
                ]
            )
        try:
            answer = self._client().upload_ecopy(
                submission_id,
                data=data,
                filename=str(payload.get("filename") or os.path.basename(path)),
                content_type=str(payload["content_type"]),
                material_code=str(payload["material_code"]),
                sha256=str(payload["sha256"]),
                idempotency_key=message.key,
            )
        except HallRejected as err:
            if err.code != CHECKSUM_MISMATCH:
                raise
            # Our copy is intact (checked above), so the bytes were damaged on the way: resend.
            return _JobResult(
                outcomes=[Retry(message.key, str(err), self._backoff(message.attempts + 1))],
                answered=True,
            )
        return _JobResult(
            outcomes=[Acknowledgement(message.key, _text(answer, "id", required=False) or None)],
            answered=True,
        )

    def _deliver_events(self, messages: Sequence[OutboxMessage]) -> _JobResult:
        ready: list[tuple[OutboxMessage, dict[str, Any]]] = []
        result = _JobResult()
        for message in messages:
            event = _event_of(message)
            reference = message.payload.get("submission_ref")
            if reference is not None:
                resolved = self._resolve(message, str(reference))
                if isinstance(resolved, _JobResult):
                    result.outcomes.extend(resolved.outcomes)
                    continue
                event["submission_id"] = resolved
            ready.append((message, event))
        if not ready:
            return result
        try:
            answer = self._client().post_events([e for _, e in ready], ready[0][0].key)
        except HallRejected as err:
            if len(ready) == 1:
                result.outcomes.append(Park(ready[0][0].key, str(err)))
                result.answered = True
                return result
            # One bad event spoils the batch: send them one by one so only the bad one parks.
            for message, _ in ready:
                single = self._deliver_events([message])
                result.outcomes.extend(single.outcomes)
                result.alerts.extend(single.alerts)
                result.answered = result.answered or single.answered
                if single.error is not None:
                    result.error = single.error
                    break
            return result
        except HallClientError as err:
            failed = self._failure([m for m, _ in ready], err)
            failed.outcomes[:0] = result.outcomes
            return failed
        try:
            outcomes_by_id = _event_results(answer)
        except HallProtocolError as err:
            failed = self._failure([m for m, _ in ready], err)
            failed.outcomes[:0] = result.outcomes
            return failed
        result.answered = True
        for message, event in ready:
            verdict = outcomes_by_id.get(str(event["event_id"]))
            if verdict is None:
                result.outcomes.append(
                    Retry(
                        message.key,
                        "The hall's answer did not mention this event; it will be sent again.",
                        self._backoff(message.attempts + 1),
                    )
                )
                continue
            outcome, text = verdict
            if outcome == "applied":
                result.outcomes.append(Acknowledgement(message.key))
            else:  # recorded as refused: resending gets the same answer (docs/hall-api.md)
                result.outcomes.append(Park(message.key, f"The hall {outcome} this event: {text}"))
        return result

    def _resolve(self, message: OutboxMessage, reference: str) -> str | _JobResult:
        """The hall's id for a local submission reference, or what to do with the message."""
        hall_id = self._outbox.hall_id_for(reference)
        if hall_id is not None:
            return hall_id
        if self._outbox.is_pending(reference):
            return _JobResult(
                outcomes=[
                    Retry(
                        message.key,
                        f"Waiting for submission {reference} to reach the hall first.",
                        self._backoff(1),
                        count_attempt=False,
                    )
                ]
            )
        return _JobResult(
            outcomes=[
                Park(
                    message.key,
                    f"This message refers to submission {reference}, which the hall never "
                    "acknowledged; it cannot be delivered.",
                )
            ]
        )

    def _failure(self, messages: Sequence[OutboxMessage], err: HallClientError) -> _JobResult:
        if isinstance(err, HallRejected):
            return _JobResult(outcomes=[Park(m.key, str(err)) for m in messages], answered=True)
        if isinstance(err, HallAuthRejected):
            return _JobResult(
                outcomes=[Retry(m.key, str(err), 0.0, count_attempt=False) for m in messages],
                error=err,
            )
        retry_after = err.retry_after_s if isinstance(err, HallUnavailable) else None
        return _JobResult(
            outcomes=[
                Retry(
                    m.key,
                    str(err),
                    max(self._backoff(m.attempts + 1), retry_after or 0.0),
                )
                for m in messages
            ],
            error=err,
        )

    # -- helpers ------------------------------------------------------------------------------

    def _backoff(self, attempts: int) -> float:
        return backoff_delay(
            attempts, self._random(), self._settings.backoff_base_s, self._settings.backoff_cap_s
        )

    def _client(self) -> HallClient:
        client: HallClient | None = getattr(self._local, "client", None)
        if client is None:
            client = self._client_factory()
            with self._clients_lock:
                if self._token is not None:
                    client.set_token(self._token)
                self._clients.append(client)
            self._local.client = client
        return client

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._settings.concurrency, thread_name_prefix="hall-outbox"
            )
        return self._executor


def _chunks(messages: Sequence[OutboxMessage], size: int) -> list[Sequence[OutboxMessage]]:
    return [messages[start : start + size] for start in range(0, len(messages), size)]


def _event_of(message: OutboxMessage) -> dict[str, Any]:
    """The hall's event for an outbox message (its `submission_id` is filled in later)."""
    if message.kind == MessageKind.RECEIPT_SMS:
        return {
            "event_id": message.key,
            "type": "receipt_sms",
            "occurred_at": message.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "detail": str(message.payload.get("text", "")),
        }
    return {k: v for k, v in message.payload.items() if k != "submission_ref"}


def _most_severe(errors: Sequence[HallClientError]) -> HallClientError:
    for kind in (HallAuthRejected, HallUnreachable, HallUnavailable):
        for error in errors:
            if isinstance(error, kind):
                return error
    return errors[0]


def _text(answer: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = answer.get(name)
    if value is None:
        if required:
            raise HallProtocolError(f"The hall's answer lacks the field '{name}'.")
        return ""
    return str(value)


def _event_results(answer: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    results = answer.get("results")
    if not isinstance(results, list):
        raise HallProtocolError("The hall's answer to POST /events lacks 'results'.")
    found: dict[str, tuple[str, str]] = {}
    for item in results:
        if isinstance(item, dict) and "event_id" in item:
            found[str(item["event_id"])] = (
                str(item.get("outcome", "")),
                str(item.get("message", "")),
            )
    return found
