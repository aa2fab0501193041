"""The real espeak-ng renders Mandarin and English prompts into the cache, as at start-up."""

from __future__ import annotations

import shutil
import threading
import wave
from pathlib import Path

import pytest

from devices.voice import SpokenPrompts, VoiceRenderer
from kiosk.config import Language
from kiosk.ports.health import HealthState
from kiosk.ports.voice import Prompt, PromptRendered

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")

WAIT_S = 60.0
PROMPTS = {
    "zh-CN": "请把纸质材料放进三号柜格，然后关好柜门。",
    "en": "Please put your paper documents into box three, then close the door.",
}


def wav_duration_s(path: Path) -> float:
    with wave.open(str(path), "rb") as audio:
        return audio.getnframes() / audio.getframerate()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_prompt_becomes_a_wav_of_speech(tmp_path: Path, language: Language) -> None:
    renderer = VoiceRenderer(tmp_path / "voice")
    path = renderer.render(PROMPTS[language], language)
    assert path.parent == tmp_path / "voice"
    assert path.read_bytes()[:4] == b"RIFF"
    assert path.read_bytes()[8:12] == b"WAVE"
    assert wav_duration_s(path) > 0.3
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file left"
    assert renderer.health().state is HealthState.OK
    # the second time comes from the cache: same file, untouched content
    before = path.read_bytes()
    assert renderer.render(PROMPTS[language], language) == path
    assert path.read_bytes() == before


def test_a_prompt_starting_with_a_dash_is_spoken_not_taken_as_an_option(tmp_path: Path) -> None:
    renderer = VoiceRenderer(tmp_path)
    assert wav_duration_s(renderer.render("-v xx -w /tmp/nope two minus signs", "en")) > 0.3


def test_the_configured_voices_exist_and_an_unknown_one_is_caught(tmp_path: Path) -> None:
    """espeak-ng speaks an unknown voice with its English default, exit 0: only a check sees it."""
    assert VoiceRenderer(tmp_path).missing_voices() == []
    renderer = VoiceRenderer(tmp_path, voices={"zh-CN": "cmn", "en": "no-such-voice-xx"})
    assert renderer.missing_voices() == ["no-such-voice-xx"]
    health = renderer.health()
    assert health.state is HealthState.DEGRADED
    assert "no voice 'no-such-voice-xx'" in health.reason
    assert "espeak-ng --voices" in health.reason


def test_prerender_fills_the_cache_in_the_background(tmp_path: Path) -> None:
    renderer = VoiceRenderer(tmp_path)
    prompts = [Prompt(f"hand_in.{lang}", text, lang) for lang, text in PROMPTS.items()]  # type: ignore[arg-type]
    job = renderer.prerender(prompts)
    assert job.wait(WAIT_S)
    assert (job.rendered, job.cached, job.failed) == (2, 0, [])
    assert all(renderer.is_cached(p.text, p.language) for p in prompts)
    again = renderer.prerender(prompts)
    assert again.wait(WAIT_S)
    assert (again.rendered, again.cached) == (0, 2)


def test_the_prompter_posts_the_rendered_file_for_the_player(tmp_path: Path) -> None:
    renderer = VoiceRenderer(tmp_path)
    posted: list[object] = []
    arrived = threading.Event()

    def sink(event: object) -> None:
        posted.append(event)
        arrived.set()

    prompts = SpokenPrompts(renderer, sink)
    try:
        prompts.speak("hand_in", PROMPTS["zh-CN"], "zh-CN")
        assert arrived.wait(WAIT_S)
    finally:
        prompts.close()
    expected = renderer.wav_path(PROMPTS["zh-CN"], "zh-CN")
    assert posted == [PromptRendered("hand_in", str(expected))]
    assert wav_duration_s(expected) > 0.3
