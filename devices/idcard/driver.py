"""The ID-card reader over a serial URL: find card → select → read text and photo.

`SamReader` is the driver (one request at a time over a `SerialLink`, errors as sentences that
name the port); `IdCardReader` is the adapter the core sees (`kiosk.ports.identity.CardReader`):
it polls for cards and publishes `CardPlaced` / `CardRemoved` / `CardReadFailed`.

A quirk of real SAM modules: once a card has been read, "find card" answers "no card" until the
card leaves the field, although it still lies there. So while a card is believed present, a
"no card" answer is double-checked with "select card", which still succeeds on a card in the field.
"""

from __future__ import annotations

from collections.abc import Callable

from devices.errors import BadFrame, DeviceError, DeviceRefused, NoReply
from devices.serial_link import SerialLink
from kiosk.ports.health import DeviceHealth, DeviceHealthChanged, EventSink, HealthState
from kiosk.ports.identity import Identity, IdentitySource

from .codec import (
    TEXT_SIZE,
    SamFrameDecoder,
    decode_text_block,
    encode_request,
    parse_reply,
    parse_text_and_photo,
)
from .errors import CardDataInvalid, CardUnreadable, NoCardPresent
from .messages import (
    FIND_CARD,
    READ_TEXT_AND_PHOTO,
    SELECT_CARD,
    IdCardRecord,
    SamCommand,
    SamFrame,
    SamReply,
    SamStatus,
    TextAndPhoto,
    status_sentence,
)
from .watcher import CardWatcher

DEVICE_NAME = "ID card reader"
DEFAULT_BAUD = 115200

# SW3 answers that mean "the card", not "the module": the module itself is fine.
_CARD_STATUSES = {
    SamStatus.NO_CARD_FOUND,
    SamStatus.SELECT_FAILED,
    SamStatus.READ_FAILED,
    SamStatus.CARD_AUTH_FAILED,
    SamStatus.SAM_AUTH_FAILED,
    SamStatus.INFO_CHECK_FAILED,
    SamStatus.UNKNOWN_CARD_TYPE,
    SamStatus.NO_CONTENT,
}


