"""The voice renderer's cache naming and bookkeeping, and the prompter's "latest wins" rule.

These need no speech engine: a program name that does not exist stands for a machine without
espeak-ng, and a hand-written renderer that waits on an event stands for a slow render.
"""

from __future__ import annotations

import os
import threading
import wave
from pathlib import Path

import pytest

from devices.voice import (
    RenderFailed,
    SpeechEngineMissing,
    SpokenPrompts,
    VoiceError,
    VoiceRenderer,
    cache_key,
)
from devices.voice.renderer import is_wav
from kiosk.config import Language
from kiosk.ports.health import HealthState
from kiosk.ports.voice import Prompt, PromptRendered, PromptsSilenced, VoicePrompter

MISSING_PROGRAM = "espeak-ng-that-is-not-installed"
WAIT_S = 10.0


def write_wav(path: Path, frames: int = 2205) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(22050)
        audio.writeframes(b"\x00\x00" * frames)


# -- cache keying ---------------------------------------------------------------------------------


def test_the_key_is_stable_and_file_name_safe() -> None:
    key = cache_key("请把材料放进 3 号柜格", "zh-CN", "cmn", 150)
    assert key == cache_key("请把材料放进 3 号柜格", "zh-CN", "cmn", 150)
    assert len(key) == 32
    assert all(ch in "0123456789abcdef" for ch in key)


@pytest.mark.parametrize(
    "changed",
    [
        ("请把材料放进 4 号柜格", "zh-CN", "cmn", 150),  # text
        ("请把材料放进 3 号柜格", "en", "cmn", 150),  # language
        ("请把材料放进 3 号柜格", "zh-CN", "cmn-latn-pinyin", 150),  # voice
        ("请把材料放进 3 号柜格", "zh-CN", "cmn", 140),  # rate
    ],
)
def test_anything_that_changes_the_sound_changes_the_key(
    changed: tuple[str, str, str, int],
) -> None:
    assert cache_key(*changed) != cache_key("请把材料放进 3 号柜格", "zh-CN", "cmn", 150)


def test_fields_cannot_run_into_each_other() -> None:
    """ "ab"+"c" and "a"+"bc" must not share a key (the fields are not simply concatenated)."""
    assert cache_key("ab", "en", "c", 150) != cache_key("a", "en", "bc", 150)


def test_wav_path_uses_the_voice_and_rate_of_the_renderer(tmp_path: Path) -> None:
    slow = VoiceRenderer(tmp_path, rate_wpm=120)
    normal = VoiceRenderer(tmp_path)
    assert slow.wav_path("Hello", "en") != normal.wav_path("Hello", "en")
    assert normal.wav_path("Hello", "en") == tmp_path / f"{cache_key('Hello', 'en', 'en', 150)}.wav"
    assert normal.wav_path("你好", "zh-CN").name == f"{cache_key('你好', 'zh-CN', 'cmn', 150)}.wav"


def test_a_language_without_a_voice_is_a_clear_error(tmp_path: Path) -> None:
    renderer = VoiceRenderer(tmp_path, voices={"zh-CN": "cmn"})
    with pytest.raises(VoiceError, match="No espeak-ng voice is configured for language 'en'"):
        renderer.wav_path("Hello", "en")


# -- cache use without an engine ------------------------------------------------------------------


def test_a_cached_prompt_plays_even_without_the_engine(tmp_path: Path) -> None:
    renderer = VoiceRenderer(tmp_path, program=MISSING_PROGRAM)
    target = renderer.wav_path("Close the door", "en")
    write_wav(target)
    os.utime(target, (1, 1))
    assert renderer.is_cached("Close the door", "en")
    assert renderer.render("Close the door", "en") == target
    assert target.stat().st_mtime > 1  # touched, so pruning keeps prompts still in use


def test_a_missing_engine_is_reported_with_the_fix(tmp_path: Path) -> None:
    renderer = VoiceRenderer(tmp_path, program=MISSING_PROGRAM)
    with pytest.raises(SpeechEngineMissing, match="apt-get install espeak-ng"):
        renderer.render("Close the door", "en")
    health = renderer.health()
    assert health.device == "voice"
    assert health.state is HealthState.OFFLINE
    assert "apt-get install espeak-ng" in health.reason
    assert not list(tmp_path.iterdir()), "nothing half-written is left in the cache"


def test_a_bare_header_or_a_foreign_file_is_not_audio(tmp_path: Path) -> None:
    header_only = tmp_path / "header.wav"
    write_wav(header_only, frames=0)
    text = tmp_path / "text.wav"
    text.write_bytes(b"not a wave file at all, but long enough to pass a size check" * 2)
    good = tmp_path / "good.wav"
    write_wav(good)
    assert not is_wav(header_only)
    assert not is_wav(text)
    assert not is_wav(tmp_path / "absent.wav")
    assert is_wav(good)


