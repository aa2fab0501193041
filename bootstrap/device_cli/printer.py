"""`kiosk device printer --printer URL sample-receipt`: print the standard receipt for a sample.

The technician's check that paper, cutter, Chinese mode, barcode and QR all work, using exactly the
template and code path a citizen's receipt takes (status check first, then the job).
"""

from __future__ import annotations

import argparse
from typing import Any

from . import emit, fail

PAPER_MM = (58, 80)


def add_parser(device_commands: Any) -> None:
    parser = device_commands.add_parser(
        "printer", help="receipt printer (tcp://, serial URL, usb://VID:PID, file:///path)"
    )
    parser.add_argument(
        "--printer",
        required=True,
        metavar="URL",
        help="tcp://HOST:PORT, a pyserial URL, usb://VID:PID (hex) or file:///path",
    )
    parser.add_argument(
        "--paper",
        type=int,
        choices=PAPER_MM,
        default=80,
        help="roll width in mm (default 80)",
    )
    parser.add_argument("--baud", type=int, default=9600, help="serial printers only")
    parser.add_argument(
        "--timeout",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds to wait for each status answer (default 1.0)",
    )
    actions = parser.add_subparsers(dest="printer_action", required=True, metavar="ACTION")
    sample = actions.add_parser("sample-receipt", help="print the standard submission receipt")
    sample.set_defaults(handler=_sample_receipt)


def _sample_receipt(args: argparse.Namespace) -> int:
    # Imported here: escpos pulls in all its backends (~1 s), which `kiosk --version` must not pay.
    from devices.errors import DeviceError
    from devices.printer.driver import EscposReceiptPrinter
    from devices.printer.receipt import sample_submission_receipt
    from devices.printer.template import PAPER_WIDTHS

    receipt = sample_submission_receipt()
    printer = EscposReceiptPrinter(
        args.printer,
        paper=PAPER_WIDTHS[args.paper],
        status_timeout_s=args.timeout,
        baudrate=args.baud,
    )
    try:
        printed = printer.print_submission_receipt(receipt)
    except DeviceError as err:
        return fail(str(err))
    finally:
        printer.stop()
    emit(
        {
            "bytes": printed.bytes_sent,
            "tracking_no": printed.tracking_no,
            "pickup_qr": receipt.follow_url,
        }
    )
    return 0
