"""Plays the spoken prompts (WAV files rendered by the voice adapter) through Kivy's audio.

Runs on the UI thread: the voice adapter posts `PromptRendered` / `PromptsSilenced` through the
Clock bridge and the composition root subscribes `on_prompt_rendered` / `on_prompts_silenced`.
One prompt at a time: a new one cuts off the old, because two voices at once help nobody.
A machine without audio (SDL's dummy driver, no sound card, a broken file) plays nothing and the
kiosk carries on — every prompt is also on screen.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from kivy.core.audio import Sound, SoundLoader

from kiosk.ports.voice import PromptRendered, PromptsSilenced

_log = logging.getLogger(__name__)

# A journey has about ten prompts per language; keeping them loaded avoids re-reading the files.
MAX_LOADED_SOUNDS = 24


class VoicePlayer:
    def __init__(self, volume: float = 1.0, max_loaded: int = MAX_LOADED_SOUNDS) -> None:
        self.volume = volume
        self._max_loaded = max_loaded
        self._loaded: OrderedDict[str, Sound] = OrderedDict()
        self._current: Sound | None = None
        self._unplayable: set[str] = set()
        self.last_played: str = ""  # the path of the latest prompt started (for tests and logs)

    @property
    def playing(self) -> bool:
        return self._current is not None and self._current.state == "play"

    def play(self, wav_path: str) -> bool:
        """Start `wav_path`, stopping the prompt before it; False when it cannot be played."""
        self.stop()
        sound = self._load(wav_path)
        if sound is None:
            return False
        sound.volume = self.volume
        sound.seek(0)
        sound.play()
        self._current = sound
        self.last_played = wav_path
        return True

    def stop(self) -> None:
        current, self._current = self._current, None
        if current is not None and current.state == "play":
            current.stop()

    def unload_all(self) -> None:
        """Release the audio buffers (the app is stopping)."""
        self.stop()
        for sound in self._loaded.values():
            sound.unload()
        self._loaded.clear()

    # -- bridge handlers ------------------------------------------------------------------------
    def on_prompt_rendered(self, event: PromptRendered) -> None:
        self.play(event.wav_path)

    def on_prompts_silenced(self, _event: PromptsSilenced) -> None:
        self.stop()

    def _load(self, wav_path: str) -> Sound | None:
        sound = self._loaded.get(wav_path)
        if sound is not None:
            self._loaded.move_to_end(wav_path)
            return sound
        if wav_path in self._unplayable:
            return None
        loaded: Any = SoundLoader.load(wav_path)
        if loaded is None:
            # No audio provider or device (headless, SDL_AUDIODRIVER=dummy) or an unreadable
            # file: warn once per file, stay silent, keep the session going.
            self._unplayable.add(wav_path)
            _log.warning("cannot play %s (no audio output or unreadable file): silent", wav_path)
            return None
        self._loaded[wav_path] = loaded
        while len(self._loaded) > self._max_loaded:
            _old_path, old = self._loaded.popitem(last=False)
            if old is not self._current:
                old.unload()
        return loaded
