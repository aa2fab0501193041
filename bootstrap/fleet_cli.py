"""`kiosk fleet …`: the technicians' console, its CLI, broker set-up and the fleet simulator.

Everything heavy (paho, FastAPI, the simulator) is imported inside the handlers, so the terminal's
own commands never load them. The broker is `--broker URL`, else $KIOSK_FLEET_BROKER; the console's
signing key is `--key FILE`, else $KIOSK_FLEET_KEY, else fleet-console.key in the per-user config
folder (made by `kiosk fleet keygen`).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

if TYPE_CHECKING:
    from fleet_console.link import BrokerSettings

APP_NAME = "selfservice-kiosk"
BROKER_ENV_VAR = "KIOSK_FLEET_BROKER"
KEY_ENV_VAR = "KIOSK_FLEET_KEY"
EXIT_FAILED = 1  # the terminal answered FAILED, REJECTED or EXPIRED
EXIT_USAGE = 64  # sysexits.h EX_USAGE
EXIT_UNAVAILABLE = 69  # sysexits.h EX_UNAVAILABLE: the broker cannot be reached
EXIT_TEMPFAIL = 75  # sysexits.h EX_TEMPFAIL: no final answer in time; the command may still run
_ISSUER = re.compile(r"[^A-Za-z0-9_.@-]+")


def default_key_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "fleet-console.key"


def default_db_path() -> Path:
    folder = Path(platformdirs.user_data_dir(APP_NAME))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "fleet-console.db"


def _key_path(args: argparse.Namespace) -> Path:
    return Path(args.key or os.environ.get(KEY_ENV_VAR) or default_key_path()).expanduser()


def _default_issuer() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "technician"
    return _ISSUER.sub("-", name)[:64] or "technician"


def _broker(args: argparse.Namespace) -> BrokerSettings:
    from fleet_console.link import BrokerSettings

    url = args.broker or os.environ.get(BROKER_ENV_VAR)
    if not url:
        raise _Usage(f"say where the broker is: --broker mqtts://HOST:8883 or ${BROKER_ENV_VAR}")
    return BrokerSettings.from_url(
        url,
        password_file=args.password_file or "",
        username=args.username or "",
        ca_file=args.ca_file or "",
        client_cert_file=args.client_cert or "",
        client_key_file=args.client_key or "",
    )


class _Usage(Exception):
    pass


def _fail(message: str, code: int) -> int:
    print(f"kiosk fleet: {message}", file=sys.stderr)
    return code


# -- handlers ------------------------------------------------------------------------------------
def _keygen(args: argparse.Namespace) -> int:
    from fleet_console.keys import ConsoleKeyError, generate_key_pair

    path = _key_path(args)
    try:
        public = generate_key_pair(path)
    except ConsoleKeyError as err:
        return _fail(str(err), EXIT_USAGE)
    print(f"private key: {path} (keep it on this machine only)")
    print("Put this in every terminal's configuration:")
    print("[fleet]")
    print(f'console_public_key = "{public}"')
    return 0


def _broker_config(args: argparse.Namespace) -> int:
    from fleet_console.broker_setup import BrokerOptions, BrokerSetupError, write_broker_config

    terminals = list(args.terminal or [])
    if args.terminals_file:
        lines = Path(args.terminals_file).read_text(encoding="utf-8").splitlines()
        terminals += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    options = BrokerOptions(
        hostnames=tuple(args.hostname or ["localhost"]),
        port=args.port,
        folder_on_broker=args.folder_on_broker,
        max_connections=args.max_connections,
        console_users=tuple(args.console_user or ["fleet-console"]),
    )
    try:
        files = write_broker_config(Path(args.out), terminals, options)
    except BrokerSetupError as err:
        return _fail(str(err), EXIT_USAGE)
    print(f"broker files in {files.folder}: mosquitto.conf, acl, passwd, ca.crt, server.crt/key")
    print(f"copy them to {options.folder_on_broker} on the broker; give each terminal ca.crt and")
    print(f"its own password file from {files.folder / 'credentials'} ({len(terminals)} terminals)")
    return 0


def _console(args: argparse.Namespace) -> int:
    from fleet_console.console import ConsoleOptions, RunningConsole
    from fleet_console.keys import ConsoleKeyError, load_private_key
    from fleet_console.link import LinkError

    key = None
    path = _key_path(args)
    if path.exists():
        try:
            key = load_private_key(path)
        except ConsoleKeyError as err:
            return _fail(str(err), EXIT_USAGE)
    try:
        options = ConsoleOptions(
            broker=_broker(args),
            database=Path(args.db) if args.db else default_db_path(),
            console_id=args.console_id,
            issuer=args.issuer or _default_issuer(),
            signing_key=key,
            host=args.host,
            port=args.port,
            allowed_hosts=tuple(args.allowed_host or ()),
        )
        console = RunningConsole(options)
    except (_Usage, LinkError) as err:
        return _fail(str(err), EXIT_USAGE)
    except OSError as err:
        return _fail(f"cannot listen on {args.host}:{args.port} ({err.strerror}).", EXIT_USAGE)
    mode = "commands signed" if key is not None else f"read-only: no key at {path}"
    # Tests that start the console as a subprocess with --port 0 read this line to find it.
    print(f"fleet console on {console.url} ({mode}; broker {options.broker.url})", flush=True)
    try:
        console.serve_forever()
    except LinkError as err:
        return _fail(str(err), EXIT_UNAVAILABLE)
    return 0


def _snapshot_link(args: argparse.Namespace, telemetry: str | None) -> Any:
    from fleet_console.ingest import Ingest
    from fleet_console.link import ConsoleLink
    from fleet_console.store import ConsoleStore

    store = ConsoleStore(Path(tempfile.mkdtemp(prefix="kiosk-fleet-")) / "cli.db")
    ingest = Ingest(store, time.time)
    key = None
    if getattr(args, "needs_key", False):
        from fleet_console.keys import load_private_key

        key = load_private_key(_key_path(args))
    return ConsoleLink(
        _broker(args),
        ingest,
        console_id=f"cli-{uuid.uuid4().hex[:8]}",
        issuer=getattr(args, "issuer", None) or _default_issuer(),
        signing_key=key,
        telemetry_filter=telemetry,
    )


def _wait_quiet(link: Any, quiet_s: float, limit_s: float) -> None:
    """Retained messages arrive in a burst after SUBSCRIBE: stop once nothing came for a while."""
    deadline = time.monotonic() + limit_s
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        if link.messages_seen != seen:
            seen, since = link.messages_seen, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.05)  # polling a counter, not synchronising a test


def _status(args: argparse.Namespace) -> int:
    from fleet_console.link import LinkError

    try:
        link = _snapshot_link(args, "homie/5/#")
        link.start(args.wait)
    except (_Usage, LinkError) as err:
        return _fail(str(err), EXIT_UNAVAILABLE if isinstance(err, LinkError) else EXIT_USAGE)
    try:
        _wait_quiet(link, 0.5, args.wait)
        terminals = link.store.terminals()
        devices = {t.device_id: _device_states(link.store.values(t.device_id)) for t in terminals}
    finally:
        link.stop()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "device_id": t.device_id,
                        "state": t.state,
                        "urgency": t.urgency_label,
                        "devices": devices[t.device_id],
                        "alerts": [
                            {"id": a.alert_id, "severity": a.severity.value, "text": a.text_en}
                            for a in t.alerts
                        ],
                    }
                    for t in terminals
                ],
                ensure_ascii=False,
                indent=1,
            )
        )
        return 0
    if not terminals:
        print("no terminal has reported to this broker")
        return 0
    width = max(len(t.device_id) for t in terminals)
    for t in terminals:
        first = t.alerts[0].text_en if t.alerts else ""
        more = f" (+{len(t.alerts) - 1} more)" if len(t.alerts) > 1 else ""
        print(f"{t.device_id:<{width}}  {t.state:<12} {t.urgency_label:<9} {first}{more}")
    return 0


def _device_states(values: dict[str, dict[str, str]]) -> dict[str, str]:
    """Each device node's health (printer, locker-a, idcard, …): the nodes that carry a state."""
    return {node: props["state"] for node, props in sorted(values.items()) if "state" in props}