class SamReader:
    """Blocking commands to one SAM module; safe to call from several threads (one at a time)."""

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = DEFAULT_BAUD,
        timeout_s: float = 1.0,
        on_health: Callable[[DeviceHealth], None] | None = None,
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.decoder = SamFrameDecoder()
        self._link: SerialLink[SamFrame] = SerialLink(
            url, self.decoder, device=DEVICE_NAME, baudrate=baudrate, on_health=on_health
        )

    def start(self) -> None:
        self._link.start()

    def stop(self) -> None:
        self._link.stop()

    def wait_open(self, timeout: float) -> bool:
        return self._link.wait_open(timeout)

    def health(self) -> DeviceHealth:
        return self._link.health()

    # -- commands -----------------------------------------------------------------------------
    def find_card(self) -> bool:
        reply = self._command(FIND_CARD)
        if reply.sw3 == SamStatus.CARD_FOUND:
            return True
        if reply.sw3 == SamStatus.NO_CARD_FOUND:
            return False
        raise self._refusal("finding a card", reply)

    def select_card(self) -> bool:
        """True if a card in the field answered; False if none did."""
        reply = self._command(SELECT_CARD)
        if reply.sw3 == SamStatus.SUCCESS:
            return True
        if reply.sw3 in (SamStatus.SELECT_FAILED, SamStatus.NO_CARD_FOUND):
            return False
        raise self._refusal("selecting the card", reply)

    def read_text_and_photo(self) -> TextAndPhoto:
        reply = self._command(READ_TEXT_AND_PHOTO)
        if reply.sw3 != SamStatus.SUCCESS:
            raise self._refusal("reading the card", reply)
        try:
            return parse_text_and_photo(reply.data)
        except BadFrame as err:
            raise BadFrame(f"{self._where()}: {err}; the read is discarded.") from err

    def read_card(self) -> IdCardRecord:
        """Find, select and read the card on the reader; NoCardPresent if there is none."""
        found = self.find_card()
        if not self.select_card():
            if not found:
                raise NoCardPresent("no card on the reader")
            raise CardUnreadable(
                f"{self._where()}: a card was found but could not be selected; ask the citizen "
                "to lay it flat and retry."
            )
        block = self.read_text_and_photo()
        try:
            return decode_text_block(block.text)
        except CardDataInvalid as err:
            raise CardDataInvalid(
                f"{self._where()}: {err}; the card was read wrongly or is damaged — "
                "ask the citizen to lay it flat and try again."
            ) from err

    def card_present(self, believed_present: bool) -> bool:
        if self.find_card():
            return True
        return believed_present and self.select_card()

    # -- plumbing -----------------------------------------------------------------------------
    def _where(self) -> str:
        return f"{DEVICE_NAME} on {self.url}"

    def _command(self, command: SamCommand) -> SamReply:
        try:
            frame = self._link.exchange(
                encode_request(command),
                lambda frame: _plausible_reply(command, frame),
                self.timeout_s,
            )
        except NoReply:
            self._link.report_device_health(
                HealthState.OFFLINE,
                f"{self._where()} does not answer; check its power and the cable.",
            )
            raise
        reply = parse_reply(frame)
        if reply.sw3 in _CARD_STATUSES or reply.sw3 in (SamStatus.SUCCESS, SamStatus.CARD_FOUND):
            self._link.report_device_health(HealthState.OK)
        else:
            self._link.report_device_health(
                HealthState.FAULT, f"{self._where()}: {status_sentence(reply.sw3)}."
            )
        return reply

    def _refusal(self, action: str, reply: SamReply) -> DeviceError:
        sentence = f"{self._where()}: {action} failed — {status_sentence(reply.sw3)}."
        if reply.sw3 in _CARD_STATUSES:
            return CardUnreadable(sentence + " Ask the citizen to lay the card flat and retry.")
        return DeviceRefused(sentence + " Restart the reader; if it persists, replace it.")


def _plausible_reply(command: SamCommand, frame: SamFrame) -> bool:
    """Replies carry no command echo; the data length tells a late reply to another command."""
    body = frame.body
    if len(body) < 3:
        return False
    sw3, data_len = body[2], len(body) - 3
    if command == FIND_CARD and sw3 == SamStatus.CARD_FOUND:
        return data_len == 4
    if command == SELECT_CARD and sw3 == SamStatus.SUCCESS:
        return data_len == 8
    if command == READ_TEXT_AND_PHOTO and sw3 == SamStatus.SUCCESS:
        return data_len >= 4 + TEXT_SIZE
    return data_len == 0 or sw3 not in (SamStatus.SUCCESS, SamStatus.CARD_FOUND)


class IdCardReader:
    """The `CardReader` port over a SAM module: watches for cards and publishes events."""

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = DEFAULT_BAUD,
        timeout_s: float = 1.0,
        poll_interval_s: float = 0.3,
    ) -> None:
        self._sink: EventSink | None = None
        self._sam = SamReader(
            url, baudrate=baudrate, timeout_s=timeout_s, on_health=self._health_changed
        )
        self._watcher = CardWatcher(
            "id_card",
            self._sam.card_present,
            self._read_identity,
            self._publish,
            interval_s=poll_interval_s,
        )

    @property
    def source(self) -> IdentitySource:
        return "id_card"

    def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._sam.start()
        self._watcher.start()

    def stop(self) -> None:
        self._watcher.stop()
        self._sam.stop()

    def current(self) -> Identity | None:
        return self._watcher.current()

    def health(self) -> DeviceHealth:
        return self._sam.health()

    def _read_identity(self) -> Identity:
        return self._sam.read_card().to_identity()

    def _publish(self, event: object) -> None:
        if self._sink is not None:
            self._sink(event)

    def _health_changed(self, health: DeviceHealth) -> None:
        self._publish(DeviceHealthChanged(health))


__all__ = ["DEFAULT_BAUD", "DEVICE_NAME", "IdCardReader", "SamReader"]
