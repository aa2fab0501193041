"""The `kiosk` command: one entry point for the terminal, the demo, diagnostics and tools.

Heavy imports (Kivy, OpenCV, the service hall) happen inside the handlers, so `kiosk --version`
and `kiosk doctor` stay fast and a missing optional part only affects the command that needs it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from kiosk.config import ConfigError
from kiosk.storage import StorageError

from . import device_cli, fleet_cli, hall_cli, stubs_cli

EXIT_CONFIG = 78  # sysexits.h EX_CONFIG: the configuration is wrong
EXIT_IOERR = 74  # sysexits.h EX_IOERR: the local database cannot be used


def package_version() -> str:
    try:
        return version("selfservice-kiosk")
    except PackageNotFoundError:  # running from a bundle without metadata
        from kiosk import __version__

        return __version__


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="TOML configuration (default: $KIOSK_CONFIG, else ./kiosk.toml, else the demo)",
    )


def _run(args: argparse.Namespace) -> int:
    from .launch import run_terminal

    return run_terminal(config_path=args.config)


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(
        config_path=args.config, headless=args.headless, out_dir=args.out, journey=args.journey
    )


def _doctor(args: argparse.Namespace) -> int:
    from .doctor import run_doctor

    return run_doctor(config_path=args.config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="24-hour government self-service terminal with smart lockers.",
    )
    parser.add_argument("--version", action="version", version=f"kiosk {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the terminal (full screen in kiosk mode)")
    add_config_argument(run)
    run.set_defaults(handler=_run)

    demo = commands.add_parser(
        "demo", help="start the firmware stubs and the app; headless it leaves screenshots"
    )
    add_config_argument(demo)
    demo.add_argument(
        "--headless", action="store_true", help="render off-screen (default when no display)"
    )
    demo.add_argument("--out", default="demo-out", metavar="DIR", help="screenshots folder")
    demo.add_argument("--journey", metavar="NAME", help="play a scripted journey (e.g. attract)")
    demo.set_defaults(handler=_demo)

    doctor = commands.add_parser(
        "doctor", help="check fonts, OpenGL, serial ports and services; one line per check"
    )
    add_config_argument(doctor)
    doctor.set_defaults(handler=_doctor)

    for module in (device_cli, stubs_cli, hall_cli, fleet_cli):
        module.register(commands, add_config_argument)
    return parser


def configure_logging() -> None:
    """Warnings and errors by default; KIOSK_LOG_LEVEL=INFO or DEBUG for more on site."""
    level = os.environ.get("KIOSK_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(
        level=level if level in logging.getLevelNamesMapping() else "WARNING",
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    for chatty in ("httpx", "httpcore"):  # one line per request: only when asked for DEBUG
        logging.getLogger(chatty).setLevel(max(logging.getLogger().level, logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        return int(args.handler(args))
    except ConfigError as err:
        print(f"kiosk: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except StorageError as err:
        print(f"kiosk: {err}", file=sys.stderr)
        return EXIT_IOERR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
