"""`kiosk device decode IMAGE …`: every QR / 1-D code in still images, as one JSON document.

A technician uses it to check a printed receipt or a pickup-code SMS photo without the UI:
`[{"file": "a.png", "codes": [{"format": "QRCode", "text": "…"}], "ms": 1.7}, …]`.
A payload that is not UTF-8 also carries `"raw_hex"`. OpenCV and the decoders are imported in
the handler so the rest of the CLI starts fast.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from . import EXIT_OK, emit, fail

# Everything a citizen may hold up: the terminal's own codes and common labels and goods.
STILL_FORMATS = (
    "QRCode",
    "MicroQRCode",
    "DataMatrix",
    "PDF417",
    "Aztec",
    "Code128",
    "Code39",
    "Code93",
    "EAN13",
    "EAN8",
    "UPCA",
    "UPCE",
    "ITF",
    "Codabar",
    "DataBar",
)


def add_parser(device_commands: Any) -> None:
    parser = device_commands.add_parser(
        "decode", help="decode every QR / 1-D code in image files (JSON output)"
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, …)")
    parser.set_defaults(handler=run_decode)


def run_decode(args: argparse.Namespace) -> int:
    from devices.camera import CameraError, decode_still, read_image

    results: list[dict[str, object]] = []
    for name in args.images:
        try:
            image = read_image(Path(name))
        except CameraError as err:
            return fail(str(err))
        started = time.perf_counter()
        codes = decode_still(image, STILL_FORMATS)
        elapsed_ms = (time.perf_counter() - started) * 1000
        listed: list[dict[str, str]] = []
        for code in codes:
            entry = {"format": code.format, "text": code.text}
            if code.raw is not None:
                entry["raw_hex"] = code.raw.hex()
            listed.append(entry)
        results.append({"file": name, "codes": listed, "ms": round(elapsed_ms, 1)})
    emit(results)
    return EXIT_OK
