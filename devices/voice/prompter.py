"""The VoicePrompter adapter: renders off the UI thread, then asks the UI to play the result.

Playing is the UI's job (Kivy's audio must be driven from its own thread), so this adapter only
posts `PromptRendered` to the event sink — the Clock bridge in the app — where the screens' voice
player picks it up. A citizen who taps through quickly must hear the current step, not a queue of
old ones: every `speak` supersedes the previous one, and audio finished for a superseded prompt is
dropped instead of played.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from kiosk.config import Language
from kiosk.ports.health import DeviceHealth, EventSink
from kiosk.ports.voice import PromptRendered, PromptsSilenced

from .errors import SpeechEngineMissing, VoiceError
from .renderer import VoiceRenderer

_log = logging.getLogger(__name__)


class SpokenPrompts:
    """Implements kiosk.ports.voice.VoicePrompter; `speak` and `stop` return at once."""

    def __init__(self, renderer: VoiceRenderer, sink: EventSink, *, enabled: bool = True) -> None:
        self._renderer = renderer
        self._sink = sink
        self.enabled = enabled
        # One worker: two espeak-ng processes at once would only slow each other on two cores.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voice")
        self._lock = threading.Lock()
        self._latest = 0
        self._warned_missing = False

    def speak(self, key: str, text: str, language: Language) -> None:
        with self._lock:
            self._latest += 1
            ticket = self._latest
        if not self.enabled or not text.strip():
            self._sink(PromptsSilenced())
            return
        try:
            self._worker.submit(self._render_and_post, ticket, key, text, language)
        except RuntimeError:
            _log.debug("prompt %s after shutdown: not spoken", key)

    def stop(self) -> None:
        with self._lock:
            self._latest += 1
        self._sink(PromptsSilenced())

    def health(self) -> DeviceHealth:
        return self._renderer.health()

    def close(self) -> None:
        """Drop prompts not yet rendered; a render in progress finishes in the background."""
        self._worker.shutdown(wait=False, cancel_futures=True)

    def _is_current(self, ticket: int) -> bool:
        with self._lock:
            return ticket == self._latest

    def _render_and_post(self, ticket: int, key: str, text: str, language: Language) -> None:
        if not self._is_current(ticket):
            return  # superseded while queued: do not spend CPU on it
        try:
            path = self._renderer.render(text, language)
        except SpeechEngineMissing as err:
            if not self._warned_missing:
                self._warned_missing = True
                _log.warning("prompts are shown but not spoken: %s", err)
            return
        except VoiceError as err:
            _log.warning("prompt %s not spoken: %s", key, err)
            return
        if self._is_current(ticket):
            self._sink(PromptRendered(key=key, wav_path=str(path)))
