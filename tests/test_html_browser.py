"""The leaderboard page in a real headless Chromium (Debian's `chromium` + `chromium-driver`,
driven by selenium), opened from file://: hostile outputs, references, sources and config strings
must show literally and run nothing, and the per-sample viewer pages through the items of one table
and model at a time (or two models side by side, filtered), loading each page from samples/ beside
the page, and marks the numbers and terms an output got wrong. Screenshots are saved to
tests/artifacts/ for a person to look at.

Every hostile payload tries to set `document.title` or a `window.__pwned*` global; the test
asserts neither happened, that no Content-Security-Policy violation was even attempted (the
escaping alone must hold), and that the viewer's text equals the payload character for character.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.tasks import TASKS
from helpers.report_runs import ModelSpec, read_sample_page, write_dataset, write_run

ARTIFACTS = Path(__file__).parent / "artifacts"
TITLE = "Leaderboard — zh-eval-harness"

HOSTILE = [
    '<script>document.title="PWNED-1";window.__pwned1=1</script>摘要',
    '</script><script>document.title="PWNED-2";window.__pwned2=1</script>',
    "<img src=x onerror=\"document.title='PWNED-3';window.__pwned3=1\">",
    "<a href=\"javascript:window.__pwned4=1\">点我</a> javascript:window.__pwned4=1",
    '"><svg onload="window.__pwned5=1"><circle r=9 /></svg>',
    "'><iframe srcdoc=\"<script>parent.__pwned6=1</script>\"></iframe>",
    "&lt;script&gt;window.__pwned7=1&lt;/script&gt; &amp; &#60;b&#62;bold&#60;/b&#62; &nbsp;实体",
    "RTL \u202egnp.exe\u202c and isolate \u2066abc\u2069 then \u200fmark 中文",
    "长" * 3000 + "x" * 3000,
    "emoji 🤖👩‍💻🇨🇳 family 👨‍👩‍👧‍👦 表情",
    "before\u0000after NUL 字节",
    "<!-- comment --> <![CDATA[ x ]]> ]]> -->",
    "line\u2028separator\u2029paragraph 分隔",
    "{{constructor.constructor('window.__pwned14=1')()}} ${window.__pwned14=1}",
    "<style>body{display:none}</style><link rel=stylesheet href=x>",
    '<math><mi xlink:href="javascript:window.__pwned16=1">x</mi></math>',
    '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned17=1">',
    "\\u003c/script\\u003e literal backslash escapes \\x3cscript\\x3e",
    '<base href="javascript:/"><form action="javascript:window.__pwned19=1"><button>go</button></form>',
    "\ufeffBOM\u200bzero\u200dwidth <b onmouseover=window.__pwned20=1>hover</b>",
    "<object data=\"data:text/html,<script>parent.__pwned21=1</script>\"></object>",
]
# Model and run names obey the one name rule (harness.names: letters, digits, '.', '_', '-'), so markup
# cannot reach the page through them any more; this one is as odd as the rule allows. Hostile markup
# in every free-text field (outputs, references, sources, the config path) is tested here.
HOSTILE_MODEL = "img.src-x_onerror-window.__pwnedModel-1"
HOSTILE_CONFIG = 'configs/</script><script>window.__pwnedConfig=1</script>".yaml'


PAGE_ITEMS = 8  # 21 items: pages of 8, 8 and 5
TRANSLATE_IDS = [f"000-p01-s{i + 1:02d}" for i in range(3)]
# The translation table is scored with numbers and terms too: plain's outputs change 30 % into 32 %,
# say "compute" for 算力 (computing power), drop 1750亿 and add 12 (the viewer marks them)
TRANSLATE_SOURCES = ["英伟达的营收增长30%，算力需求很大。", "员工两千人，去年营收1750亿元。", "今天天气很好。"]
TRANSLATIONS = ["Nvidia's revenue grew 32%, and demand for compute is high.", "It has 2,000 staff working 12 hours.",
                "Nice weather today."]
METRICS = {"summarize_zh": list(TASKS["summarize_zh"].metrics), "translate_zh_en": ["bleu", "chrf++", "numbers", "terms"]}


def hostile_data():
    ids = [f"h{i:02d}" for i in range(len(HOSTILE))]
    sources = [f"第{i}篇文章：{h}" for i, h in enumerate(HOSTILE)]
    refs = [[f"{h} 参考一", f"参考二 {HOSTILE[(i + 1) % len(HOSTILE)]}"] for i, h in enumerate(HOSTILE)]
    translate = (TRANSLATE_IDS, TRANSLATE_SOURCES, [[f"Sentence {i}."] for i in range(3)])
    return {"summarize_zh": (ids, sources, refs), "translate_zh_en": translate}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from harness.cli import main

    root = tmp_path_factory.mktemp("hostile")
    data = hostile_data()
    folder, sha = write_dataset(root / "data", data=data)
    ids, sources, refs = data["summarize_zh"]
    models = {
        "hostile": ModelSpec(outputs={"summarize_zh": list(HOSTILE), "translate_zh_en": HOSTILE[:3]}),
        "plain": ModelSpec(outputs={"summarize_zh": [r[0] for r in refs], "translate_zh_en": TRANSLATIONS}),
        HOSTILE_MODEL: ModelSpec(role="baseline", outputs={"summarize_zh": ["大模型发展很快。"] * len(ids)}),
    }
    write_run(root / "results", "hostile", models, dataset_path=str(folder), dataset_sha=sha, data=data, config_path=HOSTILE_CONFIG,
              metrics=METRICS)
    out = root / "site"
    try:
        main(["leaderboard", str(root / "results"), "--out", str(out), "--page-items", str(PAGE_ITEMS)])
    except SystemExit as e:  # pragma: no cover - only on failure
        pytest.fail(f"harness leaderboard exited {e.code}")
    return out / "index.html"


def chromium():
    """A headless system Chromium through selenium; fails (never skips) when it is not installed."""
    missing = [b for b in ("chromium", "chromedriver") if shutil.which(b) is None]
    if missing:
        pytest.fail(
            f"the browser test needs Debian's chromium packages ({', '.join(missing)} not found): "
            "apt-get update && apt-get install -y chromium chromium-driver",
            pytrace=False,
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("the browser test needs selenium: pip install -c constraints.txt selenium==4.51.0", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1800"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))


@pytest.fixture(scope="module")
def browser(site):
    driver = chromium()
    try:
        driver.get(site.as_uri())
        yield driver
    finally:
        driver.quit()


def pwned(driver) -> list[str]:
    return driver.execute_script("return Object.keys(window).filter(function (k) { return k.indexOf('__pwned') === 0; });")


def assert_nothing_ran(driver) -> None:
    assert driver.title.startswith(TITLE)
    assert pwned(driver) == []
    logs = [e["message"] for e in driver.get_log("browser")]
    # Not even a blocked attempt: a CSP violation would mean the escaping failed and only the
    # Content-Security-Policy stopped the payload. No uncaught error from our script either.
    assert [m for m in logs if "Content Security Policy" in m or "Refused" in m or "Uncaught" in m] == []


SHOWN = """
return Array.prototype.map.call(document.querySelectorAll('#v-items article.item'), function (a) {
  var texts = Array.prototype.map.call(a.querySelectorAll('.text'), function (n) { return n.textContent; });
  var card = a.querySelector('.card');
  return {id: a.querySelector('h3.item-id').textContent, texts: texts,
          system: card.querySelector('h4').textContent, output: card.querySelector('.text').textContent};
});
"""


def shown_items(driver) -> list[dict]:
    """The items of the page on show, once the page script has loaded it."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(lambda d: d.find_element("id", "v-status").text == ""
                                    and d.execute_script("return document.querySelectorAll('#v-items article').length") > 0)
    return driver.execute_script(SHOWN)


