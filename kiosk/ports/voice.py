"""The voice port: spoken prompts for citizens who read slowly, or not at all.

The core says what to speak; an adapter renders it to audio (offline, with espeak-ng) and plays
it. Speech is a help, never a requirement: an adapter without a speech engine or a sound card stays
silent and reports that through its health, and the screens carry every prompt in writing anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kiosk.config import Language


@dataclass(frozen=True)
class Prompt:
    """One prompt to speak: `key` names it (for logs and pre-rendering), `text` is what is said."""

    key: str
    text: str
    language: Language


class VoicePrompter(Protocol):
    """Speaks prompts. Called on the UI thread, so every method returns at once."""

    def speak(self, key: str, text: str, language: Language) -> None:
        """Start speaking `text`, cutting off any prompt still playing; silent if speech is off."""

    def stop(self) -> None:
        """Silence the current prompt (the session ended, or the citizen walked away)."""


@dataclass(frozen=True)
class PromptRendered:
    """The audio of a prompt is ready: the UI-side player plays `wav_path` (posted to the UI)."""

    key: str
    wav_path: str


@dataclass(frozen=True)
class PromptsSilenced:
    """Whatever prompt is playing must stop now (posted to the UI)."""
