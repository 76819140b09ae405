"""The seed catalogue and its cleaning rules, one documented rule at a time.

Every rule is a regular expression with the number of matches it must find in its seed
(``count``). The seeds are pinned by sha256, so a rule that suddenly matches a different
number of times means the rule or the input changed, and the build stops instead of
cleaning silently wrong. ``docs/data.md`` explains each rule in prose; ``harness data
report`` prints exactly what each one removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.text import CLOSERS, SENTENCE_END

CJK = "\u4e00-\u9fff"
# Tone-marked (and plain) pinyin letters as they occur in the annotations of 004.
PINYIN_LETTERS = "a-zàáǎèéěìíǐòóǒùúǔüǖǘǚǜāēīōū"


@dataclass(frozen=True)
class CleaningRule:
    """Replace every match of ``pattern`` by ``repl`` (removal when ``repl`` is empty).

    ``count``: exact number of matches expected, ``None`` for the generic whitespace rules.
    ``field``: store group 1 of each match (stripped) as document metadata under this name;
    ``split`` turns that value into a list.
    """

    name: str
    why: str
    pattern: str
    repl: str = ""
    count: int | None = 1
    field: str | None = None
    split: str | None = None

    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.MULTILINE)


@dataclass(frozen=True)
class SeedSpec:
    doc_id: str
    filename: str
    sha256: str
    script: str  # ISO 15924: Hans (Simplified) or Hant (Traditional)
    rules: tuple[CleaningRule, ...]
    metadata: dict[str, str] = field(default_factory=dict)  # known facts not in the file


# Applied to every document after its own rules. They only touch whitespace.
GENERIC_RULES: tuple[CleaningRule, ...] = (
    CleaningRule("crlf", "normalise line endings", r"\r\n?", "\n", count=None),
    CleaningRule("line-edges", "strip spaces at the start and end of lines", r"^[ \t\u3000]+|[ \t\u3000]+$", count=None),
    CleaningRule(
        "space-after-sentence",
        "Chinese typesetting puts no space after a sentence; the space would otherwise "
        "start the next segment",
        rf"(?<=[{SENTENCE_END}])([{CLOSERS}]*)[ \t\u3000]+(?=\S)",
        r"\1",
        count=None,
    ),
    CleaningRule("blank-lines", "paragraphs are separated by exactly one newline", r"\n{2,}", "\n", count=None),
    CleaningRule("text-edges", "no blank lines before the first or after the last paragraph", r"\A\n+|\n+\Z", count=None),
)


SEEDS: tuple[SeedSpec, ...] = (
    SeedSpec(
        "000",
        "000_1f2affcd22265d64.txt",
        "f74fcfd043a274a305fc68455c01da28b5b7e8b329deccd06e97175cb9a0256d",
        "Hans",
        (
            CleaningRule(
                "appended-article",
                "from (上接第一版) to the end the page continues an unrelated article about "
                "联影医疗 (United Imaging) from the front page; it is not part of this document",
                r"^\(上接第一版\)[\s\S]*\Z",
            ),
            CleaningRule("graphics-credit", "credit line of the timeline graphic", r"^制图:张继[ \t]*\n"),
            CleaningRule("markdown-residue", "bold markers left by the page extraction in the timeline", r"\*\*", count=7),
            CleaningRule(
                "timeline-sidebar",
                "the 发展时间线 sidebar (a dated list compiled by another reporter, with its credit "
                "line) is not running text: kept as metadata `sidebar`, not segmented or translated",
                r"^发展时间线\n+([\s\S]*?)[ \t]*本报记者 孙钦祺编译整理[ \t]*\n",
                field="sidebar",
            ),
            CleaningRule("title", "headline → metadata `title`", r"\A\s*(大模型爆火这一年)\n", field="title"),
            CleaningRule("subtitle", "subtitle → metadata `subtitle`", r"\A\s*——(.+)\n", field="subtitle"),
            CleaningRule("byline", "byline → metadata `author`", r"\A\s*■本报记者 (.+)\n", field="author"),
            CleaningRule(
                "photo-caption",
                "a photo caption printed in the middle of the sentence …大模型得以涌|现的“门槛”…; "
                "removing it with the surrounding blank lines rejoins the sentence",
                r"(?<=得以涌)\n+一年前,OpenAI推出的大语言模型ChatGPT[^\n]*均视觉中国\n+(?=现的“门槛”)",
            ),
            CleaningRule(
                "page-break-join",
                "two paragraphs broken across a page/column break mid-word or mid-sentence are rejoined",
                r"(?<=下半年大)\n+(?=家对大模型)|(?<=求助了17位医生,)\n+(?=都没有诊断出原因)",
                count=2,
            ),
            CleaningRule(
                "quote-repair",
                "the quotation 我们的算法非常简单 lost its opening mark and has its closing mark "
                "reversed (。“伊利亚); restored so that sentence splitting sees a closed quotation",
                r"(?<=的代表。)我们的算法非常简单。“(?=伊利亚)",
                "“我们的算法非常简单。”",
            ),
        ),
    ),
    SeedSpec(
        "001",
        "001_14a89fbed0affdd6.txt",
        "2d191cef06db3b55cd700b19c6680ff49c445b88a594fa29463b5b80a93ff665",
        "Hans",
        (
            CleaningRule("title", "标题 header → metadata `title` (truncated with … by the source page)", r"\A标题: (.+)\n", field="title"),
            CleaningRule("url", "链接 header → metadata `url`", r"^链接: (.+)\n", field="url"),
            CleaningRule("summary-label", "the article body is the value of the 总结 field; the label goes", r"^总结: "),
            CleaningRule("byline", "byline 文|白马商评 → metadata `author`", r"^文\|(白马商评)", field="author"),
            CleaningRule("report-link", "page footer 举报/反馈 (report/feedback link)", r"举报/反馈\n", "\n"),
            CleaningRule("keywords", "关键词 → metadata `keywords`", r"^关键词: (.+)\n", field="keywords", split=", "),
            CleaningRule("ai-tags", "site tag list AI技术 → metadata `ai_tags`", r"^AI技术: (.+)\n", field="ai_tags", split=", "),
            CleaningRule("industry-tags", "site tag list 行业 → metadata `industry_tags`", r"^行业: (.+)\n", field="industry_tags", split=", "),
            CleaningRule(
                "publisher-summary",
                "the 重大事件摘要 block is a publisher/machine summary: metadata `publisher_summary`, "
                "never a reference",
                r"^重大事件摘要: ([\s\S]*)\Z",
                field="publisher_summary",
            ),
            CleaningRule(
                "speaker-turns",
                "the interview is one line in the source; every speaker turn (白马商评：/沈为：) "
                "starts a paragraph",
                r"(?=(?:白马商评|沈为)：)",
                "\n",
                count=28,
            ),
        ),
        {"source": "百家号 (baijiahao.baidu.com)"},
    ),
    SeedSpec(
        "002",
        "002_91941788d1261b53.txt",
        "74def96bb4ceb008682c9fdf018d8da76f73fdbe3f1d0218e5a71ed437f9902d",
        "Hans",
        (
            CleaningRule("title", "headline → metadata `title`", r"\A\s*(观点:不要让大模型变成一场华丽的烟花秀)\n", field="title"),
            CleaningRule("visitor-counter", "page chrome 访客|131 (visitor counter)", r"^访客\|\n\d+\n"),
            CleaningRule("author", "author line → metadata `author`", r"^作者:(.+)\n", field="author"),
            CleaningRule("empty-source", "an empty 来源: (source) line", r"^来源:[ \t]*\n"),
            CleaningRule(
                "highlights",
                "two “·” highlight bullets written by the publisher → metadata `publisher_summary`",
                r"^·(.+)\n",
                count=2,
                field="publisher_summary",
            ),
        ),
    ),
    SeedSpec(
        "003",
        "003_214608048b3aaf65.txt",
        "7e672dce860a395499807a46b0ab3b63bcae7c5ab9291ee0f61bcaacb2b8e984",
        "Hans",
        # No chrome: the editor's lead paragraph and the 机器之心:/王延峰: speaker turns are
        # part of the article and stay in the text (the labels matter for translation).
        (),
        {"source": "机器之心 (Synced), named in the text as the interviewer"},
    ),
    SeedSpec(
        "004",
        "004_2815f39c85edf9b7.txt",
        "a7ee6d8a51e5f8dea680086efdbd2a4af53727850a4b0d073f7e673c49a9f52b",
        "Hant",
        (
            CleaningRule(
                "mojibake-crawl",
                "the span 網(wǎng)頁爬?。? is mangled text (an encoding error ate 取 and the opening "
                "parenthesis); repaired by hand to 網頁爬取 ( from the parallel list 公開數據 (…) 、"
                "開源數據集、網頁爬取 (…) 、私有數據集 (…)",
                r"網\(wǎng\)頁爬\?。\? ",
                "網頁爬取 (",
            ),
            CleaningRule(
                "mojibake-realise",
                "the span 領(lǐng)域?qū)崿F(xiàn)了 is mangled text (實現 decoded with the wrong codec); "
                "repaired by hand to 領域實現了 (…處理領域實現了革命性突破)",
                r"領\(lǐng\)域\?qū\)崿F\(xiàn\)了",
                "領域實現了",
            ),
            CleaningRule(
                "pinyin-annotations",
                "the page annotates many characters with their pinyin in ASCII parentheses "
                "(國內(nèi) → 國內); every annotation goes, nothing else",
                rf"(?<=[{CJK}])\([{PINYIN_LETTERS}]+\)",
                count=649,
            ),
            CleaningRule("breadcrumb", "page chrome 首頁 >國內 > (breadcrumb)", r"\A\s*首頁 >國內 >\n"),
            CleaningRule("title", "headline → metadata `title`; the site suffix |最新資訊 goes", r"\A\s*(.+)\|最新資訊\n", field="title"),
            CleaningRule("photo-placeholder", "(資料圖) stands for a stock photo that is not in the text", r"^\(資料圖\)\n"),
            CleaningRule("figure-callout", "call-out of a figure that is not in the text", r"圖ChatGPT發展路徑 "),
            CleaningRule("table-callout", "call-out of a table that is not in the text", r"^表ChatGPT主要應用場景\n"),
            CleaningRule(
                "split-headings",
                "two section headings are printed over two lines; each is rejoined into one paragraph",
                r"(?<=^ChatGPT具有里程碑意義)\n+(?=將引發新一輪人工智能革命$)"
                r"|(?<=^我國人工智能“大模型”)\n+(?=現狀與面臨的問題$)",
                count=2,
            ),
            CleaningRule("keywords-empty", "an empty 關鍵詞: (keywords) line", r"^關鍵詞:[ \t]*\n"),
            CleaningRule("editor", "責任編輯 (responsible editor) → metadata `editor`", r"^責任編輯:(.+)\n", field="editor"),
            CleaningRule("read-more", "page chrome 推薦閱讀 (recommended reading)", r"^推薦閱讀[ \t]*\Z"),
            CleaningRule(
                "space-before-punctuation",
                "stray spaces before punctuation (“大模型” 。, (如下圖所示) ,) left by the page layout",
                r"[ \t]+(?=[。，、；：！？,])",
                count=14,
            ),
            CleaningRule(
                "lost-paragraph-breaks",
                "the page flattened paragraphs into one line separated by a space after 。 or :; "
                "each such space is a paragraph break",
                r"(?<=[。:：])[ \t]+(?=\S)",
                "\n",
                count=38,
            ),
            CleaningRule(
                "figure-reference",
                "(如下圖所示) (\"as shown in the figure below\") in 004-p06 points to a figure that is not in "
                "the text; the aside and the space before it go (the English reference drops its "
                "counterpart)",
                r"[ \t]*\(如下圖所示\)",
            ),
        ),
    ),
)

SEEDS_BY_ID = {s.doc_id: s for s in SEEDS}
SEEDS_BY_FILENAME = {s.filename: s for s in SEEDS}
