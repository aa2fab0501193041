"""The demo joins a fleet only when it can, and never redirects a terminal that already has one."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

import bootstrap.demo as demo
from kiosk.config import FleetSettings, Settings


def test_a_configuration_that_already_joins_a_fleet_keeps_its_broker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    own = FleetSettings(
        enabled=True, broker_url="mqtts://fleet.example.gov.cn:8883", console_public_key="abc="
    )
    settings = Settings(fleet=own)
    with contextlib.ExitStack() as stack:
        assert demo.join_demo_fleet(stack, settings, tmp_path / "fleet") is settings
    assert "mqtts://fleet.example.gov.cn:8883 (from your configuration)" in capsys.readouterr().out
    assert not (tmp_path / "fleet").exists()  # no key pair made for it


def test_without_mosquitto_one_sentence_says_fleet_monitoring_is_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "MOSQUITTO", str(tmp_path / "no-such-mosquitto"))
    settings = Settings()
    with contextlib.ExitStack() as stack:
        assert demo.join_demo_fleet(stack, settings, tmp_path / "fleet") is settings
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert "fleet monitoring is off in this demo" in out[0]
    assert "mosquitto" in out[0]
