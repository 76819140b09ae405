"""Numeric quantities of a Chinese or English text as value intervals: what the `numbers` metric compares.

`harness.data.numbers` reduces a text to exact values for the reference check; this module keeps
each quantity as it is written and what it means, an interval ``[low, high]``:

- exact amounts are one point: ``1750亿`` = ``175 billion`` = [1.75e11, 1.75e11], ``1.2万`` = 12000,
  ``两千`` = 2000, ``百分之三十`` = ``30%`` = ``30 percent`` = 30, ``25,000``, ``3.1 bn``, ``2023年``,
  ``3月5日`` (3 and 5), ``March`` (3);
- approximate amounts are ranges, never points: ``三十多`` [30, 40), ``300多万`` [3e6, 4e6),
  ``几十`` / ``数十`` [20, 90], ``十几`` [11, 19], ``六七个亿`` [6e8, 7e8], ``上万亿`` / ``成千`` from
  1e12 / 1000 up (no upper bound), ``600–700 million`` [6e8, 7e8], ``tens of billions`` [1e10, 1e11),
  ``hundreds of`` [100, 1000), ``dozens of`` [24, 108].

Two readings per text (`Reading`): ``strict``, the quantities that must be accounted for (written
in digits, Chinese numerals other than a bare 一, English number words two and up or with a scale,
month names), and ``loose``, every value the text can express (adds 一 / one / first / both /
twice / decade …, and each end of a range). A quantity of one side counts as matched when it
overlaps a quantity of the other side's loose reading: a translation that writes "both" for 两
keeps the 2, while a "first" nobody asked for is no invented number. Pure functions; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from harness.data.numbers import (
    BIG_UNITS_ZH,
    DIGITS_ZH,
    MONTHS_EN,
    NOT_NUMBERS_ZH,
    NUMERAL_ZH,
    SCALES_EN,
    SMALL_UNITS_ZH,
    WORDS_EN,
    canonical,
    digit_pair_range,
    multiplier,
    parse_chinese_numeral,
    source_numbers,
    target_numbers,
)


@dataclass(frozen=True)
class Quantity:
    """An amount as written (``text``) and the interval it means; ``high`` None = no upper bound."""

    text: str
    low: Decimal
    high: Decimal | None
    high_open: bool = False  # [30, 40) for 三十多: 40 is not "thirty-odd"

    @property
    def exact(self) -> bool:
        return self.high == self.low

    @property
    def key(self) -> tuple:
        return (self.low, self.high, self.high_open)

    def value_text(self) -> str:
        """1750亿 → ``175000000000``, 三十多 → ``[30, 40)``, 上万亿 → ``≥1000000000000``."""
        if self.exact:
            return canonical(self.low)
        if self.high is None:
            return f"≥{canonical(self.low)}"
        return f"[{canonical(self.low)}, {canonical(self.high)}{')' if self.high_open else ']'}"

    def display(self) -> str:
        return f"{self.text} = {self.value_text()}"

    def overlaps(self, other: Quantity) -> bool:
        """Intervals share a value (an exact value inside a range, or two ranges that overlap)."""
        return _below(self.low, other) and _below(other.low, self)


def _below(low: Decimal, q: Quantity) -> bool:
    """``low`` is not above ``q``'s upper end."""
    if q.high is None:
        return True
    return low < q.high if q.high_open else low <= q.high


def exact(text: str, value: Decimal) -> Quantity:
    return Quantity(text, value, value)


@dataclass(frozen=True)
class Reading:
    strict: tuple[Quantity, ...]  # each value once, in order of appearance
    loose: tuple[Quantity, ...]

    def matches(self, q: Quantity) -> bool:
        return any(q.overlaps(x) for x in self.loose)


def unique(quantities) -> tuple[Quantity, ...]:
    seen, out = set(), []
    for q in quantities:
        if q.key not in seen:
            seen.add(q.key)
            out.append(q)
    return tuple(out)


# --- Chinese -----------------------------------------------------------------------------------

# before: 几 / 数 (几十, 数百, 几个亿), 上 / 成 (上万, 成千); after: 几 (十几), 多 / 余 (三十多, 300多万);
# 个 (六七个亿) or a space (60 万) may stand between a number and its multiplier.
QUANTITY_ZH = re.compile(
    rf"(?P<before>[几幾数數][个個]?|[上成])?"
    rf"(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|[{NUMERAL_ZH}]+)"
    rf"(?P<after>[几幾多余餘])?"
    rf"(?P<mult>[ 个個]?(?:万亿|萬億|亿|億|万|萬)+)?"
)
UNIT_ZH = {**SMALL_UNITS_ZH, **BIG_UNITS_ZH}
PERCENT_ZH = "百分之"
PERCENT_MASK = "\ue000" * len(PERCENT_ZH)  # stands for 百分之 while reading (private-use characters)
# Loose readings only: 一 ("a", "one"), 首 ("first"), 双 / 俩 ("both", "pair", "two"), and halves
# that English says in whole units: 半年 "six months", 半个月 "two weeks" / "15 days", 半小时 "30 minutes".
LOOSE_ZH = {"一": (1,), "首": (1,), "双": (2,), "雙": (2,), "俩": (2,), "倆": (2,), "半年": (6,),
            "半个月": (2, 15), "半個月": (2, 15), "半小时": (30,), "半小時": (30,)}


