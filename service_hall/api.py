"""The kiosk-facing JSON API (/api/v1). Thin: parse, authenticate, call the service, shape.

Every route except health and the public key needs `Authorization: Bearer <kiosk token>`, and
every lookup is scoped to the calling kiosk, so one kiosk never sees another's submissions.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .catalog import utc_text
from .errors import HallError, NotAuthenticated, RetryLater
from .schemas import (
    CatalogOut,
    ECopyOut,
    ErrorBody,
    EventBatchIn,
    EventBatchOut,
    HealthOut,
    KioskOut,
    LookupIn,
    LookupOut,
    PaymentOut,
    PublicKeyOut,
    SignedRosterOut,
    SubmissionBatchIn,
    SubmissionBatchOut,
    SubmissionIn,
    SubmissionListOut,
    SubmissionOut,
    TasksOut,
)
from .service import HallService

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="KioskToken",
    description="One token per kiosk, issued by `kiosk hall add-kiosk NAME`.",
)

CANONICAL_FORM = (
    "UTF-8 JSON of the 'roster' object with keys sorted at every level, separators ',' and ':' "
    "(no spaces), non-ASCII characters unescaped, integers and strings only (Python: "
    "json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode())."
)


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


PUBLIC_ERRORS: dict[int | str, dict[str, Any]] = {422: _error("the request is malformed")}
KIOSK_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error("missing, unknown or revoked kiosk token"),
    404: _error("not found, or not this kiosk's"),
    409: _error("conflicts with what the hall holds (reused key, illegal lifecycle step)"),
    422: _error("the request is malformed or fails a catalog rule"),
    503: _error("busy or raced with an identical request: send the same request again"),
}
UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    **KIOSK_ERRORS,
    413: _error("the file is larger than the hall accepts"),
    415: _error("the file type is not accepted or does not match its content"),
}


def service_of(request: Request) -> HallService:
    service: HallService = request.app.state.service
    return service


Service = Annotated[HallService, Depends(service_of)]


def current_kiosk(
    service: Service,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise NotAuthenticated(
            "This call needs the kiosk's token as 'Authorization: Bearer <token>'."
        )
    return service.authenticate(credentials.credentials).id


KioskId = Annotated[str, Depends(current_kiosk)]

public = APIRouter(prefix="/api/v1", tags=["public"], responses=PUBLIC_ERRORS)
kiosk = APIRouter(prefix="/api/v1", tags=["kiosk"], responses=KIOSK_ERRORS)


@public.get("/health", response_model=HealthOut)
def health(service: Service) -> dict[str, Any]:
    """For load balancers and the kiosk's connectivity check; needs no token."""
    return {
        "status": "ok",
        "catalog_version": service.catalog_version(),
        "time": utc_text(service.clock()),
    }


@public.get("/public-key", response_model=PublicKeyOut)
def public_key(service: Service) -> dict[str, Any]:
    """The key kiosks pin to verify the courier roster offline."""
    signer = service.signer
    return {
        "algorithm": "Ed25519",
        "key_id": signer.key_id,
        "public_key_b64": signer.public_raw_b64(),
        "public_key_pem": signer.public_pem(),
        "canonical_form": CANONICAL_FORM,
    }


@kiosk.get("/kiosk", response_model=KioskOut)
def whoami(service: Service, kiosk_id: KioskId) -> dict[str, Any]:
    """Which kiosk this token belongs to (a cheap way to check a freshly configured token)."""
    found = next(k for k in service.kiosks() if k.id == kiosk_id)
    return {"id": found.id, "name": found.name}


@kiosk.get("/catalog", response_model=CatalogOut)
def catalog(
    service: Service,
    kiosk_id: KioskId,
    since_version: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    """Everything changed after `since_version` (0 = the whole catalog), plus removals."""
    return service.catalog(since_version)


@kiosk.post(
    "/submissions",
    response_model=SubmissionOut,
    status_code=201,
    responses={200: {"model": SubmissionOut, "description": "replay of an earlier request"}},
)
def create_submission(
    service: Service,
    kiosk_id: KioskId,
    body: SubmissionIn,
    response: Response,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200)],
) -> dict[str, Any]:
    """201 when created; 200 with the same record when the key was seen with the same body."""
    submission, created = service.create_submission(kiosk_id, idempotency_key, body)
    response.status_code = 201 if created else 200
    return submission


