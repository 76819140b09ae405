"""Strict parsers of judge answers. An answer that does not follow its form is a `Parsed` with a
`problem` and no value: it is counted and shown, never scored (a 0 would be a verdict the judge
never gave).

MQM (GEMBA-MQM, Kocmi & Federmann 2023): the three severities `Critical:`, `Major:`, `Minor:`,
each exactly once, each followed by `no-error` or by one error a line, `category/subcategory -
"span"` (the subcategory is optional; a leading `- ` or `* ` bullet and an enclosing ``` fence are
allowed). Each span must occur in the translation or in the source (an omission's span is in the
source): a span found in neither is an example copied from the prompt or an invention, and the
answer is unparsed. The MQM penalty is 25 per critical, 5 per major and 1 per minor error, capped at 25 as
in GEMBA-MQM; the 0-100 score is ``100 - 4 * min(25, penalty)`` (no error 100, one minor 96, one
major 80, a critical error 0).

Ratings and preferences are forms: exactly one line starting with the field name, and it is
``Field: value`` (``Faithfulness: 4``, ``4/5`` too; ``Preferred: A``, ``B`` or ``tie``). Other
lines (an explanation) are allowed. An answer that is the value alone (``4``, ``B``) fills the
form too: small models answer so, and it cannot be read two ways. A rating 1-5 is scored
``(r - 1) * 25``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

SEVERITIES = {"critical": 25, "major": 5, "minor": 1}
PENALTY_CAP = 25
CATEGORIES = ("accuracy", "fluency", "style", "terminology", "non-translation", "locale convention", "other")
MQM_SCALE = "100-4*min(25,25*critical+5*major+1*minor)"
RATING_SCALE = "(rating-1)*25,rating:1-5"
PREFERENCES = ("A", "B", "tie")

_HEADER = re.compile(r"^(critical|major|minor)\s*:\s*(.*)$", re.IGNORECASE)
_ERROR = re.compile(r'^(?P<category>[a-z][a-z -]*?)(?:/(?P<sub>[a-z][a-z -]*?))?\s+-\s+["“](?P<span>.*)["”]$',
                    re.IGNORECASE)
_NO_ERROR = re.compile(r"^no[- ]errors?\.?$", re.IGNORECASE)
_BULLET = re.compile(r"^[-*]\s+")


@dataclass(frozen=True)
class Parsed:
    value: float | None  # 0-100, None when unparsed
    problem: str | None = None  # why the answer was not parsed
    detail: dict = field(default_factory=dict)  # the errors and the MQM penalty; the rating; the preference

    @property
    def ok(self) -> bool:
        return self.problem is None


def unparsed(problem: str) -> Parsed:
    return Parsed(None, problem)


def _lines(answer: str) -> list[str]:
    lines = [line.strip() for line in answer.strip().splitlines()]
    if len(lines) >= 2 and lines[0].startswith("```") and lines[-1] == "```":  # one enclosing fence
        lines = lines[1:-1]
    return [line for line in lines if line]


def parse_mqm(answer: str, texts: Sequence[str] = ()) -> Parsed:
    """A GEMBA-MQM answer → the 0-100 score, with the errors and the penalty in `detail`. With
    `texts` (the translation and the source), every span must occur in one of them."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in _lines(answer):
        header = _HEADER.match(line)
        if header:
            current = header.group(1).lower()
            if current in sections:
                return unparsed(f"'{current}' appears twice")
            sections[current] = [header.group(2).strip()] if header.group(2).strip() else []
        elif current is None:
            return unparsed(f"text before the first severity: {line[:60]!r}")
        else:
            sections[current].append(_BULLET.sub("", line))
    missing = [s for s in SEVERITIES if s not in sections]
    if missing:
        return unparsed(f"no '{missing[0].capitalize()}:' section")
    errors = []
    for severity, lines in sections.items():
        if not lines:
            return unparsed(f"'{severity}' lists nothing (neither errors nor no-error)")
        no_error = [line for line in lines if _NO_ERROR.match(line)]
        if no_error and len(lines) > 1:
            return unparsed(f"'{severity}' lists errors and no-error")
        if no_error:
            continue
        for line in lines:
            m = _ERROR.match(line)
            if not m:
                return unparsed(f"'{severity}': not category/subcategory - \"span\": {line[:60]!r}")
            category = m.group("category").strip().lower()
            if category not in CATEGORIES:
                return unparsed(f"'{severity}': unknown category {category!r}")
            sub = (m.group("sub") or "").strip().lower() or None
            span = m.group("span")
            if texts and not any(span.casefold() in t.casefold() for t in texts):
                return unparsed(f"'{severity}': span {span[:40]!r} is in neither the translation nor the source")
            errors.append({"severity": severity, "category": category, "subcategory": sub, "span": span})
    penalty = sum(SEVERITIES[e["severity"]] for e in errors)
    value = 100.0 - 4.0 * min(PENALTY_CAP, penalty)
    return Parsed(value, detail={"errors": errors, "penalty": penalty})


def _form_value(answer: str, field_name: str, pattern: str) -> tuple[str | None, str | None]:
    """The value of the one `Field: value` line, or (None, problem)."""
    every = _lines(answer)
    if len(every) == 1 and re.fullmatch(rf"(?:{pattern})\.?", every[0], re.IGNORECASE):  # the value alone
        return every[0].rstrip("."), None
    lines = [line for line in every if line.lower().startswith(field_name.lower())]
    if not lines:
        return None, f"no '{field_name}:' line"
    if len(lines) > 1:
        return None, f"{len(lines)} '{field_name}:' lines"
    m = re.fullmatch(rf"{re.escape(field_name)}\s*[:：]\s*\**\s*(?P<v>{pattern})\s*\**\.?", lines[0], re.IGNORECASE)
    if not m:
        return None, f"not '{field_name}: <value>': {lines[0][:60]!r}"
    return m.group("v"), None


def parse_rating(answer: str, field_name: str) -> Parsed:
    """`Faithfulness: 4` → 75.0 (a 1-5 rating scaled to 0-100)."""
    raw, problem = _form_value(answer, field_name, r"\d+(?:\s*/\s*5)?")
    if problem:
        return unparsed(problem)
    rating = int(raw.split("/")[0])
    if not 1 <= rating <= 5:
        return unparsed(f"rating {rating} outside 1-5")
    return Parsed((rating - 1) * 25.0, detail={"rating": rating})


def parse_preference(answer: str, field_name: str) -> Parsed:
    """`Preferred: B` → detail {"preferred": "B"}; the value is set when both orders are combined."""
    raw, problem = _form_value(answer, field_name, r"A|B|tie")
    if problem:
        return unparsed(problem)
    label = "tie" if raw.lower() == "tie" else raw.upper()
    return Parsed(None, detail={"preferred": label})


def combine_orders(first: Parsed, second: Parsed) -> Parsed:
    """Preference for system B from the two orders: asked with B shown second, then first. Each
    order gives 1 (B preferred), 0.5 (tie) or 0; the item's value is their mean on 0-100, so a
    judge that always picks the first position scores every item 50."""
    for order, p in (("A/B", first), ("B/A", second)):
        if not p.ok:
            return unparsed(f"order {order}: {p.problem}")
    ab, ba = first.detail["preferred"], second.detail["preferred"]
    for_b = {"B": 1.0, "tie": 0.5, "A": 0.0}[ab] + {"A": 1.0, "tie": 0.5, "B": 0.0}[ba]
    consistent = {"A": "B", "B": "A", "tie": "tie"}[ba] == ab
    return Parsed(for_b / 2 * 100, detail={"order_ab": ab, "order_ba": ba, "consistent": consistent})