def _cmd(args: argparse.Namespace) -> int:
    from fleet_console.commands import CommandArgumentError, build_args, parse_settings
    from fleet_console.keys import ConsoleKeyError
    from fleet_console.link import LinkError
    from fleet_console.protocol import ProtocolError, Reply, device_id_for

    try:
        device = device_id_for(args.terminal)
    except ProtocolError as err:
        return _fail(str(err), EXIT_USAGE)
    version_topic = f"homie/5/{device}/system/config-version"
    try:
        values = parse_settings(args.set or []) if args.set else None
        args.needs_key = True
        link = _snapshot_link(args, version_topic if args.command_name == "set-config" else None)
        link.start(args.wait)
    except (_Usage, CommandArgumentError, ConsoleKeyError) as err:
        return _fail(str(err), EXIT_USAGE)
    except LinkError as err:
        return _fail(str(err), EXIT_UNAVAILABLE)
    final = threading.Event()
    replies: list[Reply] = []

    def heard(owner: str, reply: Reply) -> None:
        replies.append(reply)
        detail = f": {reply.detail}" if reply.detail else ""
        print(f"{owner} {reply.status.value}{detail}", flush=True)
        if reply.status.is_final:
            final.set()

    link.ingest.on_reply(heard)
    try:
        version = args.config_version
        if args.command_name == "set-config" and version is None:
            _wait_quiet(link, 0.3, 3.0)
            reported = link.store.values(device).get("system", {}).get("config-version", "0")
            version = int(reported) + 1 if reported.isdigit() else 1
        command_args = build_args(
            args.command_name,
            compartment=args.compartment,
            reason=args.reason or "",
            lines=args.lines,
            values=values,
            version=version,
            active=not args.off,
            message_zh=args.message_zh or "",
            message_en=args.message_en or "",
        )
        command = link.send(device, args.command_name, command_args)
        print(
            f"sent {args.command_name} {json.dumps(command_args, ensure_ascii=False)} "
            f"to {device} as {command.id}",
            flush=True,
        )
        if not final.wait(args.wait):
            return _fail(
                f"no final answer from {device} within {args.wait:.0f} s; it may be offline "
                f"(the command expires at {command.expires_at}, then it can no longer run).",
                EXIT_TEMPFAIL,
            )
    except CommandArgumentError as err:
        return _fail(str(err), EXIT_USAGE)
    finally:
        link.stop()
    last = replies[-1]
    _show_result(device, args, last.result, link)
    return 0 if last.status.value == "SUCCEEDED" else EXIT_FAILED


