"""The dashboard: a grid of terminals by urgency, a page per terminal, commands with confirmation.

Server-rendered (FastAPI + Jinja2, the service hall's stack) with no script at all: a command is a
form that leads to a confirmation page showing exactly what will be signed, and only the second
form sends it. Both forms carry a per-process token, so another web page open in the technician's
browser cannot post a command to the console on localhost; and a request must name the console by
one of its own host names, so a page whose DNS name is rebound to 127.0.0.1 cannot read that
token either (it would send its own name in the Host header).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any, Protocol
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Form, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from .commands import COMMANDS, CommandArgumentError, build_args, parse_settings
from .drawing import columns_from_values, event_chart_svg, locker_columns_svg, step_chart_svg
from .protocol import Command
from .store import ConsoleStore

HISTORY_WINDOW_S = 24 * 3600
# Shown in the locker drawing instead of the devices table (48 rows for a 16-door column).
DRAWN_NODES = frozenset({"doors"})
DRAWN_PROPERTIES = frozenset({"layout"})
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
templates = Jinja2Templates(directory=str(resources.files("fleet_console") / "templates"))


class CommandSender(Protocol):
    def send(self, device_id: str, name: str, args: Mapping[str, Any]) -> Command: ...


def _when(at: Any) -> str:
    if not isinstance(at, int | float) or at <= 0:
        return str(at or "")
    return datetime.fromtimestamp(at, tz=UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def host_name(header: str) -> str | None:
    """The name in a Host header without its port ("[::1]:8780" -> "::1"); None if unreadable."""
    try:
        return urlsplit(f"//{header}").hostname
    except ValueError:
        return None


def create_app(
    store: ConsoleStore,
    sender: CommandSender | None,
    *,
    clock: Callable[[], float] = time.time,
    refresh_s: int = 15,
    host_names: Iterable[str] = LOOPBACK_NAMES,
) -> FastAPI:
    app = FastAPI(title="Fleet console", docs_url=None, redoc_url=None, openapi_url=None)
    form_token = secrets.token_urlsafe(24)
    allowed = frozenset(name.lower() for name in host_names)

    @app.middleware("http")
    async def only_our_own_names(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        name = host_name(request.headers.get("host", ""))
        if name is None or name.lower() not in allowed:
            return PlainTextResponse(
                f"This console answers only to {', '.join(sorted(allowed))}; the address in "
                "your browser names another host. Open the console by one of those names, or "
                "start it with --allowed-host NAME for the name your proxy uses.",
                status_code=421,
            )
        return await call_next(request)

    def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        response = templates.TemplateResponse(
            request,
            name,
            {
                "token": form_token,
                "when": _when,
                "commands": COMMANDS,
                "can_send": sender is not None,
                "refresh_s": refresh_s,
                **context,
            },
        )
        response.status_code = status
        return response

    @app.get("/", response_class=HTMLResponse)
    def grid(request: Request) -> Response:
        terminals = store.terminals()
        counts = {
            "total": len(terminals),
            "lost": sum(1 for t in terminals if t.state == "lost"),
            "alerting": sum(1 for t in terminals if t.alerts),
            "ready": sum(1 for t in terminals if t.state == "ready" and not t.alerts),
        }
        return render(request, "grid.html", terminals=terminals, counts=counts, refresh=True)

    @app.get("/api/terminals")
    def terminals_api() -> dict[str, Any]:
        return {
            "terminals": [
                {
                    "device_id": t.device_id,
                    "state": t.state,
                    "urgency": t.urgency_label,
                    "alerts": [
                        {"id": a.alert_id, "severity": a.severity.value, "text_en": a.text_en}
                        for a in t.alerts
                    ],
                }
                for t in store.terminals()
            ]
        }

    @app.get("/terminals/{device_id}", response_class=HTMLResponse)
    def terminal(request: Request, device_id: str, error: str = "", sent: str = "") -> Response:
        summary = store.terminal(device_id)
        if summary is None:
            return render(request, "missing.html", 404, device_id=device_id)
        now = clock()
        start = now - HISTORY_WINDOW_S
        values = store.values(device_id)
        description = store.description(device_id)
        charts = {
            "paper": step_chart_svg(
                "chart-paper",
                store.series(device_id, "paper", start),
                start=start,
                end=now,
                top=1.0,
                labels={0.0: "out", 0.5: "near end", 1.0: "ok"},
            ),
            "connectivity": step_chart_svg(
                "chart-connectivity",
                store.series(device_id, "connectivity", start),
                start=start,
                end=now,
                top=1.0,
                labels={0.0: "down", 1.0: "up"},
            ),
            "door_alarms": event_chart_svg(
                "chart-door-alarms",
                [
                    (alert_id, at)
                    for alert_id, _severity, at in store.alert_events(device_id, start)
                    if alert_id.startswith("door-")
                ],
                start=start,
                end=now,
            ),
            "submissions": step_chart_svg(
                "chart-submissions",
                store.series(device_id, "submissions", start),
                start=start,
                end=now,
            ),
        }
        shot = store.screenshot(device_id)
        return render(
            request,
            "terminal.html",
            t=summary,
            nodes=_nodes(description, values),
            column=locker_columns_svg(columns_from_values(values, description)),
            charts=charts,
            logs=store.logs(device_id, 40),
            sent_commands=store.commands(device_id, 15),
            screenshot_at=shot[1] if shot else None,
            error=error,
            sent=sent,
            refresh=not error,
        )

    @app.post("/terminals/{device_id}/commands/confirm", response_class=HTMLResponse)
    def confirm(request: Request, device_id: str, form: CommandForm) -> Response:
        if not secrets.compare_digest(form.token, form_token):
            return Response("The form has expired; reload the page.", 403)
        try:
            args = form.args(store, device_id)
        except (CommandArgumentError, ValueError) as err:
            return RedirectResponse(
                f"/terminals/{device_id}?error={quote(str(err))}#commands", status_code=303
            )
        return render(
            request,
            "confirm.html",
            device_id=device_id,
            spec=COMMANDS[form.name],
            args=args,
            form=form,
        )

    @app.post("/terminals/{device_id}/commands")
    def send(device_id: str, form: CommandForm) -> Response:
        if not secrets.compare_digest(form.token, form_token):
            return Response("The form has expired; reload the page.", 403)
        target = f"/terminals/{device_id}"
        if sender is None:
            return RedirectResponse(
                f"{target}?error={quote('This console is read-only: it has no signing key.')}",
                status_code=303,
            )
        try:
            command = sender.send(device_id, form.name, form.args(store, device_id))
        except (CommandArgumentError, ValueError) as err:
            return RedirectResponse(f"{target}?error={quote(str(err))}#commands", status_code=303)
        return RedirectResponse(f"{target}?sent={command.id}#commands", status_code=303)

    @app.get("/api/commands/{command_id}")
    def command_api(command_id: str) -> Response:
        record = store.command(command_id)
        if record is None:
            return JSONResponse({"error": "unknown command"}, 404)
        return JSONResponse(
            {
                "id": record.command.id,
                "device_id": record.device_id,
                "name": record.command.name,
                "status": record.status,
                "detail": record.detail,
            }
        )

    @app.get("/terminals/{device_id}/screenshot.png")
    def screenshot(device_id: str) -> Response:
        shot = store.screenshot(device_id)
        if shot is None:
            return Response("No screenshot yet.", 404, media_type="text/plain")
        return Response(shot[0], media_type="image/png", headers={"Cache-Control": "no-store"})

    return app


class CommandFormFields(BaseModel):
    """One command form as posted: the first step (confirm) and the second (send) carry the same
    fields, so what is signed is exactly what the technician confirmed."""

    name: str
    token: str
    compartment: str = ""
    reason: str = ""
    lines: str = ""
    setting: str = ""
    active: str = "true"
    message_zh: str = ""
    message_en: str = ""

    def args(self, store: ConsoleStore, device_id: str) -> dict[str, Any]:
        values = parse_settings(self.setting.split()) if self.setting.strip() else None
        version = None
        if self.name == "set-config":
            reported = store.values(device_id).get("system", {}).get("config-version", "0")
            version = int(reported) + 1 if reported.isdigit() else 1
        return build_args(
            self.name,
            compartment=int(self.compartment) if self.compartment.strip() else None,
            reason=self.reason,
            lines=int(self.lines) if self.lines.strip() else None,
            values=values,
            version=version,
            active=self.active != "false",
            message_zh=self.message_zh,
            message_en=self.message_en,
        )

    def hidden_fields(self) -> dict[str, str]:
        return self.model_dump(exclude={"token"})


CommandForm = Annotated[CommandFormFields, Form()]


def _nodes(
    description: Mapping[str, Any], values: Mapping[str, Mapping[str, str]]
) -> list[dict[str, Any]]:
    """Each node with its name from $description and its latest values, description order first;
    a node seen only in values (description not yet received) still shows."""
    values = {node: props for node, props in values.items() if node not in DRAWN_NODES}
    described = description.get("nodes")
    nodes: list[dict[str, Any]] = []
    seen: set[str] = set()
    if isinstance(described, dict):
        for node_id, node in described.items():
            if not isinstance(node, dict) or node_id in DRAWN_NODES:
                continue
            properties = node.get("properties")
            rows = []
            names = list(properties) if isinstance(properties, dict) else []
            names += [p for p in values.get(node_id, {}) if p not in names]
            for prop in names:
                if prop in DRAWN_PROPERTIES:
                    continue
                meta = properties.get(prop, {}) if isinstance(properties, dict) else {}
                rows.append(
                    {
                        "id": prop,
                        "name": meta.get("name", prop) if isinstance(meta, dict) else prop,
                        "value": values.get(node_id, {}).get(prop, "—"),
                        "unit": meta.get("unit", "") if isinstance(meta, dict) else "",
                    }
                )
            nodes.append({"id": node_id, "name": node.get("name", node_id), "properties": rows})
            seen.add(node_id)
    for node_id in sorted(set(values) - seen):
        rows = [{"id": p, "name": p, "value": v, "unit": ""} for p, v in values[node_id].items()]
        nodes.append({"id": node_id, "name": node_id, "properties": rows})
    return nodes
