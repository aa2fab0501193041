"""`kiosk device idcard --port URL [--baud N] [--timeout S] read` — read the card on the reader.

Prints the card's fields as one JSON document (the CLI contract); no card → exit 3 with
`{"error": "no card on the reader"}`; a reader that does not answer or answers garbage → exit 1
with a sentence naming the port.
"""

from __future__ import annotations

import argparse
from typing import Any

from devices.errors import DeviceError
from devices.idcard.driver import DEFAULT_BAUD, DEVICE_NAME, SamReader
from devices.idcard.errors import NoCardPresent

from . import EXIT_DEVICE, EXIT_NOTHING_THERE, EXIT_OK, emit, fail


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from err
    if value <= 0:
        raise argparse.ArgumentTypeError("the timeout must be more than 0 seconds")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from err
    if value <= 0:
        raise argparse.ArgumentTypeError("the baud rate must be positive")
    return value


def add_parser(device_commands: Any) -> None:
    parser = device_commands.add_parser("idcard", help="2nd-generation ID card reader (SAM module)")
    parser.add_argument("--port", required=True, metavar="URL", help="pyserial URL or device")
    parser.add_argument("--baud", type=_positive_int, default=DEFAULT_BAUD, metavar="N")
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=1.0,
        metavar="S",
        help="seconds to wait for each answer (default 1.0)",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    read = actions.add_parser("read", help="read the card lying on the reader")
    read.set_defaults(handler=_read)


def _read(args: argparse.Namespace) -> int:
    reader = SamReader(args.port, baudrate=args.baud, timeout_s=args.timeout)
    reader.start()
    try:
        if not reader.wait_open(max(args.timeout, 1.0)):
            return fail(
                f"{DEVICE_NAME} on {args.port} could not be opened: {reader.health().reason}",
                EXIT_DEVICE,
            )
        record = reader.read_card()
    except NoCardPresent:
        return fail("no card on the reader", EXIT_NOTHING_THERE)
    except DeviceError as err:
        return fail(str(err), EXIT_DEVICE)
    finally:
        reader.stop()
    emit(record.as_json())
    return EXIT_OK
