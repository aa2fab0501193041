"""Server-rendered staff UI: queue, details, decisions, payments, SMS outbox and statistics.

Sessions live in the database (the cookie holds a random token, stored hashed), and every form
carries the session's CSRF token, so a page elsewhere cannot make a logged-in browser approve.
Also the citizen's pickup QR page (/p/{qr}), the link the pickup-code SMS carries.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from .errors import HallError, NotFound
from .lifecycle import Status, Step, allowed_steps
from .models import StaffSession
from .service import HallService

COOKIE = "hall_staff"
templates = Jinja2Templates(directory=str(resources.files("service_hall") / "templates"))
router = APIRouter(include_in_schema=False)

ACTIONS = {
    "start_review": Step.REVIEW_STARTED,
    "approve": Step.APPROVED,
    "reject": Step.REJECTED,
    "result_produced": Step.RESULT_PRODUCED,
}
STATUS_ZH = {
    "draft": "草稿",
    "submitted": "已提交",
    "deposited": "已投递",
    "collected": "已收件",
    "in_review": "审核中",
    "approved": "已批准",
    "rejected": "不予批准",
    "result_ready": "结果待取",
    "picked_up": "已领取",
    "returned": "已退回",
}


class LoginRequired(Exception):
    def __init__(self, json: bool = False) -> None:
        super().__init__("login required")
        self.json = json


def login_redirect(request: Request, err: LoginRequired) -> Response:
    if err.json:
        return JSONResponse(
            {"error": {"code": "not_authenticated", "message": "Log in to the staff UI first."}},
            401,
        )
    return RedirectResponse(f"/staff/login?next={request.url.path}", status_code=303)


def _service(request: Request) -> HallService:
    service: HallService = request.app.state.service
    return service


Service = Annotated[HallService, Depends(_service)]


def _staff(request: Request, service: Service) -> StaffSession:
    token = request.cookies.get(COOKIE)
    found = service.staff_session(token) if token else None
    if found is None:
        raise LoginRequired(json=request.url.path.startswith("/staff/api/"))
    return found


Staff = Annotated[StaffSession, Depends(_staff)]


def _check_csrf(staff: StaffSession, csrf: str) -> None:
    if csrf != staff.csrf_token:
        raise LoginRequired()


def _render(request: Request, name: str, staff: StaffSession | None, **context: Any) -> Response:
    return templates.TemplateResponse(
        request,
        name,
        {
            "staff": staff,
            "csrf": staff.csrf_token if staff else "",
            "status_zh": STATUS_ZH,
            "yuan": lambda fen: f"¥{fen / 100:.2f}",
            "when": lambda t: (
                t.strftime("%Y-%m-%d %H:%M") if isinstance(t, datetime) else (t or "")
            ),
            **context,
        },
    )


@router.get("/", response_class=RedirectResponse)
def root() -> RedirectResponse:
    return RedirectResponse("/staff/", status_code=303)


@router.get("/staff/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/staff/") -> Response:
    return _render(request, "login.html", None, next=next, failed=False)


@router.post("/staff/login")
def login(
    request: Request,
    service: Service,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/staff/",
) -> Response:
    found = service.staff_login(username, password)
    if found is None:
        response = _render(request, "login.html", None, next=next, failed=True)
        response.status_code = 401
        return response
    token, _csrf = found
    target = next if next.startswith("/staff/") else "/staff/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/", max_age=8 * 3600)
    return response


@router.post("/staff/logout")
def logout(
    request: Request, service: Service, staff: Staff, csrf: Annotated[str, Form()]
) -> Response:
    _check_csrf(staff, csrf)
    service.staff_logout(request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/staff/", response_class=HTMLResponse)
def queue(request: Request, service: Service, staff: Staff, status: str = "") -> Response:
    if status and status not in STATUS_ZH:
        status = ""
    return _render(
        request,
        "queue.html",
        staff,
        rows=service.queue(status or None),
        status=status,
        statuses=[s.value for s in Status if s is not Status.DRAFT],
    )


@router.get("/staff/submissions/{submission_id}", response_class=HTMLResponse)
def detail(
    request: Request, service: Service, staff: Staff, submission_id: str, error: str = ""
) -> Response:
    try:
        submission = service.staff_detail(submission_id)
    except NotFound:
        return _render(request, "missing.html", staff)
    steps = [s.value for s in allowed_steps(Status(submission["status"]))]
    return _render(request, "detail.html", staff, s=submission, steps=steps, error=error)


@router.post("/staff/submissions/{submission_id}/action")
def act(
    service: Service,
    staff: Staff,
    submission_id: str,
    action: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    _check_csrf(staff, csrf)
    target = f"/staff/submissions/{submission_id}"
    try:
        if action == "mark_paid":
            service.mark_paid(submission_id, f"staff:{staff.username}")
        elif action in ACTIONS:
            service.staff_step(submission_id, ACTIONS[action], f"staff:{staff.username}", reason)
        else:
            return RedirectResponse(f"{target}?error=unknown+action", status_code=303)
    except HallError as err:
        from urllib.parse import quote

        return RedirectResponse(f"{target}?error={quote(err.message)}", status_code=303)
    return RedirectResponse(target, status_code=303)


@router.get("/staff/ecopies/{ecopy_id}")
def ecopy(service: Service, staff: Staff, ecopy_id: str) -> Response:
    try:
        content_type, data = service.ecopy_content(ecopy_id)
    except NotFound:
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(
        data,
        media_type=content_type,
        headers={"Content-Disposition": "inline", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/staff/stats", response_class=HTMLResponse)
def stats(request: Request, service: Service, staff: Staff, kiosk: str = "") -> Response:
    kiosks = service.kiosks()
    figures = service.stats(kiosk or None)
    return _render(
        request,
        "stats.html",
        staff,
        kiosks=kiosks,
        kiosk=kiosk,
        f=figures,
        chart=bar_chart(figures["per_day"]),
    )


@router.get("/staff/sms", response_class=HTMLResponse)
def sms_page(request: Request, service: Service, staff: Staff) -> Response:
    return _render(request, "sms.html", staff, messages=service.sms_outbox())


@router.get("/staff/api/sms")
def sms_api(
    service: Service,
    staff: Staff,
    since: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """The reference SMS sender's record, for tests and integrators (newest first).

    `since` is the highest message id the caller has seen; only newer ones are listed.
    """
    return {"messages": service.sms_outbox(limit, since)}


@router.get("/staff/api/session")
def session_api(staff: Staff) -> dict[str, Any]:
    """Who is logged in, and the CSRF token every form post of this session must carry.

    Readable only with the session cookie and only same-origin (no CORS), so handing the token
    out here gives a script nothing a page of the staff UI would not.
    """
    return {"username": staff.username, "csrf": staff.csrf_token}


@router.get("/staff/api/submissions/{submission_id}")
def submission_api(service: Service, staff: Staff, submission_id: str) -> dict[str, Any]:
    """What the details page shows, as JSON (for the staff client and integrators)."""
    detail = service.staff_detail(submission_id)  # NotFound: the hall's JSON 404
    detail.pop("items", None)
    return {
        **detail,
        "allowed_actions": [
            action
            for action, step in ACTIONS.items()
            if step in allowed_steps(Status(detail["status"]))
        ],
    }


@router.get("/staff/lookups", response_class=HTMLResponse)
def lookups(request: Request, service: Service, staff: Staff) -> Response:
    return _render(request, "lookups.html", staff, rows=service.lookup_log())


@router.get("/p/{pickup_qr}", response_class=HTMLResponse)
def pickup_qr_page(request: Request, service: Service, pickup_qr: str) -> Response:
    """The link in the pickup-code SMS: the citizen's phone shows the QR to the terminal.

    Only QR texts the hall texted itself are drawn (never a QR of arbitrary text); the page is
    not cached and sends no referrer, as the link is as good as the code.
    """
    found = service.pickup_page(pickup_qr)
    if found is None:
        response = _render(request, "pickup.html", None, found=None, svg="")
        response.status_code = 404
    else:
        waiting = found["status"] == "loaded" and not found["expired"]
        svg = qr_svg(pickup_qr) if waiting else ""
        response = _render(request, "pickup.html", None, found=found, svg=svg, waiting=waiting)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def qr_svg(text: str) -> str:
    """The QR as inline SVG: no image request, no script, prints sharp at any size."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(
        text,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,
    )
    svg: str = image.to_string(encoding="unicode")
    return svg.replace("<svg ", '<svg id="pickup-qr" role="img" aria-label="pickup QR code" ', 1)


