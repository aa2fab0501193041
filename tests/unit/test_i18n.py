"""The message catalog: both languages everywhere, arguments filled, gaps loud."""

from __future__ import annotations

import re

import pytest

from kiosk.i18n import LANGUAGES, MESSAGES, LocalizedText, MessageError, Translator, translate
from kiosk.i18n import other_language as other


def test_every_message_has_every_language_and_the_same_arguments() -> None:
    assert set(LANGUAGES) == {"zh-CN", "en"}
    for key, texts in MESSAGES.items():
        assert set(texts) == set(LANGUAGES), key
        fields = {lang: set(re.findall(r"{(\w+)}", text)) for lang, text in texts.items()}
        assert fields["zh-CN"] == fields["en"], key
        assert all(text.strip() for text in texts.values()), key


def test_chinese_text_is_chinese_and_english_text_is_not() -> None:
    for key, texts in MESSAGES.items():
        if key == "button.language":
            continue  # the switch names the language it switches to
        assert re.search(r"[\u4e00-\u9fff]", texts["zh-CN"]), key
        assert not re.search(r"[\u4e00-\u9fff]", texts["en"]), key


def test_format_arguments_are_filled() -> None:
    assert translate("idle.seconds", "zh-CN", seconds=7) == "7 秒"
    assert Translator("en")("notices.position", index=2, count=5) == "2 of 5"


def test_unknown_key_and_missing_argument_raise_with_the_key() -> None:
    with pytest.raises(MessageError, match="no-such-key"):
        translate("no-such-key", "en")
    with pytest.raises(MessageError, match="seconds"):
        translate("idle.seconds", "en")


def test_other_language_and_localized_text() -> None:
    assert other("zh-CN") == "en"
    assert other("en") == "zh-CN"
    text = LocalizedText(zh="公告", en="Notice")
    assert text.in_language("zh-CN") == "公告"
    assert text.in_language("en") == "Notice"
