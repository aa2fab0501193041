"""A real Mosquitto set up as a fleet broker: TLS only, no anonymous access, per-terminal accounts
and the fleet ACL, all made by `fleet_console.broker_setup` (what `kiosk fleet broker-config`
ships), on a free loopback port.

Use `secure_fleet_broker(tmp_path, ["gz-cili-001", ...])` as a context manager; it yields the
running broker with the generated files (CA certificate, clear passwords) for the test's clients.
"""

from __future__ import annotations

import contextlib
import getpass
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from fleet_console.broker_setup import BrokerFiles, BrokerOptions, write_broker_config
from tests.support.mosquitto import MOSQUITTO, free_port


@dataclass
class SecureBroker:
    files: BrokerFiles
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"mqtts://localhost:{self.port}"

    def password(self, user: str) -> str:
        return self.files.passwords[user].read_text(encoding="utf-8").strip()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _tls_listening(port: int, ca_file: Path) -> bool:
    context = ssl.create_default_context(cafile=str(ca_file))
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=0.5) as raw,
            context.wrap_socket(raw, server_hostname="localhost"),
        ):
            return True
    except (OSError, ssl.SSLError):
        return False


@contextlib.contextmanager
def secure_fleet_broker(
    folder: Path, terminals: Sequence[str], timeout_s: float = 15.0
) -> Iterator[SecureBroker]:
    if shutil.which(MOSQUITTO) is None:
        raise RuntimeError(f"{MOSQUITTO} is not installed; install the Debian package 'mosquitto'.")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    options = BrokerOptions(
        hostnames=("localhost", "127.0.0.1"),
        listen_address="127.0.0.1",
        port=port,
        folder_on_broker=str(folder),
        persistence=False,
        # Debian's mosquitto started as root drops to user `mosquitto`, who could not read the
        # 0600 keys the generator writes; a test broker keeps the user that started it.
        extra_lines=(f"user {getpass.getuser()}",),
    )
    files = write_broker_config(folder, terminals, options)
    log_path = folder / "mosquitto.log"
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [MOSQUITTO, "-c", str(files.config)], stdout=log_file, stderr=log_file
        )
    broker = SecureBroker(files, port, process, log_path)
    try:
        deadline = time.monotonic() + timeout_s
        while not _tls_listening(port, files.ca_certificate):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the secure mosquitto did not start: {broker.log()[-800:]}")
            time.sleep(0.05)
        yield broker
    finally:
        broker.stop()
