"""Watch a card reader for cards laid down and taken away, and turn that into port events.

Shared by the ID-card reader and the social-security card reader: both can only be asked "is a
card there?" and "read it", so presence is polled (about every 300 ms, which feels immediate to a
person and leaves the line idle most of the time). A card is read once per placement; a read that
fails is retried a couple of times (a card slid on at an angle often reads on the second try)
before `CardReadFailed` is published. Removal is declared only after two polls in a row find no
card, so one lost reply does not end a citizen's session.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from devices.errors import DeviceError
from kiosk.ports.identity import (
    CardPlaced,
    CardReadFailed,
    CardRemoved,
    Identity,
    IdentitySource,
)

from .errors import NoCardPresent

log = logging.getLogger(__name__)

Probe = Callable[[bool], bool]  # argument: a card is believed present; returns: a card is there
Read = Callable[[], Identity]
Publish = Callable[[object], None]


class CardWatcher:
    """One polling thread per reader; all I/O goes through `probe` and `read`."""

    def __init__(
        self,
        source: IdentitySource,
        probe: Probe,
        read: Read,
        publish: Publish,
        *,
        interval_s: float = 0.3,
        read_attempts: int = 3,
        absent_polls_for_removal: int = 2,
    ) -> None:
        self.source: IdentitySource = source
        self._probe = probe
        self._read = read
        self._publish = publish
        self._interval = interval_s
        self._read_attempts = read_attempts
        self._absent_needed = absent_polls_for_removal
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._present = False
        self._absent_polls = 0
        self._current: Identity | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"card-watch-{self.source}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
            self._thread = None

    def current(self) -> Identity | None:
        with self._lock:
            return self._current

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self._interval)

    def poll_once(self) -> None:
        """One step of the watch: probe, and on a new card read it (tests may call this)."""
        try:
            there = self._probe(self._present)
        except DeviceError as err:
            # The link reports its own health; presence stays as it was until the line answers.
            log.debug("%s reader: presence poll failed: %s", self.source, err)
            return
        if there:
            self._absent_polls = 0
            if not self._present:
                self._present = True
                self._read_new_card()
            return
        if not self._present:
            return
        self._absent_polls += 1
        if self._absent_polls >= self._absent_needed:
            self._card_gone()

    def _read_new_card(self) -> None:
        reason = ""
        for _attempt in range(self._read_attempts):
            if self._stop.is_set():
                return
            try:
                identity = self._read()
            except NoCardPresent:
                self._present = False  # lifted while being read: as if never placed
                return
            except DeviceError as err:
                reason = str(err)
                continue
            with self._lock:
                self._current = identity
            log.info("%s reader: card read (%s)", self.source, identity.masked)
            self._publish(CardPlaced(identity))
            return
        log.warning("%s reader: card could not be read: %s", self.source, reason)
        self._publish(CardReadFailed(self.source, reason))

    def _card_gone(self) -> None:
        was_present = self._present
        self._present = False
        self._absent_polls = 0
        with self._lock:
            self._current = None
        if was_present:
            self._publish(CardRemoved(self.source))
