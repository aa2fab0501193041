"""The terminal's words in both languages, in one place.

Every string a citizen sees goes through `translate`, so a missing translation is found by a test
(every key must have zh-CN and en) instead of by a citizen staring at an English-only button.
Names of people, places and the terminal come from settings or data and are not translated here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, get_args

from kiosk.config import Language

LANGUAGES: Final[tuple[Language, ...]] = get_args(Language)


class MessageError(LookupError):
    """A message key or a format argument is missing: a programming error caught by the tests."""


@dataclass(frozen=True)
class LocalizedText:
    """Text that comes from data (notices, catalog) rather than from the message catalog."""

    zh: str
    en: str

    def in_language(self, language: Language) -> str:
        return self.zh if language == "zh-CN" else self.en


MESSAGES: Final[Mapping[str, Mapping[Language, str]]] = {
    "attract.subtitle": {
        "zh-CN": "24小时政务自助服务 · 全年无休",
        "en": "24-hour government self-service · open every day",
    },
    "attract.welcome": {
        "zh-CN": "您好！请选择要办理的事项",
        "en": "Welcome. What would you like to do?",
    },
    "action.apply.title": {"zh-CN": "办理业务", "en": "Apply"},
    "action.apply.hint": {
        "zh-CN": "网上申请 · 递交纸质材料",
        "en": "Apply online and hand in paper documents",
    },
    "action.collect.title": {"zh-CN": "取件", "en": "Collect"},
    "action.collect.hint": {
        "zh-CN": "凭取件码或身份证领取办理结果",
        "en": "Pick up your documents with a pickup code or ID card",
    },
    "button.help": {"zh-CN": "帮助", "en": "Help"},
    "button.language": {"zh-CN": "English", "en": "中文"},
    "button.large_text.turn_on": {"zh-CN": "大字模式", "en": "Large text"},
    "button.large_text.turn_off": {"zh-CN": "标准字号", "en": "Normal text"},
    "notices.heading": {"zh-CN": "公告栏", "en": "Public notices"},
    "notices.position": {"zh-CN": "第 {index} 条，共 {count} 条", "en": "{index} of {count}"},
    "notices.read_all": {"zh-CN": "轻触阅读全文", "en": "Touch to read it all"},
    "notices.close": {"zh-CN": "关闭", "en": "Close"},
    "help.title": {"zh-CN": "需要帮助？", "en": "Need help?"},
    "help.hotline_label": {"zh-CN": "政务服务热线", "en": "Government service hotline"},
    "help.body": {
        "zh-CN": (
            "拨打{hotline}，工作人员会一步一步告诉您怎么操作。热线24小时有人接听，通话免费。"
            "\n\n如果柜门打不开、打印不出回执或机器没有反应，也请拨打这个号码，"
            "并告诉工作人员屏幕右下角的终端编号{terminal_id}。"
        ),
        "en": (
            "Call {hotline} and a member of staff will guide you step by step. The line is"
            " answered 24 hours a day and the call is free.\n\nIf a locker door does not open,"
            " no receipt is printed or the terminal does not respond, call the same number and"
            " give the terminal number {terminal_id} shown at the bottom right of the screen."
        ),
    },
    "help.close": {"zh-CN": "关闭", "en": "Close"},
    "idle.title": {"zh-CN": "您还在吗？", "en": "Are you still there?"},
    "idle.body": {
        "zh-CN": "为保护您的个人信息，倒计时结束后将自动退出，本次填写的内容会被清除。",
        "en": (
            "To protect your personal information, this session will end when the countdown"
            " reaches zero and everything you entered will be cleared."
        ),
    },
    "idle.seconds": {"zh-CN": "{seconds} 秒", "en": "{seconds} s"},
    "idle.continue": {"zh-CN": "继续使用", "en": "Continue"},
    "service.apply.title": {"zh-CN": "办理业务", "en": "Apply"},
    "service.apply.status": {
        "zh-CN": "正在为您启动办理服务",
        "en": "Starting the application service",
    },
    "service.apply.prepare": {
        "zh-CN": (
            "请准备好：\n· 第二代居民身份证或社会保障卡\n· 需要递交的纸质原件\n\n"
            "自助申请功能正在本终端开通。现在需要办理，请拨打{hotline}预约，"
            "或在工作时间前往政务服务中心窗口。"
        ),
        "en": (
            "Please have ready:\n· your 2nd-generation ID card or social-security card\n"
            "· the paper originals you need to hand in\n\nSelf-service applications are being"
            " switched on at this terminal. To apply now, call {hotline} to book, or visit a"
            " service centre counter during office hours."
        ),
    },
    "service.collect.title": {"zh-CN": "取件", "en": "Collect"},
    "service.collect.status": {
        "zh-CN": "正在为您启动取件服务",
        "en": "Starting the collection service",
    },
    "service.collect.prepare": {
        "zh-CN": (
            "请准备好：\n· 短信中的取件码，或\n· 办理时使用的身份证\n\n"
            "自助取件功能正在本终端开通。如您已收到取件短信，请拨打{hotline}咨询领取方式。"
        ),
        "en": (
            "Please have ready:\n· the pickup code from your text message, or\n"
            "· the ID card you applied with\n\nSelf-service collection is being switched on at"
            " this terminal. If you have received a pickup message, call {hotline} to ask how"
            " to collect."
        ),
    },
    "service.back": {"zh-CN": "返回首页", "en": "Back to start"},
    "footer.terminal": {"zh-CN": "终端编号 {terminal_id}", "en": "Terminal {terminal_id}"},
}


def look_up(
    messages: Mapping[str, Mapping[Language, str]],
    where: str,
    key: str,
    language: Language,
    args: Mapping[str, object],
    fallback: Callable[..., str] | None = None,
) -> str:
    """One message of a journey's table (`where` names its file for the error), or of the
    `fallback` lookup when the table has no such key; a gap is a bug, so it raises."""
    entry = messages.get(key)
    if entry is None and fallback is not None:
        return fallback(key, language, **args)
    try:
        template = (entry or {})[language]
    except KeyError as err:
        raise MessageError(f"no {language} text for message '{key}' in {where}") from err
    try:
        return template.format(**args)
    except KeyError as err:
        raise MessageError(f"message '{key}' needs the argument {err.args[0]!r}") from err


def translate(key: str, language: Language, **args: object) -> str:
    """Look up `key` in `language` and fill in `args`; a gap is a bug, so it raises."""
    return look_up(MESSAGES, "kiosk/i18n.py", key, language, args)


def other_language(language: Language) -> Language:
    """The language the switch button offers: the terminal has exactly two."""
    return "en" if language == "zh-CN" else "zh-CN"


@dataclass(frozen=True)
class Translator:
    """`translate` bound to one language, so view-model code reads naturally: `t("help.title")`."""

    language: Language

    def __call__(self, key: str, **args: object) -> str:
        return translate(key, self.language, **args)
