"""`kiosk hall …` sub-commands: run the reference service hall and manage its registry.

The hall is imported inside the handlers, so the terminal's own commands never load FastAPI or
SQLAlchemy. The database is `--db URL`, else $KIOSK_HALL_DB, else hall.db in the per-user data
folder; PostgreSQL works with a `postgresql+psycopg://…` URL once its driver is installed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

if TYPE_CHECKING:
    from service_hall.service import HallService

DB_ENV_VAR = "KIOSK_HALL_DB"
EXIT_USAGE = 64  # sysexits.h EX_USAGE


def default_db_url() -> str:
    folder = Path(platformdirs.user_data_dir("selfservice-kiosk"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'hall.db'}"


def _db_url(args: argparse.Namespace) -> str:
    return str(args.db or os.environ.get(DB_ENV_VAR) or default_db_url())


def _service(
    args: argparse.Namespace, public_url: str | None = None, **settings: Any
) -> HallService:
    from service_hall.service import HallConfig, HallService

    if public_url:
        settings["public_base_url"] = public_url
    return HallService(HallConfig(db_url=_db_url(args), **settings))


def _serve(args: argparse.Namespace) -> int:
    from service_hall.server import bind, serve_forever

    try:
        sock = bind(args.host, args.port)
    except OSError as err:
        print(
            f"kiosk hall: cannot listen on {args.host}:{args.port} ({err.strerror}).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    port = sock.getsockname()[1]
    url = f"http://{args.host}:{port}"
    service = _service(args, args.public_url or url, reminder_before_h=args.reminder_before_h)
    # Tests that start the hall as a subprocess with --port 0 read this line to find it.
    print(
        f"service hall listening on {url} (database {_redact(service.config.db_url)})", flush=True
    )
    try:
        serve_forever(service, sock)
    finally:
        service.close()
    return 0


def _redact(url: str) -> str:
    """Never print a database password to a terminal or a log."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


def _seed(args: argparse.Namespace) -> int:
    from service_hall.seed import seed

    service = _service(args)
    report = seed(
        service,
        staff_password=args.staff_password,
        courier_pin=args.courier_pin,
        agent_pin=args.agent_pin,
    )
    print(f"catalog version {service.catalog_version()}")
    if report.kiosk_token:
        print(f"kiosk {report.kiosk_id} token: {report.kiosk_token}")
    else:
        print(f"kiosk {report.kiosk_id} already registered (new token: kiosk hall add-kiosk)")
    if report.courier_pin:
        print(f"courier card {report.courier_card} PIN: {report.courier_pin}")
    print(f"courier {report.courier_card} also signs in with ID card {report.courier_id_number}")
    if report.agent_pin:
        print(f"village agent card {report.agent_card} PIN: {report.agent_pin}")
    if report.staff_password:
        print(f"staff user {report.staff_user} password: {report.staff_password}")
    print(f"sample citizen ID number (with e-licences): {report.citizen_id_number}")
    service.close()
    return 0


def _add_kiosk(args: argparse.Namespace) -> int:
    service = _service(args)
    kiosk_id, token = service.add_kiosk(args.name, args.id)
    service.close()
    print(f"kiosk {kiosk_id} token: {token}")
    print("Put it in the terminal's configuration as [hall] token; it is shown only once.")
    return 0


def _add_courier(args: argparse.Namespace) -> int:
    from service_hall.errors import HallError

    service = _service(args)
    try:
        service.add_courier(
            args.card_id, args.name, args.pin, args.role, args.kiosk or [], args.id_number
        )
    except HallError as err:
        print(f"kiosk hall: {err.message}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        service.close()
    where = ", ".join(args.kiosk) if args.kiosk else "every kiosk"
    print(
        f"{args.role} {args.card_id} ({args.name}) may open {where}; kiosks get it at roster sync."
    )
    return 0


def _add_staff(args: argparse.Namespace) -> int:
    from service_hall.errors import HallError

    service = _service(args)
    try:
        service.add_staff(args.username, args.password, args.display_name or args.username)
    except HallError as err:
        print(f"kiosk hall: {err.message}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        service.close()
    print(f"staff user {args.username} can log in at /staff/login")
    return 0


def register(commands: Any, add_config_argument: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the `hall` sub-command to the `kiosk` parser."""
    hall = commands.add_parser("hall", help="the reference online service hall (server side)")
    sub = hall.add_subparsers(dest="hall_command", required=True, metavar="ACTION")

    def with_db(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument(
            "--db", metavar="URL", help=f"SQLAlchemy URL (default: ${DB_ENV_VAR}, else hall.db)"
        )
        return parser

    serve = with_db(sub.add_parser("serve", help="run the HTTP API and the staff UI"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700, help="0 picks a free port")
    serve.add_argument(
        "--public-url", metavar="URL", help="base of payment links (default: the listen URL)"
    )
    serve.add_argument(
        "--reminder-before-h",
        type=float,
        default=24.0,
        metavar="HOURS",
        help="text a reminder this long before a result's pickup deadline (default 24)",
    )
    serve.set_defaults(handler=_serve)

    seed = with_db(sub.add_parser("seed", help="sample catalog, demo kiosk, courier, staff user"))
    seed.add_argument("--staff-password", metavar="TEXT", help="default: random, printed")
    seed.add_argument("--courier-pin", metavar="DIGITS", help="default: random, printed")
    seed.add_argument(
        "--agent-pin", metavar="DIGITS", help="village agent C-0002 (default: random, printed)"
    )
    seed.set_defaults(handler=_seed)

    add_kiosk = with_db(sub.add_parser("add-kiosk", help="register a kiosk and print its token"))
    add_kiosk.add_argument("name")
    add_kiosk.add_argument(
        "--id", help="kiosk id (default: generated); reusing one rotates its token"
    )
    add_kiosk.set_defaults(handler=_add_kiosk)

    courier = with_db(
        sub.add_parser("add-courier", help="add or update a courier or village agent")
    )
    courier.add_argument("card_id")
    courier.add_argument("name")
    courier.add_argument("--pin", required=True, help="4 to 8 digits")
    courier.add_argument("--role", choices=("courier", "village_agent"), default="courier")
    courier.add_argument(
        "--id-number",
        metavar="ID",
        help="their resident ID number, so their own ID card signs them in (only a hash is kept)",
    )
    courier.add_argument(
        "--kiosk", action="append", metavar="ID", help="limit to this kiosk (repeatable)"
    )
    courier.set_defaults(handler=_add_courier)

    staff = with_db(sub.add_parser("add-staff", help="add a staff account or reset its password"))
    staff.add_argument("username")
    staff.add_argument("--password", required=True)
    staff.add_argument("--display-name")
    staff.set_defaults(handler=_add_staff)
