"""`kiosk doctor`: one line per check, ok or FAIL, and for each failure the fix.

The person running it is a technician on site or a new developer; every line must tell them what
to do next. Checks run in parallel with short timeouts so a dead port does not stall the report.
"""

from __future__ import annotations

import ctypes.util
import functools
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kiosk.config import Settings, load_settings, resolve_config_path

CHECK_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        status = "ok  " if self.ok else "FAIL"
        fix = f" — fix: {self.fix}" if not self.ok and self.fix else ""
        return f"{status} {self.name:<22} {self.detail}{fix}"


Check = Callable[[], CheckResult]


def check_python() -> CheckResult:
    version = ".".join(map(str, sys.version_info[:3]))
    ok = sys.version_info[:2] == (3, 11)
    return CheckResult("python", ok, f"Python {version}", "use Python 3.11 (make bootstrap)")


def check_font(settings: Settings) -> CheckResult:
    from .fonts import find_cjk_font

    font = find_cjk_font(settings.display.font_path)
    if font.path is None:
        return CheckResult(
            "font (Chinese)",
            False,
            "no CJK font found: Chinese would show as empty boxes",
            "apt-get install fonts-wqy-microhei, or set [display] font_path",
        )
    return CheckResult("font (Chinese)", True, f"{font.path} ({font.found_by})")


def check_opengl() -> CheckResult:
    """Open a Kivy window in a child process (off-screen without a display) and read GL_VERSION."""
    env = dict(os.environ, KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", KIVY_NO_FILELOG="1")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        env["SDL_VIDEODRIVER"] = "offscreen"
    probe = (
        "from kivy.core.window import Window\n"
        "from kivy.graphics.opengl import glGetString, GL_VERSION, GL_RENDERER\n"
        "print(glGetString(GL_VERSION).decode(), '/', glGetString(GL_RENDERER).decode())\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=20
        )
    except subprocess.TimeoutExpired:
        return CheckResult(
            "opengl", False, "opening a window took over 20 s", "check the GPU driver"
        )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        return CheckResult(
            "opengl",
            False,
            "no OpenGL window could be opened",
            "apt-get install libegl1 libgl1-mesa-dri (or set SDL_VIDEODRIVER=offscreen)",
        )
    return CheckResult("opengl", True, lines[-1])


def check_library(name: str, library: str, package: str, purpose: str) -> CheckResult:
    found = ctypes.util.find_library(library)
    if found:
        return CheckResult(name, True, found)
    return CheckResult(
        name, False, f"lib{library} missing: {purpose}", f"apt-get install {package}"
    )


def check_program(name: str, program: str, package: str, purpose: str) -> CheckResult:
    found = shutil.which(program)
    if found:
        return CheckResult(name, True, found)
    return CheckResult(name, False, f"{program} missing: {purpose}", f"apt-get install {package}")


def check_data_folder(settings: Settings) -> CheckResult:
    from .paths import data_dir

    try:
        folder = data_dir(settings)
        probe = folder / ".doctor-write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as err:
        return CheckResult(
            "data folder",
            False,
            f"cannot write: {err}",
            "set [storage] data_dir to a writable folder",
        )
    free_mb = shutil.disk_usage(folder).free // (1024 * 1024)
    ok = free_mb >= 200
    return CheckResult(
        "data folder", ok, f"{folder} ({free_mb} MB free)", "free disk space (200 MB needed)"
    )


def check_database(settings: Settings) -> CheckResult:
    from kiosk.storage import DATABASE_FILE_NAME, Database, StorageError

    from .paths import data_dir

    path = data_dir(settings) / DATABASE_FILE_NAME
    try:
        database = Database.open(path)
        try:
            database.check_integrity(quick=True)
            detail = (
                f"{path} (schema {database.schema_version()}, "
                f"journal {database.pragma_value('journal_mode')})"
            )
        finally:
            database.close()
    except StorageError as err:
        return CheckResult(
            "database", False, str(err), "move the file aside; the terminal starts a new one"
        )
    return CheckResult("database", True, detail)


def _stub_fix(url: str) -> str:
    host = urlsplit(url).hostname or ""
    if host in {"127.0.0.1", "localhost"}:
        return "start the firmware stubs (kiosk stubs start) or point the config at the device"
    return "check the cable, the power and the port name (and that the user is in group dialout)"


def check_serial_port(name: str, url: str, baud: int) -> CheckResult:
    import serial

    try:
        port = serial.serial_for_url(url, baudrate=baud, timeout=0.1, do_not_open=True)
        port.open()
        port.close()
    except (serial.SerialException, OSError, ValueError) as err:
        return CheckResult(name, False, f"{url}: cannot open ({err})", _stub_fix(url))
    return CheckResult(name, True, f"{url} opens at {baud} baud")


def check_tcp(name: str, url: str, default_port: int, what: str) -> CheckResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=CHECK_TIMEOUT_S):
            pass
    except OSError as err:
        return CheckResult(
            name,
            False,
            f"{what} at {host}:{port} unreachable ({err.strerror or err})",
            _stub_fix(url),
        )
    return CheckResult(name, True, f"{what} at {host}:{port} reachable")


