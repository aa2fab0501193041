"""The polite 'temporarily out of service' notice a technician can put over the attract screen.

Both languages at once, in large type: the person at the terminal may not read the default
language, and there is nothing to touch here that would switch it. The hotline is the one thing
they can act on. The texts come from the command (or the terminal's defaults); the screen only
draws them.
"""

from __future__ import annotations

from dataclasses import dataclass

from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import Screen

KV_FILE = "out_of_service_screen.kv"
NAME = "out_of_service"

DEFAULT_MESSAGE_ZH = "本机暂停服务，给您带来不便，敬请谅解。请前往附近的政务服务大厅办理。"
DEFAULT_MESSAGE_EN = (
    "This terminal is temporarily out of service. We are sorry for the inconvenience; "
    "please visit the nearest government service hall."
)


@dataclass(frozen=True)
class OutOfServiceView:
    title_zh: str = "暂停服务"
    title_en: str = "Temporarily out of service"
    message_zh: str = DEFAULT_MESSAGE_ZH
    message_en: str = DEFAULT_MESSAGE_EN
    hotline_line: str = ""
    terminal_line: str = ""


def out_of_service_view(
    message_zh: str, message_en: str, *, hotline: str, terminal_id: str
) -> OutOfServiceView:
    """Empty messages fall back to the terminal's polite default, never to a blank screen."""
    return OutOfServiceView(
        message_zh=message_zh.strip() or DEFAULT_MESSAGE_ZH,
        message_en=message_en.strip() or DEFAULT_MESSAGE_EN,
        hotline_line=f"服务热线 Hotline: {hotline}" if hotline else "",
        terminal_line=f"终端 Terminal: {terminal_id}",
    )


class OutOfServiceScreen(Screen):  # type: ignore[misc]
    view = ObjectProperty(OutOfServiceView(), rebind=True)
    intents = ObjectProperty(None)