def _step(num: str) -> Decimal:
    """The place of a round number's last significant digit: 三十 → 10, 两万 → 10000, 300 → 100."""
    if not num[0].isdigit():
        return Decimal(UNIT_ZH.get(num[-1], 1))
    digits = num.replace(",", "")
    if "." in digits:
        return Decimal(1).scaleb(-len(digits.split(".")[1]))
    return Decimal(10) ** (len(digits) - len(digits.rstrip("0")))


def _chinese_match(m: re.Match, text: str) -> Quantity | None:
    before, num, after, mult = m.group("before") or "", m.group("num"), m.group("after") or "", m.group("mult") or ""
    factor = Decimal(multiplier(mult))
    shown = m.group(0)[len(before):].rstrip(" ")
    if text[:m.start("num")].endswith(PERCENT_MASK):  # 百分之三十 is shown whole
        shown = PERCENT_ZH + shown
    unit_only = all(c in UNIT_ZH for c in num)
    if before[:1] in ("几", "幾", "数", "數") and unit_only:  # 几十, 数百, 几十万: 2 to 9 of the unit
        unit = parse_chinese_numeral(num)
        return Quantity(before + shown, 2 * unit * factor, 9 * unit * factor)
    if before in ("上", "成") and unit_only:  # 上万亿, 成千: at least the unit
        return Quantity(before + shown, parse_chinese_numeral(num) * factor, None)
    if num[0].isdigit():
        if m.start("num") > 0 and text[m.start("num") - 1] == ".":  # the tail of a version (1.2.3)
            return None
        value = Decimal(num.replace(",", ""))
    else:
        head = num.rstrip("".join(BIG_UNITS_ZH))  # 六七万: the range is 六七, 万 multiplies it
        pair = digit_pair_range(head) if head else None
        if pair is not None and not after:
            scale = factor * multiplier(num[len(head):])
            return Quantity(shown, pair[0] * scale, pair[1] * scale)
        value = parse_chinese_numeral(num)
    if after in ("几", "幾") and num[-1] in SMALL_UNITS_ZH:  # 十几 [11, 19], 二十几万
        step = Decimal(SMALL_UNITS_ZH[num[-1]]) / 10
        return Quantity(shown, (value + step) * factor, (value + 9 * step) * factor)
    if after in ("多", "余", "餘") and value > 0:  # 三十多 [30, 40), 300多万 [3e6, 4e6)
        return Quantity(shown, value * factor, (value + _step(num)) * factor, high_open=True)
    if len(num) == 1 and num in DIGITS_ZH and not mult and text[m.end():m.end() + 1] == "成":
        return exact(shown + "成", value * 10)  # 八成 = 80 % (tenths)
    if value == 1 and factor == 1 and not num[0].isdigit():
        return None  # a bare 一: "a", "an", "one" or nothing (loose reading only)
    return exact(shown, value * factor)


def chinese_quantities(text: str) -> Reading:
    masked = text
    for word in NOT_NUMBERS_ZH:  # 百度, 十分: numeral characters that are no number
        masked = masked.replace(word, "　" * len(word))
    masked = masked.replace(PERCENT_ZH, PERCENT_MASK)  # 百分之三十 is 30, not 100 and 30
    masked = masked.translate({ord(c): ord("0") + i for i, c in enumerate("０１２３４５６７８９")})
    strict = [q for m in QUANTITY_ZH.finditer(masked) if (q := _chinese_match(m, masked)) is not None]
    loose = [*strict, *(exact(v, Decimal(v)) for v in source_numbers(text))]
    loose += [exact(word, Decimal(v)) for word, values in LOOSE_ZH.items() if word in masked for v in values]
    return Reading(unique(strict), unique(loose))


# --- English -----------------------------------------------------------------------------------