def test_an_engine_that_fails_is_degraded_health_not_a_crash(tmp_path: Path) -> None:
    # /bin/false is a real program that exits 1 without writing audio
    renderer = VoiceRenderer(tmp_path / "cache", program="false")
    with pytest.raises(RenderFailed, match=r"could not render an? en prompt"):
        renderer.render("Hello", "en")
    assert renderer.health().state is HealthState.DEGRADED
    assert not list((tmp_path / "cache").iterdir())


def test_empty_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nothing to speak"):
        VoiceRenderer(tmp_path).render("  ", "en")


def test_prune_removes_the_least_recently_used_files(tmp_path: Path) -> None:
    renderer = VoiceRenderer(tmp_path, max_cached_files=2)
    for age, name in enumerate(["old", "middle", "new"]):
        path = tmp_path / f"{name}.wav"
        write_wav(path)
        os.utime(path, (1000 + age, 1000 + age))
    assert renderer.prune() == 1
    assert sorted(p.stem for p in tmp_path.glob("*.wav")) == ["middle", "new"]


def test_prerender_skips_cached_prompts_and_stops_when_the_engine_is_missing(
    tmp_path: Path,
) -> None:
    renderer = VoiceRenderer(tmp_path, program=MISSING_PROGRAM)
    write_wav(renderer.wav_path("Welcome", "en"))
    prompts = [
        Prompt("welcome", "Welcome", "en"),
        Prompt("hand_in", "请把材料放进柜格", "zh-CN"),
        Prompt("receipt", "请取走回执", "zh-CN"),
    ]
    job = renderer.prerender(prompts)
    assert job.wait(WAIT_S)
    assert (job.cached, job.rendered, job.failed) == (1, 0, ["hand_in", "receipt"])


# -- the prompter ---------------------------------------------------------------------------------


class GatedRenderer(VoiceRenderer):
    """Renders instantly into the cache folder, but only once the test opens the gate."""

    def __init__(self, cache_dir: Path) -> None:
        super().__init__(cache_dir, program=MISSING_PROGRAM)
        self.gate = threading.Event()
        self.started: list[str] = []
        self.first_started = threading.Event()

    def render(self, text: str, language: Language) -> Path:
        self.started.append(text)
        self.first_started.set()
        self.gate.wait(WAIT_S)
        target = self.wav_path(text, language)
        write_wav(target)
        return target


class RecordingSink:
    def __init__(self) -> None:
        self.events: list[object] = []
        self.arrived = threading.Condition()

    def __call__(self, event: object) -> None:
        with self.arrived:
            self.events.append(event)
            self.arrived.notify_all()

    def wait_for(self, count: int) -> list[object]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.events) >= count, WAIT_S)
            return list(self.events)


def test_only_the_latest_prompt_is_played(tmp_path: Path) -> None:
    renderer = GatedRenderer(tmp_path)
    sink = RecordingSink()
    prompts: VoicePrompter = SpokenPrompts(renderer, sink)
    try:
        prompts.speak("form", "Fill in the form", "en")
        assert renderer.first_started.wait(WAIT_S)
        prompts.speak("review", "Check your application", "en")  # queued behind the first
        prompts.speak("hand_in", "Put your papers in box 3", "en")  # supersedes the second
        renderer.gate.set()
        events = sink.wait_for(1)
    finally:
        prompts.close()  # type: ignore[attr-defined]
    assert events == [
        PromptRendered("hand_in", str(renderer.wav_path("Put your papers in box 3", "en")))
    ]
    assert renderer.started == ["Fill in the form", "Put your papers in box 3"]


def test_stop_silences_and_drops_a_prompt_still_rendering(tmp_path: Path) -> None:
    renderer = GatedRenderer(tmp_path)
    sink = RecordingSink()
    prompts = SpokenPrompts(renderer, sink)
    try:
        prompts.speak("finish", "Thank you", "en")
        assert renderer.first_started.wait(WAIT_S)
        prompts.stop()
        renderer.gate.set()
        prompts.speak("attract", "Welcome", "en")
        events = sink.wait_for(2)
    finally:
        prompts.close()
    assert events[0] == PromptsSilenced()
    assert events[1] == PromptRendered("attract", str(renderer.wav_path("Welcome", "en")))
    assert len(events) == 2


def test_a_disabled_prompter_only_silences(tmp_path: Path) -> None:
    sink = RecordingSink()
    prompts = SpokenPrompts(GatedRenderer(tmp_path), sink, enabled=False)
    try:
        prompts.speak("form", "Fill in the form", "en")
    finally:
        prompts.close()
    assert sink.wait_for(1) == [PromptsSilenced()]


def test_a_missing_engine_leaves_the_prompter_silent_and_its_health_says_why(
    tmp_path: Path,
) -> None:
    sink = RecordingSink()
    prompts = SpokenPrompts(VoiceRenderer(tmp_path, program=MISSING_PROGRAM), sink)
    try:
        prompts.speak("form", "Fill in the form", "en")
        prompts.stop()  # posted after the render attempt was queued
        events = sink.wait_for(1)
    finally:
        prompts.close()
    assert events == [PromptsSilenced()]
    assert prompts.health().state is HealthState.OFFLINE