def range_text(driver) -> str:
    return driver.find_element("id", "v-range").text


def select(driver, element_id: str):
    from selenium.webdriver.support.ui import Select

    return Select(driver.find_element("id", element_id))


def show(driver, table: str, system: str, page: int) -> list[dict]:
    """Picks a table (by its title's start), a system (by label) and a page (1-based) in the viewer."""
    tables = select(driver, "v-table")
    title = next(o.text for o in tables.options if o.text.startswith(table))
    if tables.first_selected_option.text != title:
        tables.select_by_visible_text(title)
    systems = select(driver, "v-system")
    label = next(o.text for o in systems.options if o.text.startswith(system + " ("))
    if systems.first_selected_option.text != label:
        systems.select_by_visible_text(label)
    if select(driver, "v-page").first_selected_option.get_attribute("value") != str(page - 1):
        select(driver, "v-page").select_by_value(str(page - 1))
    return shown_items(driver)


def test_no_script_from_the_data_runs_on_load(browser):
    items = shown_items(browser)
    assert_nothing_ran(browser)
    # The viewer is up (the page's own script ran, and only it may) and shows page 1 of the first model.
    assert [it["id"] for it in items] == [f"Item {i + 1} · h{i:02d}" for i in range(PAGE_ITEMS)]
    assert range_text(browser) == "items 1–8 of 21 · page 1 of 3"
    assert select(browser, "v-system").first_selected_option.text in ("hostile (model)", "plain (model)")


