"""The PyInstaller bundle builds and runs the terminal headless, with no .venv on its path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("bundle")
    pyinstaller = Path(sys.executable).with_name("pyinstaller")
    subprocess.run(
        [
            str(pyinstaller),
            "--noconfirm",
            "--log-level",
            "WARN",
            "--workpath",
            str(work / "build"),
            "--distpath",
            str(work / "dist"),
            str(ROOT / "kiosk.spec"),
        ],
        cwd=ROOT,
        check=True,
        timeout=900,
    )
    executable = work / "dist" / "kiosk" / "kiosk"
    assert executable.is_file()
    return executable


def clean_env(home: Path) -> dict[str, str]:
    """No display, no virtualenv, a fresh home: what a freshly installed terminal sees."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "DISPLAY"}}
    env["HOME"] = str(home)
    env["PATH"] = "/usr/bin:/bin"
    return env


def test_bundle_reports_its_version(bundle: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(bundle), "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("kiosk ")


def test_bundle_runs_the_demo_headless(bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "shots"
    done = subprocess.run(
        [str(bundle), "demo", "--headless", "--journey", "attract", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env(tmp_path),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    journey = json.loads((out / "journey.json").read_text(encoding="utf-8"))
    assert journey["outcome"] == "passed"
    shots = sorted(out.glob("*.png"))
    assert len(shots) >= 3
    assert all(shot.stat().st_size > 10_000 for shot in shots)


def test_bundle_refuses_a_broken_config_in_one_sentence(bundle: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[terminal]\nhotlnie = '12345'\n", encoding="utf-8")
    done = subprocess.run(
        [str(bundle), "run", "--config", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(tmp_path),
    )
    assert done.returncode == 78
    assert "terminal.hotlnie" in done.stderr
    assert "Traceback" not in done.stderr


def test_bundle_leaves_out_tests_and_the_hall(bundle: Path) -> None:
    internal = bundle.parent / "_internal"
    assert not (internal / "service_hall").exists()
    assert not (internal / "tests").exists()
    assert shutil.which("kiosk", path=str(bundle.parent))
