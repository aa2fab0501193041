"""Configuration: the example documents the defaults, and every mistake is one plain sentence."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kiosk.config import ConfigError, Settings, load_settings, resolve_config_path

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_file_is_exactly_the_defaults() -> None:
    with (ROOT / "kiosk.example.toml").open("rb") as handle:
        assert Settings.model_validate(tomllib.load(handle)) == Settings()


def test_no_file_means_the_demo_defaults() -> None:
    settings = load_settings(None)
    assert settings.terminal.hotline == "12345"
    assert settings.devices.locker_columns[0].port.startswith("socket://127.0.0.1:")
    assert len(settings.devices.locker_columns[0].compartments) == 16


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[terminal]\nhotlnie = '1'\n", "unknown key 'terminal.hotlnie'"),
        ("[terminl]\nid = 'x'\n", "unknown key 'terminl'"),
        ("[idle]\nwarn_after_s = 'soon'\n", "key 'idle.warn_after_s' is invalid (got 'soon')"),
        ("[idle]\nwarn_after_s = -1\n", "greater than 0"),
        ("[terminal]\ndefault_language = 'fr'\n", "'zh-CN' or 'en'"),
        ("[devices.printer]\nurl = ''\n", "devices.printer.url"),
        (
            "[[devices.locker_columns]]\nname='A'\n[[devices.locker_columns.compartments]]\n"
            "number=1\nlock=1\nsize='XL'\nrow=1\n",
            "devices.locker_columns[0].compartments[0].size",
        ),
        (
            "[[devices.locker_columns]]\nname='A'\n[[devices.locker_columns]]\nname='B'\n",
            "compartment numbers must be unique",
        ),
        ("terminal = [\n", "not valid TOML"),
    ],
)
def test_a_mistake_is_one_sentence_naming_file_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def test_missing_and_non_utf8_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes("[terminal]\nname_zh = '\u00e9'\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(latin)


def test_config_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_config_path(None, {}) is None
    write(tmp_path, "")
    assert resolve_config_path(None, {}) == Path("kiosk.toml")
    assert resolve_config_path(None, {"KIOSK_CONFIG": "/etc/k.toml"}) == Path("/etc/k.toml")
    assert resolve_config_path("cli.toml", {"KIOSK_CONFIG": "/etc/k.toml"}) == Path("cli.toml")
