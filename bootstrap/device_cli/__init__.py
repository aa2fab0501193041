"""`kiosk device …`: the technician's on-site diagnostic tool.

The contract other tools rely on: every device command prints exactly one JSON document on stdout.
Exit codes: 0 success; 1 the device did not answer / answered with a bad frame / transport failed
(the JSON is `{"error": "<plain sentence>"}`); 2 bad usage (argparse message on stderr);
3 "nothing there" where a command says so. No traceback ever reaches the user.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable
from typing import Any

EXIT_OK = 0
EXIT_DEVICE = 1
EXIT_USAGE = 2
EXIT_NOTHING_THERE = 3

# One module per device; each defines `add_parser(device_commands)`.
DEVICE_MODULES = ("locker", "idcard", "scanner", "printer", "decode")


def emit(document: object) -> None:
    """Print the one JSON document of a device command."""
    json.dump(document, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    sys.stdout.flush()


def fail(sentence: str, code: int = EXIT_DEVICE) -> int:
    emit({"error": sentence})
    return code


def register(commands: Any, add_config_argument: Callable[[argparse.ArgumentParser], None]) -> None:
    device = commands.add_parser("device", help="talk to one device directly (JSON output)")
    device_commands = device.add_subparsers(dest="device", required=True, metavar="DEVICE")
    for name in DEVICE_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise
            continue  # that device's diagnostics are not part of this build
        module.add_parser(device_commands)
