"""Renders prompt texts to WAV files with espeak-ng, once, into a cache folder.

espeak-ng takes 30–50 ms of CPU per prompt here (more on a loaded box), and a subprocess must
never run on the UI thread; the known prompts are therefore rendered at start-up in the background
(`prerender`), and any prompt met later is rendered once, off the UI thread, and then reused.
A cached file is named by a hash of everything that changes the audio — text, language, voice,
rate — so a new translation or a changed rate renders afresh instead of playing stale speech.

Files appear in the cache only complete (written to a temporary name, checked, then renamed), so a
crash or a timeout mid-render never leaves a truncated WAV that would be played forever after.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from kiosk.config import Language
from kiosk.ports.health import DeviceHealth, HealthState
from kiosk.ports.voice import Prompt

from .errors import RenderFailed, SpeechEngineMissing, VoiceError

_log = logging.getLogger(__name__)

DEVICE_NAME = "voice"
DEFAULT_PROGRAM = "espeak-ng"
DEFAULT_VOICES: Mapping[Language, str] = {"zh-CN": "cmn", "en": "en"}
DEFAULT_RATE_WPM = 150
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_MAX_CACHED_FILES = 400
# Bumped when the way a WAV is produced changes (options, post-processing), to re-render all.
CACHE_FORMAT = 1
WAV_HEADER_BYTES = 44
INSTALL_HINT = "install it with `apt-get install espeak-ng`; until then prompts are only shown"


def cache_key(text: str, language: str, voice: str, rate_wpm: int) -> str:
    """A stable name for the audio of one prompt; any input that changes the sound changes it."""
    fields = json.dumps([CACHE_FORMAT, text, language, voice, rate_wpm], ensure_ascii=False)
    return hashlib.sha256(fields.encode("utf-8")).hexdigest()[:32]


def is_wav(path: Path) -> bool:
    """A RIFF/WAVE header and at least some samples; espeak-ng leaves a bare header on failure."""
    try:
        with path.open("rb") as audio:
            head = audio.read(12)
        size = path.stat().st_size
    except OSError:
        return False
    return head[:4] == b"RIFF" and head[8:12] == b"WAVE" and size > WAV_HEADER_BYTES


def _touch(path: Path) -> None:
    # a read-only cache still plays; it is only pruned less wisely
    with contextlib.suppress(OSError):
        os.utime(path)


class VoiceRenderer:
    """Blocking renderer: call it off the UI thread (SpokenPrompts and `prerender` do)."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        program: str = DEFAULT_PROGRAM,
        voices: Mapping[Language, str] = DEFAULT_VOICES,
        rate_wpm: int = DEFAULT_RATE_WPM,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_cached_files: int = DEFAULT_MAX_CACHED_FILES,
    ) -> None:
        self.cache_dir = cache_dir
        self.program = program
        self.voices = dict(voices)
        self.rate_wpm = rate_wpm
        self.timeout_s = timeout_s
        self.max_cached_files = max_cached_files
        self._lock = threading.Lock()
        self._last_failure = ""
        self._since = time.monotonic()

    # -- naming (pure) --------------------------------------------------------------------------
    def voice_for(self, language: Language) -> str:
        try:
            return self.voices[language]
        except KeyError:
            raise VoiceError(
                f"No espeak-ng voice is configured for language {language!r}; add one to the "
                "voice settings (e.g. 'cmn' for zh-CN, 'en' for en)."
            ) from None

    def wav_path(self, text: str, language: Language) -> Path:
        key = cache_key(text, language, self.voice_for(language), self.rate_wpm)
        return self.cache_dir / f"{key}.wav"

    def is_cached(self, text: str, language: Language) -> bool:
        return is_wav(self.wav_path(text, language))

    # -- rendering ------------------------------------------------------------------------------
    def engine_path(self) -> str | None:
        return shutil.which(self.program)

    def render(self, text: str, language: Language) -> Path:
        """The WAV of `text`, from the cache or freshly rendered; raises VoiceError subclasses."""
        if not text.strip():
            raise ValueError("an empty prompt has nothing to speak")
        target = self.wav_path(text, language)
        if is_wav(target):
            _touch(target)  # recently spoken prompts survive `prune`
            return target
        engine = self.engine_path()
        if engine is None:
            err = SpeechEngineMissing(f"{self.program} was not found on PATH: {INSTALL_HINT}.")
            self._note_failure(str(err))
            raise err
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise self._failed(
                f"The voice cache folder {self.cache_dir} cannot be created ({err.strerror}); "
                "check the data folder's permissions and free space."
            ) from err
        partial = target.with_name(f".{target.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
        command = [
            engine,
            "-v",
            self.voice_for(language),
            "-s",
            str(self.rate_wpm),
            "-b",
            "1",  # the text arrives as UTF-8 on stdin (never as an argument: it may start with -)
            "-w",
            str(partial),
            "--stdin",
        ]
        try:
            done = subprocess.run(
                command,
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
            if done.returncode != 0 or not is_wav(partial):
                detail = done.stderr.decode("utf-8", "replace").strip()[-300:] or "no audio"
                raise self._failed(
                    f"{self.program} could not render a {language} prompt with voice "
                    f"{self.voice_for(language)!r} (exit {done.returncode}: {detail}); check "
                    f"that the voice exists (`{self.program} --voices`)."
                )
            os.replace(partial, target)
        except subprocess.TimeoutExpired as err:
            raise self._failed(
                f"{self.program} took over {self.timeout_s:g} s to render a {language} prompt; "
                "the machine may be overloaded, or the prompt is far too long."
            ) from err
        except OSError as err:
            raise self._failed(
                f"{self.program} could not be run or its audio not stored in {self.cache_dir} "
                f"({err.strerror or err}); check the program and the free disk space."
            ) from err
        finally:
            partial.unlink(missing_ok=True)
        self._note_success()
        return target

    def missing_voices(self) -> list[str]:
        """Configured voices espeak-ng does not have.

        espeak-ng falls back to its default (English) voice for an unknown name without any error,
        which would read Chinese prompts as gibberish; this check is how such a setting is caught.
        """
        engine = self.engine_path()
        if engine is None:
            return []
        try:
            done = subprocess.run(
                [engine, "--voices"], capture_output=True, timeout=self.timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise self._failed(
                f"{self.program} --voices could not be run ({err}); check the installation."
            ) from err
        known: set[str] = set()
        for line in done.stdout.decode("utf-8", "replace").splitlines()[1:]:
            columns = line.split()
            if len(columns) >= 5:  # Pty, Language, Age/Gender, VoiceName, File, ...
                known.update({columns[1], columns[3], columns[4], columns[4].rsplit("/", 1)[-1]})
        missing = sorted({voice for voice in self.voices.values() if voice not in known})
        if missing:
            self._note_failure(
                f"{self.program} has no voice {', '.join(map(repr, missing))}: those prompts would "
                "be read by its default English voice; fix the voice settings or install the "
                f"voice data (`{self.program} --voices` lists them)."
            )
        return missing

    def prerender(self, prompts: Iterable[Prompt]) -> PrerenderJob:
        """Render every prompt not yet cached, in a background thread; returns at once."""
        job = PrerenderJob(self, tuple(prompts))
        job.start()
        return job

    def prune(self) -> int:
        """Keep the cache bounded (prompts may name a compartment; old texts go): oldest first."""
        try:
            files = sorted(self.cache_dir.glob("*.wav"), key=lambda path: path.stat().st_mtime)
        except OSError:
            return 0
        excess = files[: max(0, len(files) - self.max_cached_files)]
        for path in excess:
            path.unlink(missing_ok=True)
        return len(excess)

    # -- health ---------------------------------------------------------------------------------
    def health(self) -> DeviceHealth:
        if self.engine_path() is None:
            return DeviceHealth(
                DEVICE_NAME,
                HealthState.OFFLINE,
                f"{self.program} is not installed, so prompts are not spoken: {INSTALL_HINT}.",
                self._since,
            )
        with self._lock:
            failure, since = self._last_failure, self._since
        if failure:
            return DeviceHealth(DEVICE_NAME, HealthState.DEGRADED, failure, since)
        return DeviceHealth(DEVICE_NAME, HealthState.OK, "", since)

    def _failed(self, sentence: str) -> RenderFailed:
        self._note_failure(sentence)
        return RenderFailed(sentence)

    def _note_failure(self, sentence: str) -> None:
        with self._lock:
            if sentence != self._last_failure:
                self._last_failure = sentence
                self._since = time.monotonic()

    def _note_success(self) -> None:
        with self._lock:
            if self._last_failure:
                self._last_failure = ""
                self._since = time.monotonic()


class PrerenderJob:
    """Renders a batch of prompts in one daemon thread; `wait` lets start-up or tests join it."""

    def __init__(self, renderer: VoiceRenderer, prompts: tuple[Prompt, ...]) -> None:
        self._renderer = renderer
        self.prompts = prompts
        self.rendered = 0  # newly rendered
        self.cached = 0  # already in the cache
        self.failed: list[str] = []  # keys that could not be rendered
        self._thread = threading.Thread(target=self._run, name="voice-prerender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout_s: float | None = None) -> bool:
        """True when the job finished within `timeout_s`."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        started = time.monotonic()
        try:
            missing = self._renderer.missing_voices()
        except VoiceError as err:
            _log.warning("voice check failed: %s", err)
            missing = []
        if missing:
            _log.warning("espeak-ng lacks voices %s; prompts in them will sound wrong", missing)
        for index, prompt in enumerate(self.prompts):
            if self._renderer.is_cached(prompt.text, prompt.language):
                self.cached += 1
                continue
            try:
                self._renderer.render(prompt.text, prompt.language)
            except SpeechEngineMissing as err:
                _log.warning("voice prompts are off: %s", err)
                self.failed.extend(p.key for p in self.prompts[index:])
                return
            except (VoiceError, ValueError) as err:
                _log.warning("prompt %s not pre-rendered: %s", prompt.key, err)
                self.failed.append(prompt.key)
                continue
            self.rendered += 1
        self._renderer.prune()
        _log.info(
            "voice prompts: %d rendered, %d cached, %d failed in %.1f s",
            self.rendered,
            self.cached,
            len(self.failed),
            time.monotonic() - started,
        )
