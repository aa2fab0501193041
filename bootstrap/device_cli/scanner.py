"""`kiosk device scanner --port URL [--baud N] listen [--count N] [--timeout S]`.

Listens for codes for `--timeout` seconds (or until `--count` codes came) and prints them as the
scanner sent them, without the suffix: the on-site check of the scanner, its cable and its suffix
setting. `--trigger` switches the beam on and off for scanners in manual-trigger mode.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any

from . import emit, fail


def add_parser(device_commands: Any) -> None:
    parser = device_commands.add_parser("scanner", help="serial barcode scanner")
    parser.add_argument("--port", required=True, metavar="URL", help="any pyserial URL")
    parser.add_argument("--baud", type=int, default=9600, help="default 9600")
    actions = parser.add_subparsers(dest="scanner_action", required=True, metavar="ACTION")
    listen = actions.add_parser("listen", help="print the codes scanned while listening")
    listen.add_argument(
        "--count",
        type=_positive_int,
        metavar="N",
        help="stop after N codes (default: listen until the timeout)",
    )
    listen.add_argument(
        "--timeout", type=float, default=1.0, metavar="S", help="seconds to listen (default 1.0)"
    )
    listen.add_argument(
        "--trigger",
        action="store_true",
        help="send the Honeywell trigger on/off commands (manual-trigger mode)",
    )
    listen.set_defaults(handler=_listen)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _listen(args: argparse.Namespace) -> int:
    from devices.errors import DeviceError
    from devices.scanner.driver import SerialBarcodeScanner
    from kiosk.ports.scanner import CodeScanned

    codes: list[str] = []
    arrived = threading.Condition()

    def sink(event: object) -> None:
        if isinstance(event, CodeScanned):
            with arrived:
                codes.append(event.text)
                arrived.notify_all()

    deadline = time.monotonic() + max(0.0, args.timeout)
    scanner = SerialBarcodeScanner(args.port, baudrate=args.baud)
    scanner.start(sink)
    try:
        if not scanner.wait_open(max(0.05, deadline - time.monotonic())):
            return fail(scanner.health().reason)
        # on stderr, so stdout stays one JSON document; a code scanned before this line may be
        # lost (pyserial empties the input buffer while it opens the port)
        print(f"listening on {args.port}: scan now", file=sys.stderr, flush=True)
        if args.trigger:
            scanner.set_scanning(True)
        with arrived:
            arrived.wait_for(
                lambda: args.count is not None and len(codes) >= args.count,
                timeout=max(0.0, deadline - time.monotonic()),
            )
        if args.trigger:
            scanner.set_scanning(False)
    except DeviceError as err:
        return fail(str(err))
    finally:
        scanner.stop()
    with arrived:
        found = codes[: args.count] if args.count is not None else list(codes)
    emit({"codes": found})
    return 0