def test_every_hostile_output_reference_and_source_shows_literally(browser):
    seen = []
    for page in (1, 2, 3):
        for item in show(browser, "summarize_zh", "hostile", page):
            i = len(seen)
            assert item["id"] == f"Item {i + 1} · h{i:02d}"
            assert item["system"] == "hostile"
            assert item["output"] == HOSTILE[i], f"payload {i}"
            source, ref_a, ref_b = item["texts"][:3]
            assert (source, ref_a) == (f"第{i}篇文章：{HOSTILE[i]}", f"{HOSTILE[i]} 参考一")
            assert ref_b == f"参考二 {HOSTILE[(i + 1) % len(HOSTILE)]}"
            seen.append(i)
    assert len(seen) == len(HOSTILE)
    assert [it["system"] for it in show(browser, "summarize_zh", HOSTILE_MODEL, 1)] == [HOSTILE_MODEL] * PAGE_ITEMS
    assert_nothing_ran(browser)


def test_paging_and_switching_model_and_table(browser):
    ids = lambda items: [it["id"].split(" · ")[1] for it in items]  # noqa: E731
    assert ids(show(browser, "summarize_zh", "plain", 1)) == [f"h{i:02d}" for i in range(0, 8)]
    assert browser.find_element("id", "v-prev").get_property("disabled") is True
    browser.find_element("id", "v-next").click()
    page2 = shown_items(browser)
    assert ids(page2) == [f"h{i:02d}" for i in range(8, 16)]
    assert range_text(browser) == "items 9–16 of 21 · page 2 of 3"
    assert [it["output"] for it in page2] == [f"{HOSTILE[i]} 参考一" for i in range(8, 16)]  # plain's outputs
    browser.find_element("id", "v-next").click()
    assert ids(shown_items(browser)) == [f"h{i:02d}" for i in range(16, 21)]
    assert range_text(browser) == "items 17–21 of 21 · page 3 of 3"
    assert browser.find_element("id", "v-next").get_property("disabled") is True
    # Another model keeps the page: the same items, its outputs.
    select(browser, "v-system").select_by_visible_text("hostile (model)")
    page3 = shown_items(browser)
    assert ids(page3) == [f"h{i:02d}" for i in range(16, 21)] and [it["output"] for it in page3] == HOSTILE[16:]
    browser.find_element("id", "v-prev").click()
    assert ids(shown_items(browser)) == [f"h{i:02d}" for i in range(8, 16)]
    # Another table starts at its page 1; only its own models are offered.
    items = show(browser, "translate_zh_en", "plain", 1)
    assert ids(items) == TRANSLATE_IDS and [it["output"] for it in items] == TRANSLATIONS
    assert range_text(browser) == "items 1–3 of 3 · page 1 of 1"
    assert sorted(o.text for o in select(browser, "v-system").options) == ["hostile (model)", "plain (model)"]
    # Only the page on show was loaded: one page script in the document at a time.
    assert browser.execute_script("return document.querySelectorAll('script[src]').length") == 1
    assert_nothing_ran(browser)


