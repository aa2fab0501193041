"""The pickup journey's words and spoken prompts, in Mandarin and English.

Written for an elderly citizen standing at a column of doors: short sentences, one instruction
each, the door's number always named, and on every refusal what to do next (another way in, the
staff, the hotline). Keys under `pickup.voice.` are spoken (pre-rendered with espeak-ng from
these same texts). `tr` falls back to the apply journey's table and then the shared catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from kiosk.apply.texts import tr as apply_tr
from kiosk.config import Language
from kiosk.i18n import look_up

PICKUP_MESSAGES: Final[Mapping[str, Mapping[Language, str]]] = {
    "pickup.title": {"zh-CN": "取件", "en": "Collect your documents"},
    "pickup.button.back": {"zh-CN": "上一步", "en": "Back"},
    "pickup.button.cancel": {"zh-CN": "返回首页", "en": "Back to start"},
    "pickup.button.type_code": {"zh-CN": "输入取件码", "en": "Type the pickup code"},
    "pickup.button.submit": {"zh-CN": "确定", "en": "OK"},
    "pickup.button.erase": {"zh-CN": "← 删除", "en": "← Delete"},
    "pickup.button.clear": {"zh-CN": "清空", "en": "Clear"},
    "pickup.button.open_again": {"zh-CN": "再开一次门", "en": "Open the door again"},
    "pickup.button.leave": {"zh-CN": "暂不取走", "en": "Leave them for now"},
    "pickup.button.taken": {"zh-CN": "我已取走", "en": "I have taken them"},
    "pickup.button.done": {"zh-CN": "完成", "en": "Done"},
    "pickup.start.heading": {
        "zh-CN": "请选择一种方式取件",
        "en": "Choose one way to collect",
    },
    "pickup.way.scan.title": {"zh-CN": "扫二维码", "en": "Scan the QR code"},
    "pickup.way.scan.hint": {
        "zh-CN": "把短信里的二维码对准下方扫描口",
        "en": "Hold the QR code from your SMS under the scanner below",
    },
    "pickup.way.code.title": {"zh-CN": "输入取件码", "en": "Type the code"},
    "pickup.way.code.hint": {
        "zh-CN": "短信里的8位数字",
        "en": "The 8 digits in your SMS",
    },
    "pickup.way.card.title": {"zh-CN": "刷身份证", "en": "Tap your ID card"},
    "pickup.way.card.hint": {
        "zh-CN": "把身份证放在右侧读卡区",
        "en": "Lay your ID card on the reader on the right",
    },
    "pickup.checking": {"zh-CN": "正在查找，请稍候……", "en": "Looking for your documents…"},
    "pickup.code.heading": {
        "zh-CN": "请输入短信中的8位取件码",
        "en": "Type the 8-digit pickup code from your SMS",
    },
    "pickup.notice.wrong_code": {
        "zh-CN": "取件码不对，请核对短信后重新输入。",
        "en": "That code is not right. Check your SMS and type it again.",
    },
    "pickup.notice.wrong_code_left": {
        "zh-CN": "取件码不对，请核对短信后重新输入（再错{left}次将暂停输入）。",
        "en": "That code is not right. Check your SMS and try again ({left} more wrong and the "
        "keypad pauses).",
    },
    "pickup.notice.keypad_locked": {
        "zh-CN": "输错次数太多，键盘已暂停到{until}。请扫二维码或刷身份证取件，或拨打{hotline}。",
        "en": "Too many wrong codes: the keypad is paused until {until}. Scan the QR code or "
        "tap your ID card instead, or call {hotline}.",
    },
    "pickup.notice.expired": {
        "zh-CN": "取件期已过，材料已退回服务中心。请联系工作人员或拨打{hotline}。",
        "en": "The collection period has ended and the documents went back to the service "
        "centre. Please ask the staff or call {hotline}.",
    },
    "pickup.notice.nothing_for_card": {
        "zh-CN": "这里没有您的待取材料。如需办理业务，请返回首页点“办理业务”。",
        "en": "Nothing is waiting for you here. To apply for a service, go back and tap Apply.",
    },
    "pickup.notice.already_collected": {
        "zh-CN": "这份材料已经取走了。如有疑问请拨打{hotline}。",
        "en": "These documents have already been collected. Questions? Call {hotline}.",
    },
    "pickup.notice.qr_not_ours": {
        "zh-CN": "这个二维码无法在本机取件，请输入短信里的取件码。",
        "en": "This QR code cannot be used at this terminal. Type the code from your SMS instead.",
    },
    "pickup.notice.qr_expired": {
        "zh-CN": "这个二维码已过期，材料已退回服务中心。请联系工作人员或拨打{hotline}。",
        "en": "This QR code has expired and the documents went back to the service centre. "
        "Please ask the staff or call {hotline}.",
    },
    "pickup.notice.not_our_code": {
        "zh-CN": "这不是取件码。请扫短信里的二维码。",
        "en": "That is not a pickup code. Scan the QR code from your SMS.",
    },
    "pickup.notice.lookup_failed": {
        "zh-CN": "系统暂时无法查找，请稍后再试或拨打{hotline}。",
        "en": "The terminal cannot look this up right now. Try again shortly or call {hotline}.",
    },
    "pickup.notice.card_unreadable": {
        "zh-CN": "读不出这张卡，请重新放好，或改用取件码。",
        "en": "The card could not be read. Lay it flat again, or type your code instead.",
    },
    "pickup.notice.door_unknown": {
        "zh-CN": "如果柜门没有打开，请联系工作人员或拨打{hotline}。",
        "en": "If the door did not open, please ask the staff or call {hotline}.",
    },
    "pickup.notice.jammed_moving_on": {
        "zh-CN": "{label}号柜门打不开，已通知工作人员。正在打开下一个柜门。",
        "en": "Door {label} would not open; staff have been told. Opening the next door.",
    },
    "pickup.door.position": {
        "zh-CN": "{column}柜 从上往下第{row}层",
        "en": "Column {column}, row {row} from the top",
    },
    "pickup.door.progress": {"zh-CN": "第{index}份，共{count}份", "en": "Item {index} of {count}"},
    "pickup.door.opening": {"zh-CN": "正在打开{label}号柜门……", "en": "Opening door {label}…"},
    "pickup.door.open": {
        "zh-CN": "{label}号柜门已打开。请取走材料，然后关好柜门。",
        "en": "Door {label} is open. Take your documents, then close the door.",
    },
    "pickup.door.checking": {"zh-CN": "正在确认……", "en": "Checking…"},
    "pickup.door.ask_taken": {
        "zh-CN": "您取走{label}号柜里的材料了吗？",
        "en": "Have you taken the documents out of box {label}?",
    },
    "pickup.door.still_inside": {
        "zh-CN": "{label}号柜里还有您的材料。请再开门取走。",
        "en": "Your documents are still in box {label}. Open the door again to take them.",
    },
    "pickup.done.heading": {"zh-CN": "取件完成", "en": "All done"},
    "pickup.done.heading_problems": {
        "zh-CN": "取件结束，有材料未取到",
        "en": "Finished, but not everything was collected",
    },
    "pickup.done.taken": {"zh-CN": "{label}号柜：已取走", "en": "Box {label}: collected"},
    "pickup.done.not_taken": {
        "zh-CN": "{label}号柜：材料仍在柜中，由工作人员保管。可拨打{hotline}。",
        "en": "Box {label}: still inside; the staff will keep it. Call {hotline}.",
    },
    "pickup.done.jammed": {
        "zh-CN": "{label}号柜：柜门打不开，请联系工作人员或拨打{hotline}。",
        "en": "Box {label}: the door would not open. Ask the staff or call {hotline}.",
    },
    "pickup.done.unknown": {
        "zh-CN": "{label}号柜：无法确认，请联系工作人员或拨打{hotline}。",
        "en": "Box {label}: could not be checked. Ask the staff or call {hotline}.",
    },
    "pickup.done.closing": {
        "zh-CN": "请带好随身物品。感谢使用！",
        "en": "Please take all your belongings. Thank you!",
    },
    # ---- spoken prompts ----
    "pickup.voice.start": {
        "zh-CN": "请扫二维码，输入取件码，或刷身份证。",
        "en": "Scan your QR code, type your code, or tap your ID card.",
    },
    "pickup.voice.code": {
        "zh-CN": "请输入8位取件码。",
        "en": "Please type your 8-digit code.",
    },
    "pickup.voice.wrong_code": {
        "zh-CN": "取件码不对，请重新输入。",
        "en": "That code is not right. Please try again.",
    },
    "pickup.voice.keypad_locked": {
        "zh-CN": "键盘已暂停，请扫二维码或刷身份证。",
        "en": "The keypad is paused. Please scan your QR code or tap your ID card.",
    },
    "pickup.voice.expired": {
        "zh-CN": "取件期已过，请联系工作人员。",
        "en": "The collection period has ended. Please ask the staff.",
    },
    "pickup.voice.nothing": {
        "zh-CN": "这里没有您的待取材料。",
        "en": "Nothing is waiting for you here.",
    },
    "pickup.voice.not_ours": {
        "zh-CN": "这个码不能取件，请输入短信里的取件码。",
        "en": "This code cannot be used. Please type the code from your SMS.",
    },
    "pickup.voice.door_open": {
        "zh-CN": "{label}号柜门已打开，请取走材料并关好柜门。",
        "en": "Door {label} is open. Take your documents and close the door.",
    },
    "pickup.voice.close_door": {
        "zh-CN": "请关好柜门。",
        "en": "Please close the door.",
    },
    "pickup.voice.ask_taken": {
        "zh-CN": "您取走材料了吗？",
        "en": "Have you taken your documents?",
    },
    "pickup.voice.still_inside": {
        "zh-CN": "柜里还有您的材料，请再开门取走。",
        "en": "Your documents are still inside. Please open the door again.",
    },
    "pickup.voice.jammed": {
        "zh-CN": "柜门打不开，请联系工作人员。",
        "en": "The door would not open. Please ask the staff.",
    },
    "pickup.voice.done": {
        "zh-CN": "取件完成，感谢使用。",
        "en": "All done. Thank you.",
    },
    "pickup.voice.done_problems": {
        "zh-CN": "有材料未取到，请联系工作人员。",
        "en": "Not everything was collected. Please ask the staff.",
    },
}


def tr(key: str, language: Language, **args: object) -> str:
    """The pickup table first, then the apply journey's and the shared catalogue."""
    return look_up(PICKUP_MESSAGES, "kiosk/pickup/texts.py", key, language, args, fallback=apply_tr)


def voice_keys() -> list[str]:
    """The prompts to pre-render (those needing a door label render when first spoken)."""
    return sorted(key for key in PICKUP_MESSAGES if key.startswith("pickup.voice."))
