"""Numbers in a Chinese segment and in its English translation, normalised to comparable values.

The reference check asks: is every number of the source also in the translation? Both sides are
reduced to a set of exact decimal values written canonically (``"175000000000"``, ``"3.5"``):

- digits with thousands separators and decimals: ``1,000`` ``3.5``;
- the multipliers 万 / 亿 / 万亿 (and Traditional 萬 / 億) and thousand / million / billion /
  trillion: ``1750亿`` and ``175 billion`` are both ``175000000000``; ``1万`` is ``10,000`` or
  ``10 thousand``;
- Chinese numerals (五天 → 5, 二十多 → 20, 两千 → 2000) and English number words, ordinals
  (first, 16th), twice / double, month names (3月 → 3 ← March);
- ranges: 六七个亿 → 600000000 and 700000000, as in ``600–700 million``.

Deliberately not checked (they have no reliable literal English counterpart): the value 1 when
written as a Chinese numeral (一个 / 一种 are "a", "an", "one", "single" or nothing), approximate
amounts with 几 / 数 (十几, 数百, 几十), and words in which a numeral character is no number
(百度, 百科, 十分, 零散, 三位一体, 百分点 "percentage point"). What normalisation still cannot match is listed with a reason in
`references/number_exceptions.yaml`. Pure functions; no I/O.
"""

from __future__ import annotations

import re
from decimal import Decimal

# --- Chinese ---------------------------------------------------------------------------------

DIGITS_ZH = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9}
SMALL_UNITS_ZH = {"十": 10, "百": 100, "千": 1000}
BIG_UNITS_ZH = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
NUMERAL_ZH = "".join([*DIGITS_ZH, *SMALL_UNITS_ZH, *BIG_UNITS_ZH])

# Words in which numeral characters are no number; removed before extraction.
NOT_NUMBERS_ZH = ("百度", "百科", "百分点", "百分點", "十分", "瞬息万变", "瞬息萬變", "五花八门", "五花八門", "十全十美",
                  "三位一体", "三位一體", "万一", "萬一", "千万别", "千萬別", "零散", "一一", "三三两两",
                  # idioms a model's output may use (the `numbers` metric reads outputs too)
                  "老百姓", "百姓", "千方百计", "千方百計", "万物", "萬物", "百花齐放", "百花齊放", "百家争鸣",
                  "百家爭鳴", "万众", "萬眾", "一成不变", "一成不變", "三心二意", "七嘴八舌", "乱七八糟", "亂七八糟",
                  "四面八方", "五湖四海", "千篇一律", "万无一失", "萬無一失", "九牛一毛", "千载难逢", "千載難逢",
                  "千家万户", "千家萬戶", "一五一十", "万事", "萬事")

# 百分之三十 → 30%: drop the 百分之 so that 30 is read, not 100.
PERCENT_ZH = re.compile(r"百分之")

# A number: Arabic digits (optionally with thousands separators and decimals) or a run of Chinese
# numerals, then an optional multiplier; 个 (六七个亿), 多 (300多万: "more than 3 million") or a
# space (60 万) may stand between the number and its multiplier.
NUMBER_ZH = re.compile(
    rf"(?P<approx_before>[几幾数數])?"
    rf"(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|[{NUMERAL_ZH}]+)"
    rf"(?P<mult>(?:[ 多余餘个個](?=[亿億万萬]))?(?:万亿|萬億|亿|億|万|萬)*)"
    rf"(?P<approx_after>[几幾])?"
)


def parse_chinese_numeral(text: str) -> Decimal:
    """一千二百三十四 → 1234, 两万 → 20000, 十五 → 15, 一万亿 → 10**12, 二〇二三 → 2023 (digit by digit)."""
    if not text or any(c not in NUMERAL_ZH for c in text):
        raise ValueError(f"not a Chinese numeral: {text!r}")
    if len(text) > 2 and all(c in DIGITS_ZH for c in text):  # 二〇二三: a year written digit by digit
        return Decimal("".join(str(DIGITS_ZH[c]) for c in text))
    total, section, digit = 0, 0, None
    for c in text:
        if c in DIGITS_ZH:
            digit = DIGITS_ZH[c]
        elif c in SMALL_UNITS_ZH:
            section += (1 if digit is None else digit) * SMALL_UNITS_ZH[c]
            digit = None
        else:  # 万 / 亿 multiply what precedes them
            unit, value = BIG_UNITS_ZH[c], section + (digit or 0)
            if unit == 10**8:  # 亿 multiplies everything before it (一万亿 = 10**12)
                total = (total + value) * unit if total + value else unit
            else:
                total += (value or 1) * unit
            section, digit = 0, None
    return Decimal(total + section + (digit or 0))


def multiplier(mult: str) -> int:
    factor = 1
    for c in mult:
        factor *= BIG_UNITS_ZH.get(c, 1)
    return factor


def digit_pair_range(num: str) -> list[Decimal] | None:
    """六七 → [6, 7], 两三 → [2, 3], 十五六 → [15, 16]: two adjacent digits meaning 'N or N+1'."""
    head, pair = num[:-2], num[-2:]
    if len(pair) == 2 and all(c in DIGITS_ZH for c in pair) and (not head or head[-1] in SMALL_UNITS_ZH):
        a, b = (DIGITS_ZH[c] for c in pair)
        if b == a + 1 and a > 0:
            base = parse_chinese_numeral(head) if head else Decimal(0)
            return [base + a, base + b]
    return None


