"""Post-processing of model outputs: a short list of named rules, nothing else is rewritten.

The raw output is always kept next to the cleaned one, and the rules applied are written into the
results (`manifest.json` → `postprocess_rules`). A config picks rules by name (`postprocess:`);
the default is all three, in this order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.registry import lookup

_REASONING_TAGS = ("think", "thinking", "reasoning", "reflection")
_CLOSED_BLOCK = re.compile(r"<(%s)>.*?</\1>" % "|".join(_REASONING_TAGS), re.DOTALL | re.IGNORECASE)
_UNCLOSED_BLOCK = re.compile(r"<(%s)>.*\Z" % "|".join(_REASONING_TAGS), re.DOTALL | re.IGNORECASE)
_STRAY_CLOSE = re.compile(r"\A.*?</(%s)>" % "|".join(_REASONING_TAGS), re.DOTALL | re.IGNORECASE)
LABELS = ("Summary", "Translation", "English", "Chinese", "摘要", "总结", "译文", "翻译", "中文")
_LABEL = re.compile(r"\A\s*(?:\*\*)?(?:%s)\s*(?:\*\*)?\s*[:：]\s*(?:\*\*)?" % "|".join(LABELS), re.IGNORECASE)


def strip_reasoning(text: str) -> str:
    text = _CLOSED_BLOCK.sub("", text)
    text = _UNCLOSED_BLOCK.sub("", text)  # cut off at max_new_tokens while still reasoning: no answer
    return _STRAY_CLOSE.sub("", text)  # the chat template opened the block, the model closed it


def strip_label(text: str) -> str:
    return _LABEL.sub("", text, count=1)


def trim(text: str) -> str:
    return text.strip()


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    apply: callable


RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule("strip_reasoning", "remove <think>…</think> (also thinking/reasoning/reflection) blocks; an unclosed "
             "block is removed to the end, a lone closing tag removes everything before it", strip_reasoning),
        Rule("strip_label", "remove one leading answer label: " + ", ".join(f"'{x}:'" for x in LABELS)
             + " (either colon, optionally in **bold**)", strip_label),
        Rule("trim", "strip leading and trailing whitespace", trim),
    )
}


def clean(raw: str, rules: Sequence[str]) -> str:
    text = raw
    for name in rules:
        text = lookup("post-processing rule", name, RULES).apply(text)
    return text


def describe(rules: Sequence[str]) -> list[dict]:
    return [{"name": n, "description": RULES[n].description} for n in rules]
