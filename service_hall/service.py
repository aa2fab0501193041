"""What the hall does, independent of HTTP: the API routes and the staff UI both call this.

Every method opens its own short transaction; lifecycle steps go through `lifecycle.next_status`
and leave a SubmissionEvent, so the history is complete whoever caused the step.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import catalog as catalog_mod
from .adapters import PaymentAdapter, RecordingSmsSender, SmsSender, SmsSendFailed, StaffMarksPaid
from .db import create_schema, make_engine, session_factory
from .errors import (
    Conflict,
    HallError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    RetryLater,
    UnsupportedMediaType,
)
from .lifecycle import FINAL_STATUSES, Status, Step, next_status
from .models import (
    CatalogEntry,
    CitizenContact,
    Courier,
    DeliveryTask,
    ECopy,
    ELicence,
    HallState,
    Kiosk,
    KioskAlert,
    KioskEvent,
    LookupLog,
    PaymentOrder,
    SmsMessage,
    StaffSession,
    StaffUser,
    Submission,
    SubmissionEvent,
)
from .notifications import SmsDispatcher
from .schemas import EventIn, SubmissionIn
from .secrets_hashing import (
    hash_secret,
    id_number_hash,
    new_kiosk_token,
    pickup_code_hash,
    token_hash,
    verify_secret,
)
from .signing import Signer
from .supervision import Supervision, add_working_days, supervision_colour
from .validation import check_form, is_mobile_phone, is_valid_id_number, is_valid_phone

Clock = Callable[[], datetime]
# One entry of a batch create: (the answer, created?) or the error the single create would raise.
CreateResult = tuple[dict[str, Any], bool] | HallError
utc = catalog_mod.utc_text

# Magic bytes per accepted type: the declared type must match what the bytes are.
MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
}
ROLES = ("courier", "village_agent")
SMS_SIGN = "【政务服务】"  # the sender's signature every government SMS starts with
CHINA_TIME = timezone(timedelta(hours=8), "CST")  # dates in SMS are the citizen's dates
# The terminal-signed pickup QR (docs/adr/0016): GZPK1.<parcel>.<code>.<expires unix>.<tag>.
# Only its shape is checked here; the terminal alone holds the key that makes the tag.
PICKUP_QR = re.compile(
    r"^GZPK1\.[A-Za-z0-9_-]{1,64}\.([0-9]{8})\.[1-9][0-9]{0,11}\.[A-Za-z0-9_-]{22}$"
)
PICKUP_CODE = re.compile(r"^[0-9]{8}$")
SEAL = re.compile(r"^[\x21-\x7e]{1,64}$")  # printable ASCII, no spaces: what a seal barcode holds
# Event fields added in 1.2. Left out of an event's idempotency hash while null, so an event
# recorded by an older hall, sent again after the upgrade, is still recognised as the same.
EVENT_FIELDS_1_2 = ("seal", "method", "pickup_code", "pickup_qr", "pickup_deadline")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class HallConfig:
    db_url: str = "sqlite:///hall.db"
    public_base_url: str = "http://127.0.0.1:8700"
    max_upload_bytes: int = 5 * 1024 * 1024
    allowed_content_types: tuple[str, ...] = tuple(MAGIC)
    ecopy_valid_days: int = 180
    roster_valid_hours: int = 72
    # The terminal sets each result's pickup deadline ([pickup] keep_days there); the hall
    # refuses one further out than this, which could only be a terminal's clock or config gone
    # wrong.
    max_pickup_days: int = 90
    reminder_before_h: float = 24.0  # the reminder SMS goes this long before the deadline
    reminder_check_s: float = 60.0  # how often the notifications thread looks for reminders due
    session_hours: int = 8
    # "background": a thread sends queued SMS after the request (kiosks never wait on the SMS
    # gateway); "inline": sent before the call returns (one-off scripts).
    sms_dispatch: Literal["background", "inline"] = "background"
    sms_retry_s: float = 30.0
    db_busy_timeout_s: float = 30.0  # SQLite: wait this long for another writer, then 503


@dataclass
class HallService:
    config: HallConfig
    clock: Clock = utc_now
    payments: PaymentAdapter | None = None
    sms_sender: SmsSender = field(default_factory=RecordingSmsSender)

    def __post_init__(self) -> None:
        self.engine: Engine = make_engine(
            self.config.db_url, busy_timeout_s=self.config.db_busy_timeout_s
        )
        create_schema(self.engine)
        self._sessions = session_factory(self.engine)
        self._sms_lock = threading.Lock()
        self._next_reminder_check = 0.0
        self._sms_dispatcher = SmsDispatcher(self._notify, retry_s=self.config.sms_retry_s)
        if self.payments is None:
            self.payments = StaffMarksPaid(self.config.public_base_url)
        with self.session() as session:
            state = session.get(HallState, 1)
            if state is None:
                signer = Signer.generate()
                state = HallState(
                    id=1,
                    catalog_version=0,
                    signing_key_pem=signer.private_pem().decode("ascii"),
                    roster_version=1,
                )
                session.add(state)
                catalog_mod.import_catalog(session, catalog_mod.packaged_catalog(), state)
            self.signer = Signer.from_pem(state.signing_key_pem.encode("ascii"))

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self._sms_dispatcher.stop()
        self.engine.dispose()

    # ---- kiosks -------------------------------------------------------------------------

    def add_kiosk(self, name: str, kiosk_id: str | None = None) -> tuple[str, str]:
        """Register a kiosk, or give an existing one a new token (the old one stops working)."""
        token = new_kiosk_token()
        kiosk_id = kiosk_id or f"kiosk-{secrets.token_hex(4)}"
        with self.session() as session:
            kiosk = session.get(Kiosk, kiosk_id)
            if kiosk is None:
                session.add(
                    Kiosk(
                        id=kiosk_id,
                        name=name,
                        token_hash=token_hash(token),
                        created_at=self.clock(),
                    )
                )
            else:
                kiosk.name, kiosk.token_hash, kiosk.active = name, token_hash(token), True
        return kiosk_id, token

    def authenticate(self, token: str) -> Kiosk:
        with self.session() as session:
            kiosk = session.scalar(select(Kiosk).where(Kiosk.token_hash == token_hash(token)))
            if kiosk is None or not kiosk.active:
                raise NotAuthenticated(
                    "The kiosk token is unknown or revoked; issue a new one with "
                    "'kiosk hall add-kiosk' and put it in the terminal's [hall] token setting."
                )
            return kiosk

    def kiosks(self) -> list[Kiosk]:
        with self.session() as session:
            return list(session.scalars(select(Kiosk).order_by(Kiosk.id)))

    # ---- catalog --------------------------------------------------------------------------

    def catalog_version(self) -> int:
        with self.session() as session:
            state = session.get(HallState, 1)
            assert state is not None
            return state.catalog_version

    def catalog(self, since: int) -> dict[str, Any]:
        with self.session() as session:
            state = session.get(HallState, 1)
            assert state is not None
            return catalog_mod.catalog_changes(session, since, state.catalog_version)

    def import_catalog(self, data: dict[str, Any]) -> int:
        with self.session() as session:
            state = session.get(HallState, 1)
            assert state is not None
            return catalog_mod.import_catalog(session, data, state)

    # ---- submissions ----------------------------------------------------------------------

    def create_submission(
        self, kiosk_id: str, idempotency_key: str, body: SubmissionIn
    ) -> tuple[dict[str, Any], bool]:
        """Returns (submission, created). The same key and body give back the same record."""
        [result] = self.create_submissions(kiosk_id, [(idempotency_key, body)])
        if isinstance(result, HallError):
            raise result
        return result

    def create_submissions(
        self, kiosk_id: str, entries: Sequence[tuple[str, SubmissionIn]]
    ) -> list[CreateResult]:
        """Create many submissions in one transaction; one result per entry, in order.

        Each entry has the single create's semantics (a replay answers the stored record, a
        reused key with another body is a conflict, a catalog rule broken is refused) and one
        entry's refusal does not affect the others: every check runs before anything of that
        entry is added. Only a concurrent request storing one of the same keys first can fail
        the shared transaction; then each entry is redone in its own, as a single create would.
        """
        prepared: list[tuple[str, SubmissionIn, str]] = []
        for key, body in entries:
            prepared.append((key, body, _request_hash(body)))
        now = self.clock()
        try:
            with self.session() as session:
                results = self._create_in(session, kiosk_id, prepared, now)
        except IntegrityError:
            results = []
            for entry in prepared:
                try:
                    with self.session() as session:
                        alone = self._create_in(session, kiosk_id, [entry], now)
                    results.extend(alone)
                except IntegrityError:
                    # It raced again with a request for the same key: the sender's retry will
                    # find the winner's record and answer it as a replay.
                    results.append(
                        RetryLater(
                            "Another request with this Idempotency-Key was being stored at the "
                            "same moment; send the same request again."
                        )
                    )
        if any(isinstance(r, tuple) and r[1] and r[0]["status"] != "draft" for r in results):
            self.sms_queued()
        return results

    def _create_in(
        self,
        session: Session,
        kiosk_id: str,
        entries: Sequence[tuple[str, SubmissionIn, str]],
        now: datetime,
    ) -> list[CreateResult]:
        keys = {key for key, _, _ in entries}
        stored = {
            row.idempotency_key: row
            for row in session.scalars(
                select(Submission).where(
                    Submission.kiosk_id == kiosk_id, Submission.idempotency_key.in_(keys)
                )
            )
        }
        made: dict[str, dict[str, Any]] = {}  # created in this batch: key -> answer
        results: list[CreateResult] = []
        new_rows: list[Submission] = []
        dependents: list[Any] = []  # rows that refer to new_rows: added after those are flushed
        catalog: dict[tuple[str, str], dict[str, Any] | None] = {}

        def live_entry(kind: str, entry_id: str) -> dict[str, Any] | None:
            if (kind, entry_id) not in catalog:
                catalog[(kind, entry_id)] = catalog_mod.live_entry(session, kind, entry_id)
            return catalog[(kind, entry_id)]

        for key, body, request_hash in entries:
            if not 1 <= len(key) <= 200:
                results.append(
                    InvalidInput("The Idempotency-Key must be 1 to 200 characters long.")
                )
                continue
            row = stored.get(key)
            if row is not None:
                if row.request_hash != request_hash:
                    results.append(
                        Conflict(
                            "This Idempotency-Key was already used for a different submission; "
                            "use a new key for a new submission.",
                            code="idempotency_key_reused",
                        )
                    )
                else:
                    answer = made.get(key) or self._submission_out(session, row)
                    results.append((answer, False))
                continue
            try:
                row, rows, answer = self._new_submission(
                    session, live_entry, kiosk_id, key, request_hash, body, now
                )
            except HallError as err:
                results.append(err)
                continue
            stored[key], made[key] = row, answer
            new_rows.append(row)
            dependents.extend(rows)
            results.append((answer, True))
        # Two multi-row INSERTs rather than a flush per entry; the unit of work does not order
        # inserts by foreign key, so the submissions go first.
        session.add_all(new_rows)
        session.flush()
        session.add_all(dependents)
        return results

    def _new_submission(
        self,
        session: Session,
        live_entry: Callable[[str, str], dict[str, Any] | None],
        kiosk_id: str,
        key: str,
        request_hash: str,
        body: SubmissionIn,
        now: datetime,
    ) -> tuple[Submission, list[Any], dict[str, Any]]:
        """The submission, the rows that refer to it, and the answer; adds nothing to `session`.

        Every check comes first, so a refused entry leaves nothing behind; the answer is built
        from the objects in hand, so a create costs no read-back queries.
        """
        applicant = body.applicant
        id_number = applicant.id_number.upper()
        if not is_valid_id_number(id_number):
            raise InvalidInput("applicant.id_number is not a valid 18-digit resident ID number.")
        if not is_valid_phone(applicant.phone):
            raise InvalidInput("applicant.phone must be a mainland mobile or landline number.")
        if len(set(body.item_ids)) != len(body.item_ids):
            raise InvalidInput("item_ids lists the same item twice.")
        items = []
        for item_id in body.item_ids:
            item = live_entry("item", item_id)
            if item is None:
                raise InvalidInput(
                    f"Service item '{item_id}' is not in the catalog; sync the catalog and retry."
                )
            items.append(item)
        if body.topic_id is not None:
            topic = live_entry("topic", body.topic_id)
            if topic is None:
                raise InvalidInput(f"Topic '{body.topic_id}' is not in the catalog.")
            outside = set(body.item_ids) - set(topic["items"])
            if outside:
                raise InvalidInput(
                    f"Items {sorted(outside)} do not belong to topic '{body.topic_id}'."
                )
        for item_id in body.forms:
            if item_id not in body.item_ids:
                raise InvalidInput(f"forms has values for '{item_id}', which is not submitted.")
        for item in items:
            check_form(item["form_fields"], body.forms.get(item["id"], {}), item["id"])
        for licence_id in body.elicence_ids:
            licence = session.get(ELicence, licence_id)
            if licence is None or licence.holder_id_number != id_number:
                raise InvalidInput(f"E-licence '{licence_id}' is not on file for this applicant.")
        for ecopy_id in body.reused_ecopy_ids:
            if self._reusable_ecopy(session, ecopy_id, id_number, now) is None:
                raise InvalidInput(f"E-copy '{ecopy_id}' is not a valid earlier e-copy of theirs.")
        self._check_agent(session, kiosk_id, body)
        submission_id = uuid.uuid4().hex
        fee = sum(int(item["fee_fen"]) for item in items)
        days = max(int(item["promised_working_days"]) for item in items)
        status = Status.DRAFT if body.draft else Status.SUBMITTED
        row = Submission(
            id=submission_id,
            tracking_number=f"{now:%Y%m%d}{secrets.randbelow(10**10):010d}",
            kiosk_id=kiosk_id,
            idempotency_key=key,
            request_hash=request_hash,
            status=status.value,
            applicant_id_number=id_number,
            applicant_name=applicant.name,
            applicant_phone=applicant.phone,
            item_ids=list(body.item_ids),
            topic_id=body.topic_id,
            forms=body.model_dump(mode="json")["forms"],
            elicence_ids=list(body.elicence_ids),
            reused_ecopy_ids=list(body.reused_ecopy_ids),
            fee_fen=fee,
            promised_working_days=days,
            created_at=now,
            submitted_at=None if body.draft else now,
            due_at=None if body.draft else add_working_days(now, days),
            finished_at=None,
            decision=None,
            decision_reason=None,
            deposit_compartment=None,
            agent_card_id=body.agent_card_id,
            agent_name=body.agent_name,
        )
        created = SubmissionEvent(
            submission_id=submission_id,
            step="created",
            from_status=None,
            to_status=status.value,
            actor=f"kiosk:{kiosk_id}",
            at=now,
            note=(
                None
                if body.agent_card_id is None
                else f"submitted by village agent {body.agent_name} ({body.agent_card_id})"
            ),
        )
        dependents: list[Any] = [created]
        order: PaymentOrder | None = None
        if fee > 0:
            order_id = uuid.uuid4().hex
            assert self.payments is not None
            description = " + ".join(item["name"]["zh"] for item in items if item["fee_fen"])
            order = PaymentOrder(
                id=order_id,
                submission_id=submission_id,
                amount_fen=fee,
                status="unpaid",
                qr_payload=self.payments.payment_link(order_id, fee, description),
                created_at=now,
                paid_at=None,
            )
            dependents.append(order)
        if not body.draft:
            dependents.append(self._submitted_sms(row))
        return row, dependents, self._submission_answer(row, [], [created], order)

    @staticmethod
    def _check_agent(session: Session, kiosk_id: str, body: SubmissionIn) -> None:
        """An agent on a submission must be a village agent this kiosk's roster lists.

        The terminal checked the agent's card and PIN against its signed copy of that roster;
        the hall checks again, so a submission never names an agent it did not authorise.
        """
        if body.agent_card_id is None and body.agent_name is None:
            return
        if body.agent_card_id is None or body.agent_name is None:
            raise InvalidInput(
                "A submission made by a village agent needs both agent_card_id and agent_name."
            )
        agent = session.get(Courier, body.agent_card_id)
        if (
            agent is None
            or not agent.active
            or (agent.kiosk_ids and kiosk_id not in agent.kiosk_ids)
        ):
            raise InvalidInput(
                f"Card '{body.agent_card_id}' is not on this kiosk's roster; the agent's card "
                "must be registered with 'kiosk hall add-courier --role village_agent'."
            )
        if agent.role != "village_agent":
            raise InvalidInput(
                f"Card '{body.agent_card_id}' belongs to a {agent.role}, not a village agent; "
                "only village agents may submit on a citizen's behalf."
            )

    def _queue_receipt_sms(
        self, session: Session, row: Submission, text: str, actor: str, at: datetime
    ) -> str:
        """The terminal could not print the receipt (no paper): the citizen gets it by SMS.

        Kept in the submission's history so staff can tell the citizen why there was no slip.
        """
        text = text.strip()
        if not text:
            raise InvalidInput("A 'receipt_sms' event needs the receipt text in 'detail'.")
        self._queue_sms(session, row, "receipt", text if text.startswith("【") else SMS_SIGN + text)
        session.add(
            SubmissionEvent(
                submission_id=row.id,
                step="receipt_sms",
                from_status=row.status,
                to_status=row.status,
                actor=actor,
                at=at,
                note="receipt sent by SMS: the terminal could not print it",
            )
        )
        phone = _mask_phone(row.applicant_phone)
        return f"The receipt of {row.tracking_number} is queued for SMS to {phone}."

    def _queue_submitted_sms(self, session: Session, row: Submission) -> None:
        session.add(self._submitted_sms(row))

    def _submitted_sms(self, row: Submission) -> SmsMessage:
        due = row.due_at.date().isoformat() if row.due_at else ""
        return self._sms(
            row,
            "submitted",
            f"{SMS_SIGN}您的办件已受理，受理编号{row.tracking_number}，承诺办结日期{due}。"
            "可凭编号在自助终端查询进度。",
        )

    def submit_draft(self, kiosk_id: str, submission_id: str) -> dict[str, Any]:
        now = self.clock()
        with self.session() as session:
            row = self._own(session, kiosk_id, submission_id)
            if row.status == Status.SUBMITTED.value:
                return self._submission_out(session, row)
            self._step(session, row, Step.SUBMITTED, f"kiosk:{kiosk_id}", now)
            row.submitted_at = now
            row.due_at = add_working_days(now, row.promised_working_days)
            self._queue_submitted_sms(session, row)
            out = self._submission_out(session, row)
        self.sms_queued()
        return out

    def _own(self, session: Session, kiosk_id: str, submission_id: str) -> Submission:
        row = session.get(Submission, submission_id)
        if row is None or row.kiosk_id != kiosk_id:
            raise NotFound(f"No submission '{submission_id}' was made at this kiosk.")
        return row

    def get_submission(self, kiosk_id: str, submission_id: str) -> dict[str, Any]:
        with self.session() as session:
            return self._submission_out(session, self._own(session, kiosk_id, submission_id))

    def list_submissions(
        self, kiosk_id: str, status: str | None, limit: int
    ) -> list[dict[str, Any]]:
        with self.session() as session:
            query = select(Submission).where(Submission.kiosk_id == kiosk_id)
            if status:
                query = query.where(Submission.status == status)
            rows = session.scalars(query.order_by(Submission.created_at.desc()).limit(limit))
            return [self._submission_out(session, row) for row in rows]

    def _submission_out(self, session: Session, row: Submission) -> dict[str, Any]:
        ecopies = session.scalars(
            select(ECopy).where(ECopy.submission_id == row.id).order_by(ECopy.created_at)
        )
        history = session.scalars(
            select(SubmissionEvent)
            .where(SubmissionEvent.submission_id == row.id)
            .order_by(SubmissionEvent.seq)
        )
        order = session.scalar(select(PaymentOrder).where(PaymentOrder.submission_id == row.id))
        return self._submission_answer(row, ecopies, history, order)

    def _submission_answer(
        self,
        row: Submission,
        ecopies: Iterable[ECopy],
        history: Iterable[SubmissionEvent],
        order: PaymentOrder | None,
    ) -> dict[str, Any]:
        phone = row.applicant_phone
        return {
            "id": row.id,
            "tracking_number": row.tracking_number,
            "kiosk_id": row.kiosk_id,
            "status": row.status,
            "item_ids": row.item_ids,
            "topic_id": row.topic_id,
            "applicant_name": row.applicant_name,
            "applicant_phone_masked": _mask_phone(phone),
            "fee_fen": row.fee_fen,
            "promised_working_days": row.promised_working_days,
            "created_at": utc(row.created_at),
            "submitted_at": utc(row.submitted_at),
            "due_at": utc(row.due_at),
            "decision_reason": row.decision_reason,
            "agent_card_id": row.agent_card_id,
            "agent_name": row.agent_name,
            "elicence_ids": row.elicence_ids,
            "reused_ecopy_ids": row.reused_ecopy_ids,
            "ecopies": [self._ecopy_out(e) for e in ecopies],
            "payment": None if order is None else self._payment_out(order),
            "history": [
                {
                    "step": h.step,
                    "from_status": h.from_status,
                    "to_status": h.to_status,
                    "actor": h.actor,
                    "at": utc(h.at),
                    "note": h.note,
                }
                for h in history
            ],
        }

    @staticmethod
    def _ecopy_out(ecopy: ECopy) -> dict[str, Any]:
        return {
            "id": ecopy.id,
            "submission_id": ecopy.submission_id,
            "material_code": ecopy.material_code,
            "filename": ecopy.filename,
            "content_type": ecopy.content_type,
            "size": ecopy.size,
            "sha256": ecopy.sha256,
            "created_at": utc(ecopy.created_at),
            "valid_until": utc(ecopy.valid_until),
        }

    @staticmethod
    def _payment_out(order: PaymentOrder) -> dict[str, Any]:
        return {
            "order_id": order.id,
            "submission_id": order.submission_id,
            "amount_fen": order.amount_fen,
            "status": order.status,
            "qr_payload": order.qr_payload,
            "created_at": utc(order.created_at),
            "paid_at": utc(order.paid_at),
        }

    def _step(
        self,
        session: Session,
        row: Submission,
        step: Step,
        actor: str,
        at: datetime,
        note: str | None = None,
    ) -> None:
        current = Status(row.status)
        new = next_status(current, step)
        row.status = new.value
        if new in FINAL_STATUSES:
            row.finished_at = at
        session.add(
            SubmissionEvent(
                submission_id=row.id,
                step=step.value,
                from_status=current.value,
                to_status=new.value,
                actor=actor,
                at=at,
                note=note,
            )
        )

    # ---- e-copies ---------------------------------------------------------------------------

    def add_ecopy(
        self,
        kiosk_id: str,
        submission_id: str,
        material_code: str,
        filename: str,
        content_type: str,
        data: bytes,
        declared_sha256: str,
    ) -> tuple[dict[str, Any], bool]:
        limit = self.config.max_upload_bytes
        if len(data) > limit:
            raise PayloadTooLarge(
                f"The e-copy is {len(data)} bytes; the hall accepts at most {limit} bytes — "
                "scan at a lower resolution or as JPEG."
            )
        if len(data) == 0:
            raise InvalidInput("The e-copy file is empty.")
        if content_type not in self.config.allowed_content_types:
            allowed = ", ".join(self.config.allowed_content_types)
            raise UnsupportedMediaType(f"E-copies must be one of {allowed}, not '{content_type}'.")
        if not data.startswith(MAGIC.get(content_type, (b"",))):
            raise UnsupportedMediaType(f"The file's content is not {content_type}.")
        actual = hashlib.sha256(data).hexdigest()
        if declared_sha256.lower() != actual:
            raise InvalidInput(
                "The e-copy's SHA-256 does not match the uploaded bytes; the file was damaged "
                "on the way — send it again.",
                code="checksum_mismatch",
            )
        now = self.clock()
        with self.session() as session:
            row = self._own(session, kiosk_id, submission_id)
            materials = {
                material["code"]
                for item_id in row.item_ids
                for material in (catalog_mod.live_entry(session, "item", item_id) or {}).get(
                    "materials", []
                )
            }
            if material_code not in materials:
                raise InvalidInput(
                    f"Material '{material_code}' is not asked for by this submission's items."
                )
            existing = session.scalar(
                select(ECopy).where(
                    ECopy.submission_id == submission_id,
                    ECopy.material_code == material_code,
                    ECopy.sha256 == actual,
                )
            )
            if existing is not None:
                return self._ecopy_out(existing), False
            if row.status not in (Status.DRAFT, Status.SUBMITTED, Status.DEPOSITED):
                raise Conflict(
                    f"E-copies can no longer be added: the submission is '{row.status}'."
                )
            ecopy = ECopy(
                id=uuid.uuid4().hex,
                submission_id=submission_id,
                material_code=material_code,
                filename=filename[:200] or "ecopy",
                content_type=content_type,
                size=len(data),
                sha256=actual,
                created_at=now,
                valid_until=now + timedelta(days=self.config.ecopy_valid_days),
                data=data,
            )
            session.add(ecopy)
            try:
                session.flush()
            except IntegrityError:
                raise RetryLater(
                    "The same e-copy was being uploaded twice at once; send it again and the "
                    "stored copy will be confirmed."
                ) from None
            return self._ecopy_out(ecopy), True

    def ecopy_content(self, ecopy_id: str) -> tuple[str, bytes]:
        """For staff only: the kiosk API never serves e-copies back."""
        with self.session() as session:
            ecopy = session.get(ECopy, ecopy_id)
            if ecopy is None:
                raise NotFound(f"No e-copy '{ecopy_id}'.")
            return ecopy.content_type, ecopy.data

    def _reusable_ecopy(
        self, session: Session, ecopy_id: str, id_number: str, now: datetime
    ) -> ECopy | None:
        ecopy = session.get(ECopy, ecopy_id)
        if ecopy is None or ecopy.valid_until < now:
            return None
        owner = session.get(Submission, ecopy.submission_id)
        if owner is None or owner.applicant_id_number != id_number:
            return None
        return ecopy

    # ---- e-licences -------------------------------------------------------------------------

    def lookup(
        self, kiosk_id: str, id_number: str, submission_id: str | None, purpose: str | None
    ) -> dict[str, Any]:
        id_number = id_number.upper()
        if not is_valid_id_number(id_number):
            raise InvalidInput("id_number is not a valid 18-digit resident ID number.")
        now = self.clock()
        with self.session() as session:
            if submission_id is not None:
                self._own(session, kiosk_id, submission_id)
            licences = list(
                session.scalars(
                    select(ELicence)
                    .where(ELicence.holder_id_number == id_number)
                    .order_by(ELicence.licence_type)
                )
            )
            ecopies = session.execute(
                select(ECopy, Submission.tracking_number)
                .join(Submission, Submission.id == ECopy.submission_id)
                .where(Submission.applicant_id_number == id_number, ECopy.valid_until >= now)
                .order_by(ECopy.created_at.desc())
            ).all()
            phone = self._phone_on_file(session, id_number)
            session.add(
                LookupLog(
                    kiosk_id=kiosk_id,
                    submission_id=submission_id,
                    purpose=purpose,
                    id_number_masked=id_number[:6] + "********" + id_number[-4:],
                    elicences_found=len(licences),
                    ecopies_found=len(ecopies),
                    phone_found=phone is not None,
                    at=now,
                )
            )
            return {
                "phone_on_file": phone,
                "elicences": [
                    {
                        "id": lic.id,
                        "licence_type": lic.licence_type,
                        "number": lic.number,
                        "title": {"zh": lic.title_zh, "en": lic.title_en},
                        "issuer": lic.issuer,
                        "issued_on": lic.issued_on,
                        "valid_until": lic.valid_until,
                    }
                    for lic in licences
                    if lic.valid_until is None or lic.valid_until >= now.date().isoformat()
                ],
                "reusable_ecopies": [
                    {
                        "id": e.id,
                        "material_code": e.material_code,
                        "filename": e.filename,
                        "content_type": e.content_type,
                        "size": e.size,
                        "sha256": e.sha256,
                        "tracking_number": tracking,
                        "created_at": utc(e.created_at),
                        "valid_until": utc(e.valid_until),
                    }
                    for e, tracking in ecopies
                ],
            }

    def _phone_on_file(self, session: Session, id_number: str) -> dict[str, Any] | None:
        """The registry's number; else the mobile this citizen gave with their latest submission.

        Only mobiles: the number is for SMS (the pickup code), and a landline cannot take one.
        """
        contact = session.get(CitizenContact, id_number)
        if contact is not None and is_mobile_phone(contact.phone):
            phone, source, updated = contact.phone, "registry", contact.updated_at
        else:
            latest = session.execute(
                select(Submission.applicant_phone, Submission.created_at)
                .where(Submission.applicant_id_number == id_number)
                .order_by(Submission.created_at.desc())
                .limit(10)
            ).all()
            found = next(((p, at) for p, at in latest if is_mobile_phone(p)), None)
            if found is None:
                return None
            phone, updated = found
            source = "earlier_submission"
        return {
            "phone": phone,
            "masked": _mask_phone(phone),
            "source": source,
            "updated_at": utc(updated),
        }

    def set_citizen_phone(self, id_number: str, phone: str) -> None:
        """Record the verified mobile of an identity (what a real platform's registry holds)."""
        id_number = id_number.upper()
        if not is_valid_id_number(id_number):
            raise InvalidInput("id_number is not a valid 18-digit resident ID number.")
        if not is_mobile_phone(phone):
            raise InvalidInput("The phone on file must be a mainland mobile number (11 digits).")
        with self.session() as session:
            contact = session.get(CitizenContact, id_number)
            if contact is None:
                session.add(
                    CitizenContact(id_number=id_number, phone=phone, updated_at=self.clock())
                )
            else:
                contact.phone, contact.updated_at = phone, self.clock()

    def lookup_log(self, limit: int = 100) -> list[LookupLog]:
        with self.session() as session:
            return list(
                session.scalars(select(LookupLog).order_by(LookupLog.seq.desc()).limit(limit))
            )

    def add_elicence(
        self,
        holder_id_number: str,
        licence_type: str,
        number: str,
        title: tuple[str, str],
        issuer: str,
        issued_on: str,
        valid_until: str | None = None,
    ) -> str:
        licence_id = f"el-{licence_type}-{hashlib.sha256(number.encode()).hexdigest()[:10]}"
        with self.session() as session:
            if session.get(ELicence, licence_id) is None:
                session.add(
                    ELicence(
                        id=licence_id,
                        holder_id_number=holder_id_number.upper(),
                        licence_type=licence_type,
                        number=number,
                        title_zh=title[0],
                        title_en=title[1],
                        issuer=issuer,
                        issued_on=issued_on,
                        valid_until=valid_until,
                    )
                )
        return licence_id

    # ---- events from kiosks ------------------------------------------------------------------

    def apply_events(self, kiosk_id: str, events: list[EventIn]) -> list[dict[str, Any]]:
        """Each event in its own transaction, in order: one bad event does not block the rest."""
        results = [self._apply_event(kiosk_id, event) for event in events]
        self.sms_queued()
        return results

    def _apply_event(self, kiosk_id: str, event: EventIn) -> dict[str, Any]:
        unset = {name for name in EVENT_FIELDS_1_2 if getattr(event, name) is None}
        payload = event.model_dump(mode="json", exclude=unset)
        body_hash = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        # The plain pickup code (also inside the QR) is used once, for the SMS, and never stored.
        for secret in ("pickup_code", "pickup_qr"):
            if payload.get(secret) is not None:
                payload[secret] = "(not stored)"
        with self.session() as session:
            seen = session.get(KioskEvent, (kiosk_id, event.event_id))
            if seen is not None:
                if seen.body_hash != body_hash:
                    return {
                        "event_id": event.event_id,
                        "outcome": "conflict",
                        "duplicate": True,
                        "message": "This event id was already used for a different event.",
                    }
                return {
                    "event_id": event.event_id,
                    "outcome": seen.outcome,
                    "duplicate": True,
                    "message": seen.message,
                }
        now = self.clock()
        occurred = event.occurred_at
        if occurred.tzinfo is not None:
            occurred = occurred.astimezone(UTC).replace(tzinfo=None)
        try:
            with self.session() as session:
                message = self._event_effect(session, kiosk_id, event, occurred)
                outcome = "applied"
        except (InvalidInput, NotFound, Conflict) as err:
            outcome, message = "rejected", err.message
        try:
            with self.session() as session:
                session.add(
                    KioskEvent(
                        kiosk_id=kiosk_id,
                        event_id=event.event_id,
                        type=event.type,
                        body_hash=body_hash,
                        occurred_at=occurred,
                        received_at=now,
                        submission_id=event.submission_id,
                        payload=payload,
                        outcome=outcome,
                        message=message,
                    )
                )
        except IntegrityError:
            # The same event arrived twice at once; the first one recorded its outcome.
            return self._apply_event(kiosk_id, event)
        return {
            "event_id": event.event_id,
            "outcome": outcome,
            "duplicate": False,
            "message": message,
        }

    def _event_effect(self, session: Session, kiosk_id: str, event: EventIn, at: datetime) -> str:
        actor = f"kiosk:{kiosk_id}"
        if event.courier_card_id:
            actor = f"courier:{event.courier_card_id}@kiosk:{kiosk_id}"
        _check_event_fields(event)
        if event.type == "door_alarm":
            session.add(
                KioskAlert(
                    kiosk_id=kiosk_id,
                    kind="door_alarm",
                    compartment=event.compartment,
                    detail=event.detail or "",
                    at=at,
                )
            )
            return "Door alarm recorded."
        if event.submission_id is None:
            raise InvalidInput(f"A '{event.type}' event needs a submission_id.")
        row = self._own(session, kiosk_id, event.submission_id)
        task = session.scalar(select(DeliveryTask).where(DeliveryTask.submission_id == row.id))
        note = f"compartment {event.compartment}" if event.compartment else None
        if event.type == "deposited":
            self._step(session, row, Step.DEPOSITED, actor, at, note)
            row.deposit_compartment = event.compartment
        elif event.type == "collected":
            if event.seal is not None:
                note = ", ".join(filter(None, [note, f"seal {event.seal}"]))
            self._step(session, row, Step.COLLECTED, actor, at, note)
            row.seal = event.seal
        elif event.type == "result_loaded":
            return self._result_loaded(session, row, task, event, actor, at, note)
        elif event.type == "receipt_sms":
            return self._queue_receipt_sms(session, row, event.detail or "", actor, at)
        elif event.type == "picked_up":
            if event.method is not None:
                note = ", ".join(filter(None, [note, f"by {event.method}"]))
            self._step(session, row, Step.PICKED_UP, actor, at, note)
            if task is not None:
                task.status = "picked_up"
        elif event.type == "pickup_not_taken":
            return self._pickup_not_taken(session, kiosk_id, row, task, event, actor, at)
        elif event.type == "returned":
            self._step(session, row, Step.RETURNED, actor, at, note)
            if task is not None:
                task.status = "returned"
            self._queue_sms(
                session,
                row,
                "returned",
                f"【政务服务】您的办件{row.tracking_number}的结果逾期未取，已退回政务服务中心，"
                "请凭身份证到中心窗口领取。",
            )
        return f"Submission {row.tracking_number} is now '{row.status}'."

    def _result_loaded(
        self,
        session: Session,
        row: Submission,
        task: DeliveryTask | None,
        event: EventIn,
        actor: str,
        at: datetime,
        note: str | None,
    ) -> str:
        """The terminal stored the result and made its pickup code: keep a hash, text the code."""
        if task is None or task.status != "pending" or row.status != Status.RESULT_READY:
            raise Conflict("There is no result waiting to be loaded for this submission.")
        code, qr, deadline = event.pickup_code, event.pickup_qr, event.pickup_deadline
        if code is None or deadline is None:
            raise InvalidInput(
                "A 'result_loaded' event needs pickup_code (the 8 digits the terminal made) and "
                "pickup_deadline; this terminal's software predates codes made on the terminal."
            )
        deadline = _naive_utc(deadline)
        if deadline <= at:
            raise InvalidInput("pickup_deadline lies before the result was loaded.")
        if deadline > at + timedelta(days=self.config.max_pickup_days):
            raise InvalidInput(
                f"pickup_deadline is more than {self.config.max_pickup_days} days after loading; "
                "check the terminal's clock and its [pickup] keep_days."
            )
        task.status, task.compartment = "loaded", event.compartment
        task.pickup_deadline, task.loaded_at = deadline, at
        task.pickup_code_hash = pickup_code_hash(task.id, code)
        task.pickup_qr_sha256 = None if qr is None else hashlib.sha256(qr.encode()).hexdigest()
        if deadline - timedelta(hours=self.config.reminder_before_h) <= at:
            # Already inside the reminder window: the code SMS itself is the reminder.
            task.reminder_queued_at = at
        session.add(
            SubmissionEvent(
                submission_id=row.id,
                step="result_loaded",
                from_status=row.status,
                to_status=row.status,
                actor=actor,
                at=at,
                note=note,
            )
        )
        local_deadline = deadline.replace(tzinfo=UTC).astimezone(CHINA_TIME)
        text = (
            f"{SMS_SIGN}您的办件{row.tracking_number}的办理结果已放入自助柜，取件码{code}，"
            f"请于{local_deadline:%Y-%m-%d %H:%M}前凭取件码、二维码或身份证领取。"
        )
        if qr is not None:
            text += f"二维码：{self.pickup_link(qr)}"
        self._queue_sms(session, row, "pickup_code", text)
        return f"Submission {row.tracking_number}: result loaded, pickup code SMS queued."

    def _pickup_not_taken(
        self,
        session: Session,
        kiosk_id: str,
        row: Submission,
        task: DeliveryTask | None,
        event: EventIn,
        actor: str,
        at: datetime,
    ) -> str:
        """The door opened for the citizen and closed with the result still inside, twice.

        Nothing changes hands: the result stays loaded (and can be collected again until its
        deadline); staff see the step in the history and an alert on the statistics page.
        """
        if task is None or task.status != "loaded" or row.status != Status.RESULT_READY:
            raise Conflict("No result of this submission is waiting in a compartment.")
        where = event.compartment or task.compartment or "?"
        note = f"compartment {where}: the door closed with the result still inside"
        if event.method is not None:
            note += f" (opened by {event.method})"
        session.add(
            SubmissionEvent(
                submission_id=row.id,
                step="pickup_not_taken",
                from_status=row.status,
                to_status=row.status,
                actor=actor,
                at=at,
                note=note,
            )
        )
        session.add(
            KioskAlert(
                kiosk_id=kiosk_id,
                kind="pickup_not_taken",
                compartment=where,
                detail=f"{row.tracking_number}: result not taken out after the door opened",
                at=at,
            )
        )
        return f"Submission {row.tracking_number}: recorded that the result was not taken."

    def pickup_link(self, pickup_qr: str) -> str:
        """Where the SMS sends the citizen's phone to show the QR at the terminal."""
        return f"{self.config.public_base_url.rstrip('/')}/p/{pickup_qr}"

    def pickup_code_matches(self, submission_id: str, code: str) -> bool:
        """For staff at the counter: is this the code texted for that submission's result?"""
        with self.session() as session:
            task = session.scalar(
                select(DeliveryTask).where(DeliveryTask.submission_id == submission_id)
            )
            if task is None or not task.pickup_code_hash:
                return False
            return hmac.compare_digest(task.pickup_code_hash, pickup_code_hash(task.id, code))

    def pickup_page(self, pickup_qr: str) -> dict[str, Any] | None:
        """What /p/{qr} shows; None for a QR the hall never texted (no QR for arbitrary text)."""
        if PICKUP_QR.fullmatch(pickup_qr) is None:
            return None
        digest = hashlib.sha256(pickup_qr.encode()).hexdigest()
        with self.session() as session:
            found = session.execute(
                select(DeliveryTask, Submission, Kiosk)
                .join(Submission, Submission.id == DeliveryTask.submission_id)
                .join(Kiosk, Kiosk.id == DeliveryTask.kiosk_id)
                .where(DeliveryTask.pickup_qr_sha256 == digest)
            ).first()
            if found is None:
                return None
            task, row, kiosk = found
            deadline = task.pickup_deadline
            return {
                "status": task.status,
                "tracking_number": row.tracking_number,
                "kiosk_name": kiosk.name,
                "compartment": task.compartment,
                "deadline": None
                if deadline is None
                else deadline.replace(tzinfo=UTC).astimezone(CHINA_TIME),
                "expired": deadline is not None and deadline <= self.clock(),
            }

    # ---- couriers and tasks --------------------------------------------------------------

    def add_courier(
        self,
        card_id: str,
        name: str,
        pin: str,
        role: str,
        kiosk_ids: list[str] | None = None,
        id_number: str | None = None,
    ) -> None:
        """Add a courier or village agent, or update one (a new PIN; an ID number if given).

        `id_number` lets them sign in with their own resident ID card: only its hash goes into
        the roster, the same hash a kiosk makes of a card it reads.
        """
        if role not in ROLES:
            raise InvalidInput(f"A courier's role is one of {', '.join(ROLES)}, not '{role}'.")
        if not pin.isdigit() or not 4 <= len(pin) <= 8:
            raise InvalidInput("A courier PIN is 4 to 8 digits.")
        id_hash = None if id_number is None else _courier_id_hash(id_number)
        with self.session() as session:
            if id_hash is not None:
                self._check_id_hash_free(session, card_id, id_hash)
            courier = session.get(Courier, card_id)
            if courier is None:
                session.add(
                    Courier(
                        card_id=card_id,
                        name=name,
                        role=role,
                        pin_hash=hash_secret(pin),
                        kiosk_ids=list(kiosk_ids or []),
                        id_number_sha256=id_hash,
                    )
                )
            else:
                courier.name, courier.role, courier.pin_hash = name, role, hash_secret(pin)
                courier.kiosk_ids, courier.active = list(kiosk_ids or []), True
                if id_hash is not None:
                    courier.id_number_sha256 = id_hash
            state = session.get(HallState, 1)
            assert state is not None
            state.roster_version += 1

    def set_courier_id_number(self, card_id: str, id_number: str) -> None:
        """Give an existing courier card sign-in by ID card; the roster changes only if it did."""
        id_hash = _courier_id_hash(id_number)
        with self.session() as session:
            courier = session.get(Courier, card_id)
            if courier is None:
                raise NotFound(
                    f"No courier card '{card_id}'; add it with 'kiosk hall add-courier'."
                )
            if courier.id_number_sha256 == id_hash:
                return
            self._check_id_hash_free(session, card_id, id_hash)
            courier.id_number_sha256 = id_hash
            state = session.get(HallState, 1)
            assert state is not None
            state.roster_version += 1

    @staticmethod
    def _check_id_hash_free(session: Session, card_id: str, id_hash: str) -> None:
        # One person, one courier card: a kiosk must know whose card an ID card signs in.
        other = session.scalar(
            select(Courier.card_id).where(
                Courier.id_number_sha256 == id_hash, Courier.card_id != card_id
            )
        )
        if other is not None:
            raise Conflict(
                f"This ID number already signs in courier card '{other}'; one person has one "
                "courier card."
            )

    def roster(self, kiosk_id: str) -> dict[str, Any]:
        now = self.clock().replace(microsecond=0)
        with self.session() as session:
            state = session.get(HallState, 1)
            assert state is not None
            couriers = [
                c
                for c in session.scalars(
                    select(Courier).where(Courier.active.is_(True)).order_by(Courier.card_id)
                )
                if not c.kiosk_ids or kiosk_id in c.kiosk_ids
            ]
            document = {
                "format": 1,
                "kiosk_id": kiosk_id,
                "version": state.roster_version,
                "issued_at": utc(now),
                "expires_at": utc(now + timedelta(hours=self.config.roster_valid_hours)),
                "key_id": self.signer.key_id,
                "couriers": [
                    {
                        "card_id": c.card_id,
                        "name": c.name,
                        "role": c.role,
                        "pin_hash": c.pin_hash,
                        "id_number_sha256": c.id_number_sha256,
                    }
                    for c in couriers
                ],
            }
        return {
            "roster": document,
            "algorithm": "Ed25519",
            "key_id": self.signer.key_id,
            "signature": self.signer.sign(document),
        }

    def has_courier(self, card_id: str) -> bool:
        with self.session() as session:
            return session.get(Courier, card_id) is not None

    def has_staff(self, username: str) -> bool:
        with self.session() as session:
            return session.get(StaffUser, username) is not None

    def verify_courier_pin(self, card_id: str, pin: str) -> bool:
        with self.session() as session:
            courier = session.get(Courier, card_id)
            return courier is not None and verify_secret(pin, courier.pin_hash)

    def tasks(self, kiosk_id: str) -> dict[str, Any]:
        now = self.clock()
        with self.session() as session:
            deposited = session.scalars(
                select(Submission)
                .where(Submission.kiosk_id == kiosk_id, Submission.status == Status.DEPOSITED)
                .order_by(Submission.created_at)
            )
            collections = []
            for row in deposited:
                when = session.scalar(
                    select(func.max(SubmissionEvent.at)).where(
                        SubmissionEvent.submission_id == row.id,
                        SubmissionEvent.step == Step.DEPOSITED.value,
                    )
                )
                collections.append(
                    {
                        "submission_id": row.id,
                        "tracking_number": row.tracking_number,
                        "compartment": row.deposit_compartment,
                        "deposited_at": utc(when),
                        "item_ids": row.item_ids,
                    }
                )
            rows = session.execute(
                select(DeliveryTask, Submission)
                .join(Submission, Submission.id == DeliveryTask.submission_id)
                .where(
                    DeliveryTask.kiosk_id == kiosk_id,
                    DeliveryTask.status.in_(("pending", "loaded")),
                )
                .order_by(DeliveryTask.created_at)
            ).all()
            deliveries, returns_due = [], []
            for task, row in rows:
                out = self._task_out(task, row)
                if task.status == "pending":
                    deliveries.append(out)
                elif task.pickup_deadline is not None and task.pickup_deadline < now:
                    returns_due.append(out)
        return {"collections": collections, "deliveries": deliveries, "returns_due": returns_due}

    @staticmethod
    def _task_out(task: DeliveryTask, row: Submission) -> dict[str, Any]:
        return {
            "task_id": task.id,
            "submission_id": row.id,
            "tracking_number": row.tracking_number,
            "status": task.status,
            "description": {"zh": task.description_zh, "en": task.description_en},
            "outcome": "rejected" if _was_rejected(row) else "approved",
            "applicant_id_number_sha256": id_number_hash(row.applicant_id_number),
            "compartment": task.compartment,
            "pickup_deadline": utc(task.pickup_deadline),
            "created_at": utc(task.created_at),
        }

    # ---- payments ---------------------------------------------------------------------------

    def payment(self, kiosk_id: str, submission_id: str) -> dict[str, Any]:
        with self.session() as session:
            self._own(session, kiosk_id, submission_id)
            order = session.scalar(
                select(PaymentOrder).where(PaymentOrder.submission_id == submission_id)
            )
            if order is None:
                raise NotFound("This submission has no fee, so there is no payment order.")
            return self._payment_out(order)

    def payment_order(self, order_id: str) -> PaymentOrder:
        with self.session() as session:
            order = session.get(PaymentOrder, order_id)
            if order is None:
                raise NotFound(f"No payment order '{order_id}'.")
            return order

    def mark_paid(self, submission_id: str, via: str) -> None:
        """What a payment adapter calls when the money has arrived; repeating it changes nothing."""
        with self.session() as session:
            order = session.scalar(
                select(PaymentOrder).where(PaymentOrder.submission_id == submission_id)
            )
            if order is None:
                raise NotFound("This submission has no payment order.")
            if order.status != "paid":
                order.status, order.paid_at, order.paid_via = "paid", self.clock(), via

    # ---- staff actions -------------------------------------------------------------------

    def staff_step(self, submission_id: str, step: Step, actor: str, reason: str = "") -> None:
        now = self.clock()
        reason = reason.strip()
        with self.session() as session:
            row = session.get(Submission, submission_id)
            if row is None:
                raise NotFound(f"No submission '{submission_id}'.")
            if step is Step.REJECTED and not reason:
                raise InvalidInput("A rejection needs a reason the citizen can act on.")
            self._step(session, row, step, actor, now, reason or None)
            if step in (Step.APPROVED, Step.REJECTED):
                row.decision_reason = reason or None
                row.decision = step.value
            if step is Step.RESULT_PRODUCED:
                self._create_delivery_task(session, row, now)
        self.sms_queued()

    def _create_delivery_task(self, session: Session, row: Submission, now: datetime) -> None:
        task_id = uuid.uuid4().hex
        names = [catalog_mod.live_entry(session, "item", i) or {} for i in row.item_ids]
        rejected = _was_rejected(row)
        zh = "、".join(n.get("name", {}).get("zh", "") for n in names)
        en = "; ".join(n.get("name", {}).get("en", "") for n in names)
        session.add(
            DeliveryTask(
                id=task_id,
                submission_id=row.id,
                kiosk_id=row.kiosk_id,
                status="pending",
                description_zh=("不予受理决定书及退回材料：" if rejected else "办理结果：") + zh,
                description_en=(
                    "Rejection notice and returned materials: " if rejected else "Result: "
                )
                + en,
                pickup_code_hash="",  # the terminal makes the code when it loads the result
                created_at=now,
            )
        )

    # ---- SMS ---------------------------------------------------------------------------

    def _queue_sms(self, session: Session, row: Submission, kind: str, body: str) -> None:
        session.add(self._sms(row, kind, body))

    def _sms(self, row: Submission, kind: str, body: str) -> SmsMessage:
        return SmsMessage(
            phone=row.applicant_phone,
            kind=kind,
            body=body,
            submission_id=row.id,
            status="queued",
            created_at=self.clock(),
            sent_at=None,
            sender=None,
            error=None,
        )

    def sms_queued(self) -> None:
        """Call after committing a transaction that queued SMS: they go out off the request."""
        if self.config.sms_dispatch == "inline":
            self.dispatch_sms()
        else:
            self._sms_dispatcher.wake()

    def dispatch_sms(self) -> int:
        """Hand up to one page of queued messages to the sender; returns how many went out.

        Serialised, so the dispatcher thread and a direct call never send one message twice.
        Messages the gateway refused before come last, so they cannot starve new ones.
        """
        sent = 0
        with self._sms_lock, self.session() as session:
            queued = list(
                session.scalars(
                    select(SmsMessage)
                    .where(SmsMessage.status == "queued")
                    .order_by(SmsMessage.error.is_not(None), SmsMessage.id)
                    .limit(100)
                )
            )
            for message in queued:
                try:
                    self.sms_sender.send(message.phone, message.body)
                except SmsSendFailed as err:
                    message.error = str(err)
                    continue
                message.status, message.sent_at = "sent", self.clock()
                message.sender = self.sms_sender.name
                sent += 1
        return sent

    def start_notifications(self) -> None:
        """Start the thread that sends queued SMS and queues reminders (a serving hall does)."""
        if self.config.sms_dispatch == "background":
            self._sms_dispatcher.wake()

    def _notify(self) -> int:
        """One round of the notifications thread: reminders when their check is due, then SMS."""
        if time.monotonic() >= self._next_reminder_check:
            self._next_reminder_check = time.monotonic() + self.config.reminder_check_s
            self.queue_pickup_reminders()
        return self.dispatch_sms()

    def queue_pickup_reminders(self) -> int:
        """Queue the reminder SMS of each loaded result whose deadline is near; how many.

        A result gets one reminder at most, whoever calls this and however often: the task is
        claimed by a conditional UPDATE in the same transaction as its SMS.
        """
        now = self.clock()
        window = timedelta(hours=self.config.reminder_before_h)
        queued = 0
        with self.session() as session:
            due = session.execute(
                select(DeliveryTask, Submission)
                .join(Submission, Submission.id == DeliveryTask.submission_id)
                .where(
                    DeliveryTask.status == "loaded",
                    DeliveryTask.reminder_queued_at.is_(None),
                    DeliveryTask.pickup_deadline > now,
                    DeliveryTask.pickup_deadline <= now + window,
                )
                .order_by(DeliveryTask.pickup_deadline)
            ).all()
            for task, row in due:
                claim = update(DeliveryTask).where(
                    DeliveryTask.id == task.id, DeliveryTask.reminder_queued_at.is_(None)
                )
                claimed = session.execute(
                    claim.values(reminder_queued_at=now).execution_options(
                        synchronize_session=False
                    )
                )
                if cast(CursorResult[Any], claimed).rowcount != 1:
                    continue
                assert task.pickup_deadline is not None
                deadline = task.pickup_deadline.replace(tzinfo=UTC).astimezone(CHINA_TIME)
                self._queue_sms(
                    session,
                    row,
                    "pickup_reminder",
                    f"{SMS_SIGN}提醒：您的办件{row.tracking_number}的办理结果仍在自助柜中，"
                    f"请于{deadline:%Y-%m-%d %H:%M}前凭取件码、二维码或身份证领取，"
                    "逾期将退回政务服务中心。",
                )
                queued += 1
        if queued:
            self.sms_queued()
        return queued

    def sms_outbox(self, limit: int = 200, since: int = 0) -> list[dict[str, Any]]:
        """Newest first; `since` leaves out messages up to that id (a cursor for pollers)."""
        with self.session() as session:
            rows = session.scalars(
                select(SmsMessage)
                .where(SmsMessage.id > since)
                .order_by(SmsMessage.id.desc())
                .limit(limit)
            )
            return [
                {
                    "id": m.id,
                    "phone": m.phone,
                    "kind": m.kind,
                    "body": m.body,
                    "submission_id": m.submission_id,
                    "status": m.status,
                    "created_at": utc(m.created_at),
                    "sent_at": utc(m.sent_at),
                    "sender": m.sender,
                }
                for m in rows
            ]

    # ---- staff accounts and sessions -----------------------------------------------------

    def add_staff(self, username: str, password: str, display_name: str = "") -> None:
        if len(password) < 8:
            raise InvalidInput("A staff password needs at least 8 characters.")
        with self.session() as session:
            user = session.get(StaffUser, username)
            if user is None:
                session.add(
                    StaffUser(
                        username=username,
                        display_name=display_name or username,
                        password_hash=hash_secret(password),
                    )
                )
            else:
                user.password_hash = hash_secret(password)

    def staff_login(self, username: str, password: str) -> tuple[str, str] | None:
        """Returns (session token, csrf token), or None for a wrong name or password."""
        with self.session() as session:
            user = session.get(StaffUser, username)
            if user is None or not verify_secret(password, user.password_hash):
                return None
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
            session.add(
                StaffSession(
                    token_hash=token_hash(token),
                    username=username,
                    csrf_token=csrf,
                    expires_at=self.clock() + timedelta(hours=self.config.session_hours),
                )
            )
            return token, csrf

    def staff_session(self, token: str) -> StaffSession | None:
        with self.session() as session:
            row = session.get(StaffSession, token_hash(token))
            if row is None or row.expires_at < self.clock():
                return None
            return row

    def staff_logout(self, token: str) -> None:
        with self.session() as session:
            row = session.get(StaffSession, token_hash(token))
            if row is not None:
                session.delete(row)

    # ---- staff views -------------------------------------------------------------------

    def queue(self, status: str | None = None, limit: int = 300) -> list[dict[str, Any]]:
        now = self.clock()
        with self.session() as session:
            query = select(Submission).where(Submission.status != Status.DRAFT.value)
            if status:
                query = query.where(Submission.status == status)
            rows = list(session.scalars(query.order_by(Submission.due_at).limit(limit)))
            names = {
                e.id: e.content["name"]["zh"]
                for e in session.scalars(select(CatalogEntry).where(CatalogEntry.kind == "item"))
            }
            out = []
            for row in rows:
                finished = Status(row.status) in FINAL_STATUSES or row.status in (
                    Status.RESULT_READY.value,
                )
                colour = (
                    supervision_colour(row.submitted_at, row.due_at, now, finished=finished)
                    if row.submitted_at and row.due_at
                    else Supervision.GREEN
                )
                out.append(
                    {
                        "id": row.id,
                        "tracking_number": row.tracking_number,
                        "kiosk_id": row.kiosk_id,
                        "status": row.status,
                        "items": [names.get(i, i) for i in row.item_ids],
                        "applicant_name": row.applicant_name,
                        "submitted_at": row.submitted_at,
                        "due_at": row.due_at,
                        "supervision": colour.value,
                        "fee_fen": row.fee_fen,
                        "agent_name": row.agent_name,
                        "agent_card_id": row.agent_card_id,
                    }
                )
            return out

    def staff_detail(self, submission_id: str) -> dict[str, Any]:
        with self.session() as session:
            row = session.get(Submission, submission_id)
            if row is None:
                raise NotFound(f"No submission '{submission_id}'.")
            out = self._submission_out(session, row)
            out["applicant_id_number_masked"] = (
                row.applicant_id_number[:6] + "********" + row.applicant_id_number[-4:]
            )
            out["applicant_phone"] = row.applicant_phone
            out["forms"] = row.forms
            out["seal"] = row.seal
            out["items"] = [
                catalog_mod.live_entry(session, "item", i) or {"id": i, "name": {"zh": i, "en": i}}
                for i in row.item_ids
            ]
            task = session.scalar(select(DeliveryTask).where(DeliveryTask.submission_id == row.id))
            out["task"] = None if task is None else self._task_out(task, row)
            if task is not None:
                out["task"]["reminder_queued_at"] = utc(task.reminder_queued_at)
            return out

    def stats(self, kiosk_id: str | None, days: int = 14) -> dict[str, Any]:
        now = self.clock()
        start = (now - timedelta(days=days - 1)).date()
        with self.session() as session:
            query = select(Submission).where(Submission.status != Status.DRAFT.value)
            if kiosk_id:
                query = query.where(Submission.kiosk_id == kiosk_id)
            rows = list(session.scalars(query))
            ids = [r.id for r in rows]
            paid = 0
            due = 0
            if ids:
                for order in session.scalars(
                    select(PaymentOrder).where(PaymentOrder.submission_id.in_(ids))
                ):
                    if order.status == "paid":
                        paid += order.amount_fen
                    else:
                        due += order.amount_fen
            alert_query = select(KioskAlert).order_by(KioskAlert.seq.desc()).limit(20)
            if kiosk_id:
                alert_query = alert_query.where(KioskAlert.kiosk_id == kiosk_id)
            alerts = [
                {
                    "kiosk_id": a.kiosk_id,
                    "compartment": a.compartment,
                    "detail": a.detail,
                    "at": a.at,
                }
                for a in session.scalars(alert_query)
            ]
        per_day: dict[date, int] = {start + timedelta(days=i): 0 for i in range(days)}
        for row in rows:
            day = row.created_at.date()
            if day in per_day:
                per_day[day] += 1
        picked = [r for r in rows if r.status == Status.PICKED_UP.value]
        turnaround = [
            (r.finished_at - r.submitted_at).total_seconds() / 3600
            for r in picked
            if r.finished_at and r.submitted_at
        ]
        return {
            "kiosk_id": kiosk_id,
            "per_day": sorted(per_day.items()),
            "total": len(rows),
            "pickups": len(picked),
            "returned": sum(1 for r in rows if r.status == Status.RETURNED.value),
            "median_turnaround_hours": statistics.median(turnaround) if turnaround else None,
            "fees_paid_fen": paid,
            "fees_due_fen": due,
            "alerts": alerts,
        }


def _mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


def _request_hash(body: SubmissionIn) -> str:
    """What "the same body" means for idempotency: the validated request, canonically ordered.

    Stored with every submission, so this exact form must never change (a replay after an
    upgrade would look like a reused key).
    """
    # Fields added later are left out while unset, so the hash of an older request is unchanged.
    unset = {name for name in ("agent_card_id", "agent_name") if getattr(body, name) is None}
    return hashlib.sha256(
        json.dumps(body.model_dump(mode="json", exclude=unset), sort_keys=True).encode()
    ).hexdigest()


def _was_rejected(row: Submission) -> bool:
    return row.decision == "rejected"


def _naive_utc(moment: datetime) -> datetime:
    """The hall stores naive UTC; a time without a zone from a kiosk is taken as UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _check_event_fields(event: EventIn) -> None:
    """Each 1.2 field belongs to one event type and has one form; anything else is refused
    (with a sentence, as a rejected event) rather than silently dropped."""
    owners = {
        "seal": ("collected",),
        "method": ("picked_up", "pickup_not_taken"),
        "pickup_code": ("result_loaded",),
        "pickup_qr": ("result_loaded",),
        "pickup_deadline": ("result_loaded",),
    }
    for name, types in owners.items():
        if getattr(event, name) is not None and event.type not in types:
            raise InvalidInput(
                f"'{name}' belongs to {' or '.join(types)} events, not '{event.type}'."
            )
    if event.seal is not None and SEAL.fullmatch(event.seal) is None:
        raise InvalidInput(
            "seal must be the seal barcode as scanned: 1 to 64 printable ASCII characters, "
            "no spaces."
        )
    if event.pickup_code is not None and PICKUP_CODE.fullmatch(event.pickup_code) is None:
        raise InvalidInput("pickup_code must be exactly 8 digits.")
    if event.pickup_qr is not None:
        shape = PICKUP_QR.fullmatch(event.pickup_qr)
        if shape is None:
            raise InvalidInput(
                "pickup_qr is not a terminal-signed pickup QR "
                "(GZPK1.<parcel>.<code>.<expires>.<signature>)."
            )
        if event.pickup_code is not None and shape.group(1) != event.pickup_code:
            raise InvalidInput("pickup_qr carries another code than pickup_code.")


def _courier_id_hash(id_number: str) -> str:
    id_number = id_number.strip().upper()
    if not is_valid_id_number(id_number):
        raise InvalidInput("The courier's id_number is not a valid 18-digit resident ID number.")
    return id_number_hash(id_number)