@kiosk.post("/submissions/batch", response_model=SubmissionBatchOut)
def create_submissions(
    service: Service, kiosk_id: KioskId, batch: SubmissionBatchIn
) -> dict[str, Any]:
    """Many creates in one transaction; each entry answers what POST /submissions would have."""
    results = service.create_submissions(
        kiosk_id, [(entry.idempotency_key, entry.submission) for entry in batch.submissions]
    )
    return {
        "results": [
            _batch_result(entry.idempotency_key, result)
            for entry, result in zip(batch.submissions, results, strict=True)
        ]
    }


def _batch_result(key: str, result: tuple[dict[str, Any], bool] | HallError) -> dict[str, Any]:
    if isinstance(result, HallError):
        return {
            "idempotency_key": key,
            "outcome": "retry_later" if isinstance(result, RetryLater) else "rejected",
            "status": result.status_code,
            "error": {"code": result.code, "message": result.message},
        }
    submission, created = result
    return {
        "idempotency_key": key,
        "outcome": "created" if created else "replayed",
        "status": 201 if created else 200,
        "submission": submission,
    }


@kiosk.get("/submissions", response_model=SubmissionListOut)
def list_submissions(
    service: Service,
    kiosk_id: KioskId,
    status: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    return {"submissions": service.list_submissions(kiosk_id, status, limit)}


@kiosk.get("/submissions/{submission_id}", response_model=SubmissionOut)
def get_submission(service: Service, kiosk_id: KioskId, submission_id: str) -> dict[str, Any]:
    return service.get_submission(kiosk_id, submission_id)


@kiosk.post("/submissions/{submission_id}/submit", response_model=SubmissionOut)
def submit_draft(service: Service, kiosk_id: KioskId, submission_id: str) -> dict[str, Any]:
    """Turns a draft into a submitted application; repeating it is harmless."""
    return service.submit_draft(kiosk_id, submission_id)


@kiosk.post(
    "/submissions/{submission_id}/ecopies",
    response_model=ECopyOut,
    status_code=201,
    responses={**UPLOAD_ERRORS, 200: {"model": ECopyOut, "description": "already held"}},
)
def upload_ecopy(
    service: Service,
    kiosk_id: KioskId,
    submission_id: str,
    response: Response,
    file: Annotated[UploadFile, File(description="JPEG, PNG or PDF")],
    material_code: Annotated[str, Form(min_length=1, max_length=80)],
    sha256: Annotated[str, Form(pattern=r"^[0-9a-fA-F]{64}$")],
) -> dict[str, Any]:
    """The hall recomputes the SHA-256; the same file uploaded again returns the same record."""
    data = file.file.read(service.config.max_upload_bytes + 1)
    ecopy, created = service.add_ecopy(
        kiosk_id,
        submission_id,
        material_code,
        file.filename or "ecopy",
        (file.content_type or "application/octet-stream").split(";")[0].strip(),
        data,
        sha256,
    )
    response.status_code = 201 if created else 200
    return ecopy


@kiosk.get("/submissions/{submission_id}/payment", response_model=PaymentOut)
def payment(service: Service, kiosk_id: KioskId, submission_id: str) -> dict[str, Any]:
    """The fee, its QR payload (a payment link) and whether it is paid; 404 when there is no fee."""
    return service.payment(kiosk_id, submission_id)


@kiosk.post("/events", response_model=EventBatchOut)
def events(service: Service, kiosk_id: KioskId, batch: EventBatchIn) -> dict[str, Any]:
    """A batch of kiosk events, applied in order; each gets its own outcome."""
    return {"results": service.apply_events(kiosk_id, batch.events)}


@kiosk.get("/roster", response_model=SignedRosterOut)
def roster(service: Service, kiosk_id: KioskId) -> dict[str, Any]:
    """Couriers allowed at this kiosk, signed so the kiosk can trust its cached copy offline."""
    return service.roster(kiosk_id)


@kiosk.get("/tasks", response_model=TasksOut)
def tasks(service: Service, kiosk_id: KioskId) -> dict[str, Any]:
    """Materials waiting for a courier, results on their way, and uncollected results to return."""
    return service.tasks(kiosk_id)


@kiosk.post("/elicences/lookup", response_model=LookupOut)
def lookup(service: Service, kiosk_id: KioskId, body: LookupIn) -> dict[str, Any]:
    """E-licences and reusable e-copies for the identity on the card; every call is logged."""
    return service.lookup(kiosk_id, body.id_number, body.submission_id, body.purpose)