def test_hostile_names_show_literally_in_tables_and_plots(browser):
    labels = browser.execute_script("return Array.prototype.map.call(document.querySelectorAll('table .label'), function (n) { return n.textContent; });")
    assert HOSTILE_MODEL in labels
    svg_names = browser.execute_script("return Array.prototype.map.call(document.querySelectorAll('svg text.name'), function (n) { return n.textContent; });")
    assert any(HOSTILE_MODEL.startswith(name.rstrip("…")) for name in svg_names if name.endswith("…"))  # long names are cut
    configs = browser.execute_script("return Array.prototype.map.call(document.querySelectorAll('ul.meta code'), function (n) { return n.textContent; });")
    assert HOSTILE_CONFIG in configs
    assert browser.execute_script("return document.querySelectorAll('img, iframe, object, embed, form, math, base, meta[http-equiv=refresh]').length") == 0


def test_sorting_works_with_hostile_data(browser):
    # Sort the model rows by name, both directions; sections (tbody) stay apart.
    header = browser.find_element("xpath", "(//table)[1]//th[2]/button")
    header.click()
    names = browser.execute_script("return Array.prototype.map.call(document.querySelectorAll('table')[0].tBodies[0].rows, function (r) { return r.cells[1].textContent; });")
    assert names == sorted(names) and len(names) == 2
    header.click()
    names_desc = browser.execute_script("return Array.prototype.map.call(document.querySelectorAll('table')[0].tBodies[0].rows, function (r) { return r.cells[1].textContent; });")
    assert names_desc == sorted(names, reverse=True)


def test_screenshots_are_saved_as_artefacts(browser):
    ARTIFACTS.mkdir(exist_ok=True)
    shots = []
    for page, name in ((1, "html_hostile_page1.png"), (2, "html_hostile_page2.png")):
        show(browser, "summarize_zh", "hostile", page)
        browser.execute_script("document.getElementById('viewer').scrollIntoView()")
        shots.append(ARTIFACTS / name)
        assert browser.save_screenshot(str(shots[-1]))
    for png in shots:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert_nothing_ran(browser)


def test_a_page_without_its_samples_folder_says_so(site, tmp_path):
    """index.html copied alone: the viewer names the page it could not load; nothing throws."""
    alone = tmp_path / "index.html"
    shutil.copy(site, alone)
    driver = chromium()
    try:
        driver.get(alone.as_uri())
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(driver, 10).until(lambda d: d.find_element("id", "v-status").text.startswith("could not"))
        status = driver.find_element("id", "v-status").text
        assert status.startswith("could not load samples/summarize_zh/") and status.endswith(
            "/page-0001.js: the samples folder must stay beside index.html")
        assert driver.execute_script("return document.querySelectorAll('#v-items article').length") == 0
        assert pwned(driver) == []
        assert [e["message"] for e in driver.get_log("browser") if "Uncaught" in e["message"] or "Content Security" in e["message"]] == []
    finally:
        driver.quit()


def test_page_files_round_trip_every_payload(site):
    """The pages parse back (in Python) to exactly the payloads: the escaping is lossless."""
    outputs = []
    for page in sorted((site.parent / "samples" / "summarize_zh" / "hostile").iterdir()):
        text = page.read_text(encoding="utf-8")
        for raw in ("<", ">", "&", "\u2028", "\u2029"):
            assert raw not in text
        outputs += [it["output"] for it in read_sample_page(page)["items"]]
    assert outputs == HOSTILE


