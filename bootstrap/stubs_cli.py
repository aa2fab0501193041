"""`kiosk stubs start`: the emulated devices a configuration names, until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from kiosk.config import load_settings, resolve_config_path


def _start(args: argparse.Namespace) -> int:
    from firmware_stubs.launcher import start_stubs

    settings = load_settings(resolve_config_path(args.config))
    try:
        stubs = start_stubs(settings, control_port=args.control_port)
    except OSError as err:
        print(
            f"kiosk stubs: cannot start the stubs ({err.strerror or err}); is another "
            "`kiosk stubs start` or `kiosk demo` already running?",
            file=sys.stderr,
        )
        return 1
    print(f"stubs running: {', '.join(stubs.names) or 'none'}")
    print(f"control: 127.0.0.1:{stubs.control.port} (one JSON request per line; Ctrl-C stops)")
    sys.stdout.flush()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stubs.stop()
    return 0


def register(commands: Any, add_config_argument: Callable[[argparse.ArgumentParser], None]) -> None:
    stubs = commands.add_parser("stubs", help="emulated devices for a terminal without hardware")
    actions = stubs.add_subparsers(dest="stubs_action", required=True, metavar="ACTION")
    start = actions.add_parser("start", help="start every stub the configuration names")
    add_config_argument(start)
    start.add_argument("--control-port", type=int, default=7100, help="loopback control port")
    start.set_defaults(handler=_start)
