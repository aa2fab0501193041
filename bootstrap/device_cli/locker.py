"""`kiosk device locker …`: read the doors of one lock board or pulse one lock (the contract)."""

from __future__ import annotations

import argparse
from typing import Any

from devices.errors import DeviceError
from devices.lockers.bus import LockerBus
from devices.lockers.protocols import PROTOCOLS, protocol_by_name

from . import EXIT_OK, emit, fail


def add_parser(device_commands: Any) -> None:
    parser: argparse.ArgumentParser = device_commands.add_parser(
        "locker", help="read the doors of one lock board or unlock one lock"
    )
    parser.add_argument("--port", required=True, metavar="URL", help="any pyserial URL")
    parser.add_argument("--protocol", required=True, choices=sorted(PROTOCOLS))
    parser.add_argument(
        "--baud", type=_positive_int, metavar="N", help="default: 19200 kerong, 9600 8A"
    )
    parser.add_argument("--board", type=int, default=0, metavar="N", help="board address")
    parser.add_argument(
        "--timeout", type=_positive_float, default=1.0, metavar="S", help="per exchange"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("status", help="doors (and item sensors) of the board")
    unlock = actions.add_parser("unlock", help="pulse one lock and report the outcome")
    unlock.add_argument("lock", type=int, metavar="LOCK", help="1-based lock number")
    parser.set_defaults(handler=lambda args: run(args, parser))


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    protocol = protocol_by_name(args.protocol)
    if not 0 <= args.board <= protocol.max_board:
        parser.error(f"{protocol.name} board addresses are 0-{protocol.max_board}")
    if args.action == "unlock" and not 1 <= args.lock <= protocol.locks_per_board:
        parser.error(
            f"a {protocol.name} board has locks 1-{protocol.locks_per_board}, not {args.lock}"
        )
    bus = LockerBus(
        args.port,
        protocol,
        baud=args.baud,
        device=f"lock board {args.board} ({protocol.name})",
        timeout_s=args.timeout,
    )
    bus.start()
    try:
        if not bus.wait_open(max(args.timeout, 0.5)):
            # The link's sentence is written for the running terminal, which keeps retrying.
            return fail(bus.health().reason.replace(" — the terminal keeps retrying", ""))
        if args.action == "status":
            status = bus.status(args.board)
            doors = {
                str(lock): "closed" if closed else "open"
                for lock, closed in enumerate(status.doors_closed, start=1)
            }
            items = (
                None
                if status.items_present is None
                else {str(lock): bool(seen) for lock, seen in enumerate(status.items_present, 1)}
            )
            emit({"board": args.board, "doors": doors, "items": items})
            return EXIT_OK
        result = bus.unlock_and_verify(args.board, args.lock)
        emit({"board": args.board, "lock": args.lock, "outcome": result.outcome.value})
        return EXIT_OK
    except DeviceError as err:
        return fail(str(err))
    finally:
        bus.stop()


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value