def _show_result(device: str, args: argparse.Namespace, result: Any, link: Any) -> None:
    if args.command_name == "screenshot":
        shot = link.store.screenshot(device)
        if shot is not None:
            out = Path(args.out or f"{device}-screenshot.png")
            out.write_bytes(shot[0])
            print(f"screenshot saved to {out} ({len(shot[0])} bytes)")
        return
    if args.command_name == "logs" and isinstance(result, dict):
        for line in result.get("lines", []):
            print(line)
        return
    if result not in (None, {}, []):
        print(json.dumps(result, ensure_ascii=False, indent=1))


def _simulate(args: argparse.Namespace) -> int:
    from fleet_console.simulator import SimulatorError, run_simulator

    url = args.broker or os.environ.get(BROKER_ENV_VAR) or "mqtt://127.0.0.1:1883"
    public = ""
    if args.console_public_key:
        public = args.console_public_key
    else:
        pub_file = _key_path(args).with_name(_key_path(args).name + ".pub")
        if pub_file.exists():
            public = pub_file.read_text(encoding="ascii").strip()
    try:
        return run_simulator(
            url,
            args.terminals,
            prefix=args.prefix,
            console_public_key=public,
            fault_every_s=args.fault_every,
            duration_s=args.duration,
            password=args.password or "",
            password_dir=args.password_dir or "",
            ca_file=args.ca_file or "",
        )
    except SimulatorError as err:
        return _fail(str(err), EXIT_USAGE)


