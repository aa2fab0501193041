"""Voice errors. None of them stops the terminal: the prompt is on screen, only not spoken."""

from __future__ import annotations

from devices.errors import DeviceError, DeviceOffline


class VoiceError(DeviceError):
    """A prompt could not be turned into audio."""


class SpeechEngineMissing(DeviceOffline, VoiceError):
    """espeak-ng (or the configured program) is not installed or not on PATH."""


class RenderFailed(VoiceError):
    """espeak-ng ran but gave no usable audio (unknown voice, crash, timeout, disk full)."""