@router.get("/pay/{order_id}", response_class=HTMLResponse)
def pay_page(request: Request, service: Service, order_id: str) -> Response:
    """Where the kiosk's QR code leads with the reference payment adapter."""
    try:
        order = service.payment_order(order_id)
    except NotFound:
        return Response("Unknown payment order.", status_code=404, media_type="text/plain")
    return _render(request, "pay.html", None, order=order)


def bar_chart(per_day: list[tuple[Any, int]], width: int = 640, height: int = 200) -> str:
    """Inline SVG: no script, no CDN, readable by a screen reader through its <title>s."""
    if not per_day:
        return ""
    top = max(max(count for _, count in per_day), 1)
    slot = width / len(per_day)
    bars = []
    for index, (day, count) in enumerate(per_day):
        bar_height = (height - 40) * count / top
        x = index * slot + slot * 0.15
        y = height - 20 - bar_height
        bars.append(
            f"<g><title>{day}: {count}</title>"
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{bar_height:.1f}" fill="#2f6db3"/>'
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" font-size="11" '
            f'text-anchor="middle">{count}</text>'
            f'<text x="{x + slot * 0.35:.1f}" y="{height - 6}" font-size="10" '
            f'text-anchor="middle">{day:%m-%d}</text></g>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="per-day-chart" role="img" '
        f'aria-label="submissions per day" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{"".join(bars)}</svg>'
    )