# -- parser --------------------------------------------------------------------------------------
def _with_broker(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--broker", metavar="URL", help=f"mqtts://HOST:8883 (${BROKER_ENV_VAR})")
    parser.add_argument("--username", help="broker account (default: from the URL)")
    parser.add_argument("--password-file", metavar="FILE", help="file holding its password")
    parser.add_argument("--ca-file", metavar="FILE", help="CA certificate of the broker (mqtts)")
    parser.add_argument("--client-cert", metavar="FILE", help="client certificate (optional)")
    parser.add_argument("--client-key", metavar="FILE", help="its private key (optional)")
    return parser


def _with_key(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--key", metavar="FILE", help=f"console signing key (${KEY_ENV_VAR})")
    return parser


def register(commands: Any, add_config_argument: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the `fleet` sub-command to the `kiosk` parser."""
    fleet = commands.add_parser("fleet", help="technicians: fleet console, commands, broker set-up")
    sub = fleet.add_subparsers(dest="fleet_command", required=True, metavar="ACTION")

    keygen = _with_key(sub.add_parser("keygen", help="make the console's Ed25519 signing key"))
    keygen.set_defaults(handler=_keygen)

    broker = sub.add_parser(
        "broker-config", help="CA, broker certificate, accounts and ACL for Mosquitto"
    )
    broker.add_argument("--out", required=True, metavar="DIR", help="folder to write (or extend)")
    broker.add_argument("--terminal", action="append", metavar="ID", help="repeatable")
    broker.add_argument("--terminals-file", metavar="FILE", help="one terminal id per line")
    broker.add_argument("--hostname", action="append", metavar="NAME", help="broker's DNS or IP")
    broker.add_argument("--port", type=int, default=8883)
    broker.add_argument("--folder-on-broker", default="/etc/mosquitto/fleet", metavar="DIR")
    broker.add_argument("--max-connections", type=int, default=10000)
    broker.add_argument("--console-user", action="append", metavar="NAME")
    broker.set_defaults(handler=_broker_config)

    console = _with_key(_with_broker(sub.add_parser("console", help="serve the web dashboard")))
    console.add_argument("--host", default="127.0.0.1")
    console.add_argument("--port", type=int, default=8780, help="0 picks a free port")
    console.add_argument(
        "--allowed-host",
        action="append",
        metavar="NAME",
        help="a host name the console may be reached by, e.g. behind a proxy (repeatable; the "
        "loopback names and --host are always allowed)",
    )
    console.add_argument("--db", metavar="FILE", help="console store (default: per-user data)")
    console.add_argument("--console-id", default="console", help="names the reply topics")
    console.add_argument("--issuer", help="name signed into commands (default: your login)")
    console.set_defaults(handler=_console)

    status = _with_broker(sub.add_parser("status", help="every terminal, most urgent first"))
    status.add_argument("--wait", type=float, default=5.0, metavar="S")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=_status)

    cmd = _with_key(_with_broker(sub.add_parser("cmd", help="send one signed command")))
    cmd.add_argument("terminal", help="terminal id or device id (gz-cili-001)")
    cmd.add_argument("command_name", metavar="COMMAND", help="open-compartment, screenshot, …")
    cmd.add_argument("compartment", nargs="?", type=int, help="compartment number")
    cmd.add_argument("--reason", help="required to open or take out a compartment (audited)")
    cmd.add_argument("--lines", type=int, help="logs: how many")
    cmd.add_argument("--set", action="append", metavar="KEY=VALUE", help="set-config (repeat)")
    cmd.add_argument("--config-version", type=int, help="set-config (default: reported + 1)")
    cmd.add_argument("--off", action="store_true", help="set-out-of-service: back in service")
    cmd.add_argument("--message-zh", help="set-out-of-service: notice on the screen")
    cmd.add_argument("--message-en")
    cmd.add_argument("--out", metavar="FILE", help="screenshot: where to save the PNG")
    cmd.add_argument("--issuer", help="name signed into the command (default: your login)")
    cmd.add_argument("--wait", type=float, default=30.0, metavar="S")
    cmd.set_defaults(handler=_cmd)

    simulate = _with_key(sub.add_parser("simulate", help="N simulated terminals on a broker"))
    simulate.add_argument("--broker", metavar="URL", help="default mqtt://127.0.0.1:1883")
    simulate.add_argument("--terminals", type=int, default=10)
    simulate.add_argument("--prefix", default="sim")
    simulate.add_argument("--password", help="the simulated terminals' broker password")
    simulate.add_argument(
        "--password-dir",
        metavar="DIR",
        help="one <id>.password per terminal: the credentials/ of `kiosk fleet broker-config`",
    )
    simulate.add_argument("--ca-file", metavar="FILE", help="CA certificate of the broker (mqtts)")
    simulate.add_argument("--console-public-key", help="default: the .pub next to --key")
    simulate.add_argument("--fault-every", type=float, default=60.0, metavar="S")
    simulate.add_argument("--duration", type=float, metavar="S", help="default: until Ctrl-C")
    simulate.set_defaults(handler=_simulate)
