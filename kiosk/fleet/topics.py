"""Where a terminal's fleet messages go: the Homie v5 tree and the command topics.

One module names every topic so the terminal, the simulator and the tests cannot drift apart;
docs/fleet-protocol.md is the same list in prose for the console side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HOMIE_ROOT = "homie/5"
COMMAND_ROOT = "gzk/1"
_DEVICE_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_NOT_ALLOWED = re.compile(r"[^a-z0-9-]+")
_REPLY_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class FleetIdError(ValueError):
    """A terminal id or device id that cannot name a Homie device."""


def device_id_for(terminal_id: str, override: str = "") -> str:
    """The terminal's Homie device id: the override, or 'GZ_Cili 001' turned into 'gz-cili-001'.

    Homie ids allow only lower-case letters, digits and '-', and the broker's ACL is written in
    terms of this id (it is also the MQTT user name), so it must be derived the same way everywhere.
    """
    candidate = override or _NOT_ALLOWED.sub("-", terminal_id.strip().lower()).strip("-")
    if not _DEVICE_ID.match(candidate):
        raise FleetIdError(
            f"The terminal id {terminal_id!r} gives no usable fleet device id "
            f"({candidate!r}); set fleet.device_id to lower-case letters, digits and '-'."
        )
    return candidate


@dataclass(frozen=True)
class FleetTopics:
    """All topics of one terminal."""

    device_id: str

    @property
    def base(self) -> str:
        return f"{HOMIE_ROOT}/{self.device_id}"

    @property
    def state(self) -> str:
        return f"{self.base}/$state"

    @property
    def description(self) -> str:
        return f"{self.base}/$description"

    def value(self, node: str, prop: str) -> str:
        return f"{self.base}/{node}/{prop}"

    def alert(self, alert_id: str) -> str:
        return f"{self.base}/$alert/{alert_id}"

    def log(self, level: str) -> str:
        return f"{self.base}/$log/{level}"

    @property
    def commands(self) -> str:
        return f"{COMMAND_ROOT}/{self.device_id}/cmd"

    @property
    def reply_prefix(self) -> str:
        return f"{COMMAND_ROOT}/{self.device_id}/reply/"

    def reply(self, console_id: str) -> str:
        return f"{self.reply_prefix}{console_id}"

    def accepts_reply_topic(self, topic: str) -> bool:
        """Only our own reply subtree: a command must not make us publish anywhere else."""
        return topic.startswith(self.reply_prefix) and bool(
            _REPLY_NAME.match(topic.removeprefix(self.reply_prefix))
        )