def check_printer(url: str) -> CheckResult:
    scheme = urlsplit(url).scheme
    if scheme == "tcp":
        return check_tcp("printer", url, 9100, "network printer")
    if scheme == "file":
        folder = Path(urlsplit(url).path).parent
        ok = folder.is_dir() and os.access(folder, os.W_OK)
        return CheckResult("printer", ok, f"{url}", f"make {folder} a writable folder")
    if scheme == "usb":
        return CheckResult("printer", True, f"{url} (USB is checked when the first job prints)")
    return check_serial_port("printer", url, 9600)


def check_hall(settings: Settings) -> CheckResult:
    import httpx

    url = settings.hall.url.rstrip("/")
    try:
        response = httpx.get(f"{url}/openapi.json", timeout=CHECK_TIMEOUT_S)
    except httpx.HTTPError as err:
        return CheckResult(
            "service hall",
            False,
            f"{url} unreachable ({err.__class__.__name__})",
            "start it (kiosk hall serve) or fix [hall] url; the terminal works offline meanwhile",
        )
    ok = response.status_code == 200
    return CheckResult(
        "service hall", ok, f"{url} answered {response.status_code}", "check [hall] url"
    )


def all_checks(settings: Settings) -> list[Check]:
    devices = settings.devices
    checks: list[Check] = [
        check_python,
        lambda: check_font(settings),
        check_opengl,
        lambda: check_library("zbar (QR decoding)", "zbar", "libzbar0", "QR codes cannot be read"),
        lambda: check_program("espeak-ng (voice)", "espeak-ng", "espeak-ng", "no spoken prompts"),
        lambda: check_data_folder(settings),
        lambda: check_database(settings),
        lambda: check_hall(settings),
    ]
    for column in devices.locker_columns:
        label = f"lockers {column.name}"
        if column.transport == "serial":
            baud = column.baud or (19200 if column.protocol == "kerong-cu16" else 9600)
            checks.append(functools.partial(check_serial_port, label, column.port, baud))
        else:
            checks.append(functools.partial(check_tcp, label, column.broker, 1883, "MQTT broker"))
    if devices.idcard.enabled:
        checks.append(
            lambda: check_serial_port("id card reader", devices.idcard.port, devices.idcard.baud)
        )
    if devices.scanner.enabled:
        checks.append(
            lambda: check_serial_port("barcode scanner", devices.scanner.port, devices.scanner.baud)
        )
    if devices.printer.enabled:
        checks.append(lambda: check_printer(devices.printer.url))
    return checks


def run_doctor(config_path: str | None) -> int:
    path = resolve_config_path(config_path)
    settings = load_settings(path)
    print(f"ok   {'configuration':<22} {path or 'built-in demo defaults'}")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda check: check(), all_checks(settings)))
    for result in results:
        print(result.line())
    failed = sum(not result.ok for result in results)
    print(f"{len(results) + 1 - failed} ok, {failed} failed")
    return 0 if failed == 0 else 1