def filtered(driver) -> tuple[list[str], str]:
    """The item ids a filter left on the page, and the count line, once the pages are loaded."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(lambda d: d.find_element("id", "v-status").text == "" and d.find_element("id", "v-count").text)
    ids = driver.execute_script("return Array.prototype.map.call(document.querySelectorAll('#v-items h3.item-id'), function (h) { return h.textContent; });")
    return [i.split(" · ")[1] for i in ids], driver.find_element("id", "v-count").text


@pytest.mark.parametrize("a, b, metric", [("plain", "hostile", "rougeL"), ("hostile", "plain", "rougeL"),
                                          ("plain", "hostile", "rouge2")])
def test_comparing_two_models_on_a_page_and_filtering_it(browser, site, a, b, metric):
    show(browser, "summarize_zh", "hostile", 2)
    select(browser, "v-compare").select_by_visible_text("plain (model)")
    shown_items(browser)
    cards = browser.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('#v-items article'), function (a) {"
        " return Array.prototype.map.call(a.querySelectorAll('.card h4'), function (h) { return h.textContent; }); });")
    assert cards == [["hostile", "plain"]] * PAGE_ITEMS  # both models' outputs on the same items
    # The filter keeps the items where a scores above b, as the page files' item scores say.
    pages = {m: read_sample_page(site.parent / "samples" / "summarize_zh" / m / "page-0002.js") for m in (a, b)}
    expected = [x["id"] for x, y in zip(pages[a]["items"], pages[b]["items"]) if x["scores"][metric] > y["scores"][metric]]
    select(browser, "v-filter").select_by_visible_text(f"where {a} beats {b} on {metric}")
    assert filtered(browser) == (expected, f"{len(expected)} of {PAGE_ITEMS} items on this page where {a} beats {b} on {metric}")
    if a == "plain":  # plain's outputs are reference A
        assert len(expected) >= 6
    select(browser, "v-filter").select_by_index(0)
    select(browser, "v-compare").select_by_index(0)
    assert len(shown_items(browser)) == PAGE_ITEMS
    assert_nothing_ran(browser)


MARKS = """
return Array.prototype.map.call(document.querySelectorAll('#v-items article.item'), function (a) {
  var card = a.querySelector('.card');
  return {
    list: Array.prototype.map.call(card.querySelectorAll('ul.marks li'), function (li) {
      return [li.className, li.textContent]; }),
    marked: Array.prototype.map.call(card.querySelectorAll('.text mark'), function (m) {
      return [m.textContent, m.className, m.title]; }),
    output: card.querySelector('.text').textContent,
    elements: card.querySelector('.text').querySelectorAll('*').length
  };
});
"""


def test_marks_show_under_the_output_and_in_it(browser):
    """The numbers an output changed, dropped or added and the terms it missed are listed under it, and
    the ones it wrote are marked in its text; the text itself stays whole."""
    show(browser, "translate_zh_en", "plain", 1)
    shown = browser.execute_script(MARKS)
    assert shown == [
        {"list": [["mark-changed", "number changed 30 → 32"],
                  ["mark-term", "term missed 算力 → expected computing power"]],
         "marked": [["32", "mark-changed", "changed: the source has 30"]], "output": TRANSLATIONS[0], "elements": 1},
        {"list": [["mark-dropped", "number dropped 1750亿 (175000000000)"], ["mark-added", "number added 12"]],
         "marked": [["12", "mark-added", "added: not in the source"]], "output": TRANSLATIONS[1], "elements": 1},
        {"list": [], "marked": [], "output": TRANSLATIONS[2], "elements": 0},  # nothing wrong: nothing shown
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    browser.execute_script("document.getElementById('viewer').scrollIntoView()")
    assert browser.save_screenshot(str(ARTIFACTS / "html_marks.png"))
    # In a hostile output the marks are text too: it reads back unchanged and no markup of it exists.
    show(browser, "translate_zh_en", "hostile", 1)
    shown = browser.execute_script(MARKS)
    assert [s["output"] for s in shown] == HOSTILE[:3]
    assert all(m[1] in ("mark-changed", "mark-added") for s in shown for m in s["marked"])
    assert [s["elements"] for s in shown] == [len(s["marked"]) for s in shown]  # only <mark> elements in the text
    assert_nothing_ran(browser)
