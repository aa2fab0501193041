"""Offline spoken prompts: espeak-ng renders each prompt once to a cached WAV, the UI plays it."""

from .errors import RenderFailed, SpeechEngineMissing, VoiceError
from .prompter import SpokenPrompts
from .renderer import PrerenderJob, VoiceRenderer, cache_key

__all__ = [
    "PrerenderJob",
    "RenderFailed",
    "SpeechEngineMissing",
    "SpokenPrompts",
    "VoiceError",
    "VoiceRenderer",
    "cache_key",
]