def canonical(value: Decimal) -> str:
    """One spelling per value: no exponent, no trailing zeros (1.50 → 1.5, 1E+3 → 1000)."""
    return format(value.normalize(), "f")


def source_numbers(zh: str) -> list[str]:
    """The numbers of a Chinese segment, canonical, in order of appearance, each once."""
    for word in NOT_NUMBERS_ZH:
        zh = zh.replace(word, "　" * len(word))
    zh = PERCENT_ZH.sub("", zh)
    zh = zh.translate({ord(c): ord("0") + i for i, c in enumerate("０１２３４５６７８９")})
    found: list[str] = []
    for m in NUMBER_ZH.finditer(zh):
        num, mult = m.group("num"), m.group("mult")
        if m.group("approx_before") or m.group("approx_after"):
            continue  # 数百, 十几: approximate, no literal counterpart
        if num[0].isdigit():
            if m.start() > 0 and zh[m.start() - 1] in ".":  # the tail of a version such as GPT-3.5
                continue
            values = [Decimal(num.replace(",", ""))]
        else:
            head = num.rstrip("".join(BIG_UNITS_ZH))  # 六七万: the range is 六七, 万 multiplies it
            values = digit_pair_range(head) if head else None
            if values is not None:
                mult = num[len(head):] + mult
            else:
                values = [parse_chinese_numeral(num)]
            if values == [Decimal(1)] and not mult:
                continue  # 一: "a", "an", "one" or nothing in English
        factor = multiplier(mult)
        for v in values:
            text = canonical(v * factor)
            if text not in found:
                found.append(text)
    return found


# --- English ---------------------------------------------------------------------------------

WORDS_EN = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "twice": 2, "double": 2, "both": 2, "pair": 2, "triple": 3,
    "threefold": 3, "single": 1, "once": 1, "decade": 10,
}
SCALES_EN = {"hundred": 100, "thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12,
             "bn": 10**9}  # 3.1 bn, $90bn
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")

TOKEN_EN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[A-Za-z]+|\S")
TENS_EN = {"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
RANGE_LINKS = {"–", "—", "-", "to", "or", "and"}


def _scale(tokens: list[str], j: int) -> tuple[int, int]:
    """Product of the scale words from ``tokens[j]`` on (175 billion, 3-million, hundred million)."""
    factor = 1
    while j < len(tokens):
        if tokens[j] == "-" and j + 1 < len(tokens) and tokens[j + 1].lower() in SCALES_EN:
            j += 1
        if tokens[j].lower() not in SCALES_EN:
            break
        factor *= SCALES_EN[tokens[j].lower()]
        j += 1
    return factor, j


def _atoms(tokens: list[str]) -> list[tuple[Decimal, int] | str]:
    """Tokens with every number turned into (value, scale factor); other tokens kept as text."""
    atoms: list[tuple[Decimal, int] | str] = []
    i = 0
    while i < len(tokens):
        tok, low = tokens[i], tokens[i].lower()
        if tok[0].isdigit():
            number = Decimal(tok.replace(",", ""))
        elif tok in MONTHS_EN:
            atoms.append((Decimal(MONTHS_EN.index(tok) + 1), 1))
            i += 1
            continue
        elif low in ("tens", "hundreds", "thousands") and i + 2 < len(tokens) and tokens[i + 1] == "of" \
                and tokens[i + 2].lower().rstrip("s") in SCALES_EN:
            # tens of billions, hundreds of millions: the smallest amount they can mean
            amount = 10 if low == "tens" else SCALES_EN[low[:-1]]
            number = Decimal(amount) * SCALES_EN[tokens[i + 2].lower().rstrip("s")]
            atoms.append((number, 1))
            i += 3
            continue
        elif low in WORDS_EN:
            number = Decimal(WORDS_EN[low])
            if low in TENS_EN:  # twenty-five, twenty five
                j = i + 1 + (i + 1 < len(tokens) and tokens[i + 1] == "-")
                if j < len(tokens) and 1 <= WORDS_EN.get(tokens[j].lower(), 0) <= 9:
                    number += WORDS_EN[tokens[j].lower()]
                    i = j
        elif low in SCALES_EN or (low.endswith("s") and low[:-1] in SCALES_EN):
            number = Decimal(1)  # a bare scale: "a hundred models", "a trillion", "millions"
            factor, j = _scale(tokens, i) if low in SCALES_EN else (SCALES_EN[low[:-1]], i + 1)
            atoms.append((number * factor, factor))
            i = j
            continue
        else:
            atoms.append(tok)
            i += 1
            continue
        factor, j = _scale(tokens, i + 1)
        atoms.append((number * factor, factor))
        i = j
    return atoms


def target_numbers(en: str) -> set[str]:
    """Every value an English text expresses, canonical (see the module docstring)."""
    atoms = _atoms(TOKEN_EN.findall(en))
    values = [a[0] for a in atoms if isinstance(a, tuple)]
    # A range shares the scale written after its last number: 600–700 million, 60 to 70 thousand.
    for k in range(len(atoms) - 2):
        a, link, b = atoms[k : k + 3]
        if isinstance(a, tuple) and isinstance(b, tuple) and isinstance(link, str) and link.lower() in RANGE_LINKS:
            if a[1] == 1 and b[1] > 1:
                values.append(a[0] * b[1])
    return {canonical(v) for v in values}


def missing_numbers(zh: str, en: str) -> list[str]:
    """Numbers of the Chinese segment that its English translation does not express."""
    present = target_numbers(en)
    return [n for n in source_numbers(zh) if n not in present]
