"""Tables of the hall. Portable SQL only (SQLite by default, PostgreSQL by URL).

Times are stored as naive UTC datetimes because SQLite keeps no zone; the API adds 'Z'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column


class Base(DeclarativeBase):
    pass


class HallState(Base):
    """One row of hall-wide state: the catalog version and the signing key."""

    __tablename__ = "hall_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    catalog_version: Mapped[int] = mapped_column(Integer, default=0)
    signing_key_pem: Mapped[str] = mapped_column(Text)
    roster_version: Mapped[int] = mapped_column(Integer, default=1)


class CatalogEntry(Base):
    """A department, item or topic; `version` is the catalog version that last changed it."""

    __tablename__ = "catalog_entries"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, index=True)
    removed: Mapped[bool] = mapped_column(default=False)


class Kiosk(Base):
    __tablename__ = "kiosks"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("kiosk_id", "idempotency_key"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(32), unique=True)
    kiosk_id: Mapped[str] = mapped_column(ForeignKey("kiosks.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), index=True)
    applicant_id_number: Mapped[str] = mapped_column(String(18), index=True)
    applicant_name: Mapped[str] = mapped_column(String(100))
    applicant_phone: Mapped[str] = mapped_column(String(20))
    item_ids: Mapped[list[str]] = mapped_column(JSON)
    topic_id: Mapped[str | None] = mapped_column(String(80))
    forms: Mapped[dict[str, Any]] = mapped_column(JSON)
    elicence_ids: Mapped[list[str]] = mapped_column(JSON)
    reused_ecopy_ids: Mapped[list[str]] = mapped_column(JSON)
    fee_fen: Mapped[int] = mapped_column(Integer)
    promised_working_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(10))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    deposit_compartment: Mapped[str | None] = mapped_column(String(40))
    # A village agent who submitted on the citizen's behalf (a village_agent of the roster).
    agent_card_id: Mapped[str | None] = mapped_column(String(64))
    agent_name: Mapped[str | None] = mapped_column(String(100))
    seal: Mapped[str | None] = mapped_column(String(64))  # the bag's seal, scanned at collection


class SubmissionEvent(Base):
    """Append-only history: every lifecycle step with its time and actor."""

    __tablename__ = "submission_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    step: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)


class ECopy(Base):
    __tablename__ = "ecopies"
    __table_args__ = (UniqueConstraint("submission_id", "material_code", "sha256"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    material_code: Mapped[str] = mapped_column(String(80))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    valid_until: Mapped[datetime]
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))


class KioskEvent(Base):
    """Every event a kiosk sent, kept with its outcome so a resend gets the same answer."""

    __tablename__ = "kiosk_events"
    kiosk_id: Mapped[str] = mapped_column(ForeignKey("kiosks.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    type: Mapped[str] = mapped_column(String(30))
    body_hash: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    submission_id: Mapped[str | None] = mapped_column(String(32), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)


class Courier(Base):
    __tablename__ = "couriers"
    card_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    pin_hash: Mapped[str] = mapped_column(String(200))
    kiosk_ids: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    # hex SHA-256 of the upper-case resident ID number: the courier's own ID card signs them in
    id_number_sha256: Mapped[str | None] = mapped_column(String(64))


class DeliveryTask(Base):
    __tablename__ = "delivery_tasks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), unique=True)
    kiosk_id: Mapped[str] = mapped_column(ForeignKey("kiosks.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    description_zh: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)
    # sha256("<task id>:<code>") of the code the terminal made at loading; "" until loaded.
    # (Halls before 1.2 also had pending_pickup_code, which is no longer written.)
    pickup_code_hash: Mapped[str] = mapped_column(String(64))
    compartment: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    pickup_deadline: Mapped[datetime | None]
    # sha256 of the terminal-signed QR text, so /p/{qr} shows only QR codes of real parcels
    pickup_qr_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    loaded_at: Mapped[datetime | None]
    # when the reminder SMS was queued, or when loading made it needless; set once, atomically
    reminder_queued_at: Mapped[datetime | None]


class ELicence(Base):
    __tablename__ = "elicences"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder_id_number: Mapped[str] = mapped_column(String(18), index=True)
    licence_type: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(60))
    title_zh: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(100))
    issuer: Mapped[str] = mapped_column(String(100))
    issued_on: Mapped[str] = mapped_column(String(10))
    valid_until: Mapped[str | None] = mapped_column(String(10))


class LookupLog(Base):
    __tablename__ = "lookup_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str] = mapped_column(ForeignKey("kiosks.id"), index=True)
    submission_id: Mapped[str | None] = mapped_column(String(32))
    purpose: Mapped[str | None] = mapped_column(String(80))
    id_number_masked: Mapped[str] = mapped_column(String(18))
    elicences_found: Mapped[int] = mapped_column(Integer)
    ecopies_found: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    phone_found: Mapped[bool | None] = mapped_column(default=None)  # None: logged before 1.1


class CitizenContact(Base):
    """The mobile number on file for an identity (the real platform's verified-phone registry),
    so the terminal can pre-fill it for the citizen to confirm instead of typing 11 digits."""

    __tablename__ = "citizen_contacts"
    id_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime]


class PaymentOrder(Base):
    __tablename__ = "payment_orders"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), unique=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    qr_payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    paid_via: Mapped[str | None] = mapped_column(String(120))


class SmsMessage(Base):
    __tablename__ = "sms_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(30))
    body: Mapped[str] = mapped_column(Text)
    submission_id: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    sender: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)


class KioskAlert(Base):
    """Door alarms and similar reports that need a person, shown on the statistics page."""

    __tablename__ = "kiosk_alerts"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str] = mapped_column(ForeignKey("kiosks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    compartment: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class StaffUser(Base):
    __tablename__ = "staff_users"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))


class StaffSession(Base):
    __tablename__ = "staff_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("staff_users.username"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


Index("ix_events_kiosk_received", KioskEvent.kiosk_id, KioskEvent.received_at)
