"""Off-target detection: an output mostly in the other language is counted (never dropped)."""

from __future__ import annotations

import pytest

from harness.score.text import off_target, word_units


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        # English target: mostly CJK is off-target; units = CJK characters + Latin words.
        ("“太忙了。”", "en", True),  # 3 CJK, 0 words
        ("OpenAI推出AI聊天机器人ChatGPT", "en", True),  # 7 CJK > 3 words
        ("OpenAI launched ChatGPT, a chatbot (聊天机器人).", "en", False),  # 5 CJK < 5 words + ...
        ("Too busy.", "en", False),
        # Chinese target: mostly Latin words is off-target (the copy baseline of en→zh).
        ("“Too busy.”", "zh", True),  # 2 words, 0 CJK
        ("In the first half of 2023, OpenAI launched 聊天机器人.", "zh", True),  # 9 words > 5 CJK
        ("OpenAI推出AI聊天机器人ChatGPT", "zh", False),  # 7 CJK > 3 words
        ("GPT4发布了", "zh", False),
        # Too short to judge either way.
        ("好", "en", False),
        ("A", "zh", False),
        ("", "zh", False),
    ],
)
def test_off_target(text, lang, expected):
    assert off_target(text, lang) is expected


def test_word_units_count_cjk_characters_and_latin_words():
    assert word_units("GPT4发布了") == (3, 1, 1)
    assert word_units("Too busy.") == (0, 2, 2)
