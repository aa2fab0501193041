"""Builds the ASGI application: the kiosk API, the staff UI and uniform JSON errors.

Bad input never becomes a 500: validation errors and the hall's own errors are turned into
`{"error": {"code", "message"}}` with a 4xx status here, in one place.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import api, staff
from .errors import HallError, NotAuthenticated, RetryLater
from .service import HallService

DESCRIPTION = """Reference online service hall of the 24-hour self-service terminal.

Kiosk calls carry `Authorization: Bearer <kiosk token>`. Errors are JSON:
`{"error": {"code": "...", "message": "one plain sentence"}}`. See docs/hall-api.md.
"""


def _body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _describe_validation(err: RequestValidationError) -> str:
    first = err.errors()[0] if err.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
    return f"{where}: {first.get('msg', 'invalid value')}."


def create_app(service: HallService) -> FastAPI:
    app = FastAPI(
        title="Service hall API",
        version="1.2.0",
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.service = service

    @app.exception_handler(HallError)
    async def _hall_error(_request: Request, err: HallError) -> JSONResponse:
        headers: dict[str, str] | None = None
        if isinstance(err, NotAuthenticated):
            headers = {"WWW-Authenticate": "Bearer"}
        elif isinstance(err, RetryLater):
            headers = {"Retry-After": str(err.retry_after_s)}
        return JSONResponse(_body(err.code, err.message), err.status_code, headers=headers)

    @app.exception_handler(OperationalError)
    async def _database_busy(_request: Request, err: OperationalError) -> JSONResponse:
        # SQLite under many writers ("database is locked"), or a PostgreSQL failover: passing.
        busy = RetryLater(
            "The hall's database is busy or restarting; send the same request again shortly."
        )
        return await _hall_error(_request, busy)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, err: RequestValidationError) -> JSONResponse:
        return JSONResponse(_body("invalid_request", _describe_validation(err)), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, err: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.status_code, "http_error")
        return JSONResponse(
            _body(code, str(err.detail)), err.status_code, headers=getattr(err, "headers", None)
        )

    @app.exception_handler(staff.LoginRequired)
    async def _login(request: Request, err: staff.LoginRequired) -> Any:
        return staff.login_redirect(request, err)

    app.include_router(api.public)
    app.include_router(api.kiosk)
    app.include_router(staff.router)
    return app
