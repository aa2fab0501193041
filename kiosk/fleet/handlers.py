"""The remote commands themselves: argument checks and the calls on the ports.

Every handler raises `CommandFailed` with a sentence for the technician, never a raw error from a
service. Door openings go through `CompartmentService.open_door`, so they are audited like every
other opening, with the actor `technician:<issuer>` and the reason the console had to give.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.compartments.model import CompartmentError
from kiosk.ports.lockers import LockerError, UnlockOutcome
from kiosk.ports.printer import PrinterError
from kiosk.storage import Actor, ActorKind, StorageError

from .commands import Command, CommandFailed, Handler, Outcome
from .ports import (
    LogTail,
    OutOfServiceNotice,
    RemoteCompartments,
    RemoteConfigTarget,
    Restarter,
    ScreenCapture,
    SelfTest,
    TestPagePrinter,
)
from .remote_config import RemoteConfig, RemoteConfigRefused

# The exit code of a remote restart: EX_TEMPFAIL. The systemd unit restarts on it
# (`Restart=on-failure` or `RestartForceExitStatus=75`); see docs/fleet-protocol.md.
RESTART_EXIT_CODE = 75
SCREENSHOT_INLINE_BYTES = 256 * 1024
SCREENSHOT_CHUNK_BYTES = 192 * 1024
MAX_LOG_LINES = 500


@dataclass(frozen=True)
class CommandPorts:
    """What the terminal offers; a command whose port is None is not offered."""

    compartments: RemoteCompartments | None = None
    printer: TestPagePrinter | None = None
    self_test: SelfTest | None = None
    screen: ScreenCapture | None = None
    logs: LogTail | None = None
    config: RemoteConfig | None = None
    config_target: RemoteConfigTarget | None = None
    restarter: Restarter | None = None
    notice: OutOfServiceNotice | None = None


def technician(command: Command) -> Actor:
    return Actor(ActorKind.TECHNICIAN, command.issuer)


def _number(args: Mapping[str, Any]) -> int:
    number = args.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise CommandFailed("give the compartment number as a whole number ('number': 12)")
    return number


def _text(args: Mapping[str, Any], key: str, *, required: bool) -> str:
    value = args.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise CommandFailed(f"'{key}' is required: say why, it goes into the audit log")
    return value.strip()


def build_handlers(ports: CommandPorts) -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    compartments = ports.compartments
    if compartments is not None:

        def open_compartment(command: Command) -> Outcome:
            number = _number(command.args)
            reason = _text(command.args, "reason", required=True)
            try:
                opening = compartments.open_door(
                    number, actor=technician(command), reason=f"{reason} (remote {command.id})"
                )
            except (CompartmentError, LockerError, StorageError) as err:
                raise CommandFailed(f"compartment {number} was not opened: {err}") from err
            result = {
                "outcome": opening.outcome.value,
                "taken_out_of_service": opening.taken_out_of_service,
            }
            if opening.outcome is UnlockOutcome.JAMMED:
                raise CommandFailed(
                    f"compartment {number} is jammed and was taken out of service; it needs a visit"
                )
            if opening.outcome is UnlockOutcome.UNKNOWN:
                raise CommandFailed(
                    f"the lock board did not confirm compartment {number}; the door may be open "
                    "— check the door sensor reading before trying again"
                )
            return Outcome(f"compartment {number}: {opening.outcome.value}", result)

        def take_out(command: Command) -> Outcome:
            number = _number(command.args)
            reason = _text(command.args, "reason", required=True)
            try:
                compartments.take_out_of_service(number, actor=technician(command), reason=reason)
            except (CompartmentError, StorageError) as err:
                raise CommandFailed(f"compartment {number} stays as it was: {err}") from err
            return Outcome(f"compartment {number} is out of service")

        def back_in(command: Command) -> Outcome:
            number = _number(command.args)
            note = _text(command.args, "note", required=False) or "returned remotely"
            try:
                compartment = compartments.return_to_service(
                    number, actor=technician(command), note=note
                )
            except (CompartmentError, StorageError) as err:
                raise CommandFailed(f"compartment {number} stays as it was: {err}") from err
            return Outcome(
                f"compartment {number} is {compartment.state.value}",
                {"state": compartment.state.value},
            )

        handlers["open-compartment"] = open_compartment
        handlers["take-out-of-service"] = take_out
        handlers["return-to-service"] = back_in

    printer = ports.printer
    if printer is not None:

        def print_test_page(command: Command) -> Outcome:
            try:
                return Outcome(printer.print_test_page())
            except PrinterError as err:
                raise CommandFailed(f"the test page was not printed: {err}") from err

        handlers["print-test-page"] = print_test_page

    self_test = ports.self_test
    if self_test is not None:

        def run_self_test(command: Command) -> Outcome:
            healths = self_test.run_self_test()
            result = [
                {"device": h.device, "state": h.state.value, "reason": h.reason} for h in healths
            ]
            bad = [h.device for h in healths if h.state.value != "ok"]
            return Outcome("all devices ok" if not bad else f"not ok: {', '.join(bad)}", result)

        handlers["self-test"] = run_self_test

    screen = ports.screen
    if screen is not None:

        def screenshot(command: Command) -> Outcome:
            return screenshot_outcome(screen.capture_png())

        handlers["screenshot"] = screenshot

    logs = ports.logs
    if logs is not None:

        def last_logs(command: Command) -> Outcome:
            count = command.args.get("lines", 100)
            if (
                isinstance(count, bool)
                or not isinstance(count, int)
                or not 1 <= count <= MAX_LOG_LINES
            ):
                raise CommandFailed(f"'lines' must be a whole number from 1 to {MAX_LOG_LINES}")
            lines = list(logs.last_lines(count))
            return Outcome(
                f"{len(lines)} line(s)", {"lines": lines}, ledger_result={"lines": len(lines)}
            )

        handlers["logs"] = last_logs

    config = ports.config
    if config is not None:

        def set_config(command: Command) -> Outcome:
            try:
                reported = config.set(command.args.get("version"), command.args.get("values"))
            except RemoteConfigRefused as err:
                raise CommandFailed(str(err)) from err
            return Outcome(f"configuration version {reported.version} applied", reported.as_json())

        handlers["set-config"] = set_config
        target = ports.config_target
        if target is not None:

            def reload_config(command: Command) -> Outcome:
                from_file = dict(target.reload_local_config())
                config.reapply()
                return Outcome(
                    "configuration file read again; remote values re-applied on top",
                    {"file": from_file, "reported": config.reported.as_json()},
                )

            handlers["reload-config"] = reload_config

    restarter = ports.restarter
    if restarter is not None:

        def restart(command: Command) -> Outcome:
            return Outcome(
                f"restarting (exit code {RESTART_EXIT_CODE})",
                {"exit_code": RESTART_EXIT_CODE},
                after_reply=lambda: restarter.request_restart(RESTART_EXIT_CODE),
            )

        handlers["restart"] = restart

    notice = ports.notice
    if notice is not None:

        def set_out_of_service(command: Command) -> Outcome:
            active = command.args.get("active", True)
            if not isinstance(active, bool):
                raise CommandFailed("'active' must be true or false")
            zh = _text(command.args, "message_zh", required=False)
            en = _text(command.args, "message_en", required=False)
            notice.set_out_of_service(active, zh, en)
            return Outcome("out of service" if active else "back in service", {"active": active})

        handlers["set-out-of-service"] = set_out_of_service
    return handlers


def screenshot_outcome(png: bytes) -> Outcome:
    """Inline up to 256 KB; larger images go as IN_PROGRESS chunks before the final reply.

    Brokers and consoles commonly cap a message near 256 KB–1 MB, and a single huge reply would
    stall the terminal's other traffic; chunks of 192 KB (256 KB once in base64) stay under both.
    """
    digest = hashlib.sha256(png).hexdigest()
    meta = {"content_type": "image/png", "bytes": len(png), "sha256": digest}
    kept = {**meta, "note": "the image itself is not kept; send a new screenshot command"}
    if len(png) <= SCREENSHOT_INLINE_BYTES:
        inline = {**meta, "png_base64": base64.b64encode(png).decode("ascii")}
        return Outcome(f"screenshot, {len(png)} bytes", inline, ledger_result=kept)
    pieces = [
        png[start : start + SCREENSHOT_CHUNK_BYTES]
        for start in range(0, len(png), SCREENSHOT_CHUNK_BYTES)
    ]
    progress = tuple(
        {"chunk": index, "chunks": len(pieces), "data": base64.b64encode(piece).decode("ascii")}
        for index, piece in enumerate(pieces)
    )
    return Outcome(
        f"screenshot, {len(png)} bytes in {len(pieces)} chunks",
        {**meta, "chunks": len(pieces)},
        progress=progress,
        ledger_result=kept,
    )
