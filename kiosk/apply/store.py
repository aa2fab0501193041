"""Where a submitted application is kept: the terminal's database and the outbox, together.

The citizen is told "submitted" when `commit` returns. By then the local record and the messages
for the hall (the submission itself and one message per photographed page) are committed in one
transaction, so the hall gets exactly what the screen confirmed — even if the hall is offline now
or the terminal loses power a second later. The deposit follows the same rule: the compartment
becoming occupied (the caller's `inside` hook), the record's new status and the "deposited" event
for the hall commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kiosk.outbox import Outbox
from kiosk.storage import Database

from .effects import SubmissionDraft
from .ports import Reservation


class SubmissionStoreError(Exception):
    """A submission could not be recorded; the message says what a technician can check."""


@dataclass(frozen=True)
class StoredSubmission:
    reference: str
    status: str
    item_ids: tuple[str, ...]
    applicant_masked: str
    paper_materials: tuple[str, ...]
    ecopy_count: int
    fee_fen: int
    payment_choice: str
    promised_date: str
    compartment: int | None
    compartment_label: str | None
    deposit_verified: bool | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_CONTENT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


class SubmissionStore:
    def __init__(
        self, database: Database, outbox: Outbox, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self._database = database
        self._outbox = outbox
        self._clock = clock

    def commit(self, draft: SubmissionDraft) -> None:
        """The local record, the hall's submission message and its e-copies, in one commit."""
        pages = []
        for page in draft.pages:  # hash before the transaction: no file I/O under the lock
            path = Path(page.jpeg_path)
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as err:
                raise SubmissionStoreError(
                    f"The photographed page {path} cannot be read ({err.strerror}); check the "
                    "pages folder's disk and permissions."
                ) from err
            pages.append((page, digest, _CONTENT_TYPES.get(path.suffix.lower(), "image/jpeg")))
        body = {
            "item_ids": list(draft.item_ids),
            "topic_id": draft.topic_id,
            "applicant": {
                "id_number": draft.applicant.id_number,
                "name": draft.applicant.name,
                "phone": draft.phone,
            },
            "forms": draft.forms,
            "elicence_ids": list(draft.elicence_ids),
            **(
                {"agent_card_id": draft.agent.card_id, "agent_name": draft.agent.name}
                if draft.agent is not None
                else {}
            ),
            "reused_ecopy_ids": [],
            "draft": False,
        }
        with self._database.transaction() as tx:
            tx.execute(
                "INSERT INTO submissions (reference, status, item_ids, topic_id, "
                "applicant_masked, paper_materials, ecopy_count, elicence_count, fee_fen, "
                "payment_choice, promised_date, submitted_at_ms) "
                "VALUES (?, 'submitted', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    draft.reference,
                    json.dumps(list(draft.item_ids)),
                    draft.topic_id,
                    draft.applicant.masked,
                    json.dumps(list(draft.paper_materials)),
                    len(draft.pages),
                    len(draft.elicence_ids),
                    draft.fee_fen,
                    draft.payment_choice,
                    draft.promised_date.isoformat(),
                    _ms(draft.created_at),
                ),
            )
            self._outbox.enqueue_submission(draft.reference, body)
            for page, digest, content_type in pages:
                self._outbox.enqueue_ecopy(
                    draft.reference,
                    page.jpeg_path,
                    material_code=page.material_code,
                    content_type=content_type,
                    sha256=digest,
                    filename=f"{page.material_code}-{page.page_number}{Path(page.jpeg_path).suffix}",
                )

    def record_deposit(
        self,
        reference: str,
        reservation: Reservation,
        *,
        verified_by_sensor: bool,
        inside: Callable[[], None] | None = None,
    ) -> None:
        """Mark the parcel deposited and tell the hall; `inside` joins the same transaction
        (the compartment service's `confirm_deposit`)."""
        now = self._clock()
        with self._database.transaction() as tx:
            result = tx.execute(
                "UPDATE submissions SET status = 'deposited', compartment = ?, "
                "compartment_label = ?, deposited_at_ms = ?, deposit_verified = ? "
                "WHERE reference = ? AND status = 'submitted'",
                (
                    reservation.compartment,
                    reservation.label,
                    _ms(now),
                    1 if verified_by_sensor else 0,
                    reference,
                ),
            )
            if result.row_count != 1:
                raise SubmissionStoreError(
                    f"Submission {reference} is not waiting for a deposit (unknown or already "
                    "deposited); nothing was changed."
                )
            if inside is not None:
                inside()
            self._outbox.enqueue_event(
                {
                    "event_id": f"deposited-{reference}",
                    "type": "deposited",
                    "occurred_at": _iso(now),
                    "compartment": reservation.label,
                    "courier_card_id": None,
                    "detail": None if verified_by_sensor else "not confirmed by an item sensor",
                },
                submission_reference=reference,
            )

    def get(self, reference: str) -> StoredSubmission | None:
        with self._database.snapshot() as reader:
            row = reader.fetch_one(
                "SELECT reference, status, item_ids, applicant_masked, paper_materials, "
                "ecopy_count, fee_fen, payment_choice, promised_date, compartment, "
                "compartment_label, deposit_verified FROM submissions WHERE reference = ?",
                (reference,),
            )
        if row is None:
            return None
        return StoredSubmission(
            reference=str(row[0]),
            status=str(row[1]),
            item_ids=tuple(json.loads(row[2])),
            applicant_masked=str(row[3]),
            paper_materials=tuple(json.loads(row[4])),
            ecopy_count=int(row[5]),
            fee_fen=int(row[6]),
            payment_choice=str(row[7]),
            promised_date=str(row[8]),
            compartment=None if row[9] is None else int(row[9]),
            compartment_label=None if row[10] is None else str(row[10]),
            deposit_verified=None if row[11] is None else bool(row[11]),
        )
