"""The `kiosk` command as a person types it: version, a broken config, the doctor's report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def kiosk(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KIOSK_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "bootstrap", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
    )


def test_version() -> None:
    done = kiosk("--version")
    assert done.returncode == 0
    assert re.fullmatch(r"kiosk \d+\.\d+\.\d+\S*", done.stdout.strip())


def test_a_wrong_key_stops_start_up_with_one_sentence(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[display]\nwidht = 800\n", encoding="utf-8")
    done = kiosk("run", "--config", str(broken))
    assert done.returncode == 78
    assert done.stderr.strip().count("\n") == 0
    assert "display.widht" in done.stderr
    assert str(broken) in done.stderr
    assert "Traceback" not in done.stderr


def test_doctor_prints_one_line_per_check_with_fixes(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    # Nothing listens on these ports: the device checks must fail, each with its fix.
    config.write_text(
        f"[storage]\ndata_dir = '{tmp_path / 'data'}'\n"
        "[hall]\nurl = 'http://127.0.0.1:9'\n"
        "[devices.idcard]\nport = 'socket://127.0.0.1:9'\n",
        encoding="utf-8",
    )
    done = kiosk("doctor", "--config", str(config), cwd=tmp_path)
    lines = done.stdout.strip().splitlines()
    checks, summary = lines[:-1], lines[-1]
    assert all(re.match(r"^(ok  |FAIL) \S", line) for line in checks), done.stdout
    names = " ".join(checks)
    for expected in ("configuration", "font (Chinese)", "opengl", "data folder", "id card reader"):
        assert expected in names
    card = next(line for line in checks if "id card reader" in line)
    assert card.startswith("FAIL")
    assert "socket://127.0.0.1:9" in card
    assert "fix:" in card
    hall = next(line for line in checks if "service hall" in line)
    assert hall.startswith("FAIL")
    assert "kiosk hall serve" in hall
    assert re.fullmatch(r"\d+ ok, \d+ failed", summary)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