TOKEN_EN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[A-Za-z]+|\S")
# Number words read strictly: cardinals from two (one, first, both, twice … are loose only).
CARDINALS_EN = {w: WORDS_EN[w] for w in (
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety").split()}
TENS_EN = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
# "tens of", "hundreds of millions": a range of the unit, [unit, next unit); dozens [24, 108].
PLURALS_EN = {"tens": (10, 100), "dozens": (24, 108), "hundreds": (100, 1000), "thousands": (10**3, 10**6),
              "millions": (10**6, 10**9), "billions": (10**9, 10**12), "trillions": (10**12, 10**15)}
RANGE_LINKS_EN = ("–", "—", "-", "to", "and", "or")


def _scale_at(tokens: list[re.Match], j: int) -> tuple[int, int]:
    """Product of the scale words from token j on (175 billion, 3-million) and the index after them."""
    factor = 1
    while j < len(tokens):
        word = tokens[j].group().lower()
        if word == "-" and j + 1 < len(tokens) and tokens[j + 1].group().lower() in SCALES_EN:
            j += 1
            word = tokens[j].group().lower()
        if word not in SCALES_EN:
            break
        factor *= SCALES_EN[word]
        j += 1
    return factor, j


def _english_atoms(text: str, tokens: list[re.Match]) -> list[tuple[Quantity, int] | str]:
    """Quantities with their scale factor (for ranges: 600–700 million); other tokens as text."""
    atoms: list[tuple[Quantity, int] | str] = []
    i = 0
    while i < len(tokens):
        tok, low = tokens[i].group(), tokens[i].group().lower()
        start, value, end = tokens[i].start(), None, i + 1
        if tok[0].isdigit():
            value = Decimal(tok.replace(",", ""))
        elif low in CARDINALS_EN:
            value = Decimal(CARDINALS_EN[low])
            if low in TENS_EN:  # twenty-five, twenty five
                j = i + 1 + (i + 1 < len(tokens) and tokens[i + 1].group() == "-")
                if j < len(tokens) and 1 <= WORDS_EN.get(tokens[j].group().lower(), 0) <= 9:
                    value += WORDS_EN[tokens[j].group().lower()]
                    end = j + 1
        elif low in ("one", "a", "an") and i + 1 < len(tokens) and tokens[i + 1].group().lower() in SCALES_EN:
            value = Decimal(1)  # one million, a hundred, a trillion-parameter model
        elif low in ("few", "several") and i + 1 < len(tokens) and tokens[i + 1].group().lower() in SCALES_EN:
            factor, j = _scale_at(tokens, i + 1)  # a few hundred, several million: 2 to 9 of the unit
            atoms.append((Quantity(text[start:tokens[j - 1].end()], Decimal(2 * factor), Decimal(9 * factor)), factor))
            i = j
            continue
        elif tok in MONTHS_EN and (tok != "May" or _next_is_digit(tokens, i)):  # May: the month only before a day
            atoms.append((exact(tok, Decimal(MONTHS_EN.index(tok) + 1)), 1))
            i += 1
            continue
        elif low in PLURALS_EN:  # tens of billions, hundreds of millions
            lo, hi = PLURALS_EN[low]
            j, factor = i + 1, 1
            if j + 1 < len(tokens) and tokens[j].group().lower() == "of" and tokens[j + 1].group().lower() in PLURALS_EN:
                factor, j = PLURALS_EN[tokens[j + 1].group().lower()][0], j + 2
            if low in ("millions", "billions", "trillions") or factor > 1 or (j < len(tokens) and tokens[j].group() == "of"):
                q = Quantity(text[start:tokens[j - 1].end()], Decimal(lo * factor), Decimal(hi * factor), high_open=True)
                atoms.append((q, factor))
                i = j
                continue
        if value is None:
            atoms.append(tok)
            i += 1
            continue
        factor, j = _scale_at(tokens, end)
        atoms.append((exact(text[start:tokens[j - 1].end()], value * factor), factor))
        i = j
    return atoms


def _next_is_digit(tokens: list[re.Match], i: int) -> bool:
    return i + 1 < len(tokens) and tokens[i + 1].group()[0].isdigit()


def english_quantities(text: str) -> Reading:
    atoms = _english_atoms(text, list(TOKEN_EN.finditer(text)))
    strict: list[Quantity] = []
    k = 0
    while k < len(atoms):
        a = atoms[k]
        if not isinstance(a, tuple):
            k += 1
            continue
        # 600–700 million, between 60 and 70 thousand: one range sharing the scale written last
        if k + 2 < len(atoms) and isinstance(atoms[k + 1], str) and atoms[k + 1].lower() in RANGE_LINKS_EN \
                and isinstance(atoms[k + 2], tuple) and a[1] == 1 and atoms[k + 2][1] > 1 and a[0].exact:
            b = atoms[k + 2][0]
            text_span = f"{a[0].text}{atoms[k + 1] if atoms[k + 1] in '–—-' else ' ' + atoms[k + 1] + ' '}{b.text}"
            strict.append(Quantity(text_span, a[0].low * atoms[k + 2][1], b.high))
            k += 3
            continue
        strict.append(a[0])
        k += 1
    loose = [*strict, *(exact(v, Decimal(v)) for v in sorted(target_numbers(text), key=Decimal))]
    return Reading(unique(strict), unique(loose))


def read_quantities(text: str, lang: str) -> Reading:
    """The quantities of ``text`` written in ``lang`` (zh | en)."""
    if lang == "zh":
        return chinese_quantities(text)
    if lang == "en":
        return english_quantities(text)
    raise ValueError(f"no number reading for language {lang!r}")
