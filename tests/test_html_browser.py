"""The leaderboard page in a real headless Chromium (Debian's `chromium` + `chromium-driver`,
driven by selenium): hostile outputs, references, sources and config strings must
show literally and run nothing. A screenshot is saved to tests/artifacts/ for a person to look at.

Every hostile payload tries to set `document.title` or a `window.__pwned*` global; the test
asserts neither happened, that no Content-Security-Policy violation was even attempted (the
escaping alone must hold), and that the viewer's text equals the payload character for character.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers.report_runs import ModelSpec, write_dataset, write_run

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


def hostile_data():
    ids = [f"h{i:02d}" for i in range(len(HOSTILE))]
    sources = [f"第{i}篇文章：{h}" for i, h in enumerate(HOSTILE)]
    refs = [[f"{h} 参考一", f"参考二 {HOSTILE[(i + 1) % len(HOSTILE)]}"] for i, h in enumerate(HOSTILE)]
    return {"summarize_zh": (ids, sources, refs)}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from harness.cli import main

    root = tmp_path_factory.mktemp("hostile")
    data = hostile_data()
    folder, sha = write_dataset(root / "data", data=data)
    ids, sources, refs = data["summarize_zh"]
    models = {
        "hostile": ModelSpec(outputs={"summarize_zh": list(HOSTILE)}),
        "plain": ModelSpec(outputs={"summarize_zh": [r[0] for r in refs]}),
        HOSTILE_MODEL: ModelSpec(role="baseline", outputs={"summarize_zh": ["大模型发展很快。"] * len(ids)}),
    }
    write_run(root / "results", "hostile", models, dataset_path=str(folder), dataset_sha=sha, data=data, config_path=HOSTILE_CONFIG)
    out = root / "site"
    try:
        main(["leaderboard", str(root / "results"), "--out", str(out)])
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


def test_no_script_from_the_data_runs_on_load(browser):
    assert_nothing_ran(browser)
    # The viewer is up: the page's own script ran (and only it may).
    assert browser.execute_script("return document.querySelectorAll('#v-item option').length") == len(HOSTILE)


def test_every_hostile_output_reference_and_source_shows_literally(browser):
    from selenium.webdriver.support.ui import Select

    item = Select(browser.find_element("id", "v-item"))
    for i, payload in enumerate(HOSTILE):
        item.select_by_value(str(i))
        got = browser.execute_script(
            """
            var cards = Array.prototype.slice.call(document.querySelectorAll('#v-outputs .card'));
            var out = {};
            cards.forEach(function (c) { out[c.querySelector('h3').textContent] = c.querySelector('.text').textContent; });
            var refs = Array.prototype.map.call(document.querySelectorAll('#v-refs .text'), function (n) { return n.textContent; });
            return {outputs: out, refs: refs, source: document.querySelector('#v-source .text').textContent,
                    id: document.getElementById('v-item-id').textContent};
            """
        )
        assert got["id"] == f"Item h{i:02d}"
        assert got["outputs"]["hostile"] == payload, f"payload {i}"
        assert got["refs"][0] == f"{payload} 参考一"
        assert got["source"] == f"第{i}篇文章：{payload}"
        assert HOSTILE_MODEL in got["outputs"]
    assert_nothing_ran(browser)


def test_hostile_names_show_literally_in_tables_and_plots(browser):
    labels = browser.execute_script("return Array.prototype.map.call(document.querySelectorAll('table .label'), function (n) { return n.textContent; });")
    assert HOSTILE_MODEL in labels
    svg_names = browser.execute_script("return Array.prototype.map.call(document.querySelectorAll('svg text.name'), function (n) { return n.textContent; });")
    assert any(HOSTILE_MODEL.startswith(name.rstrip("…")) for name in svg_names if name.endswith("…"))  # long names are cut
    configs = browser.execute_script("return Array.prototype.map.call(document.querySelectorAll('ul.meta code'), function (n) { return n.textContent; });")
    assert HOSTILE_CONFIG in configs
    assert browser.execute_script("return document.querySelectorAll('img, iframe, object, embed, form, math, base, meta[http-equiv=refresh]').length") == 0


def test_filter_and_sorting_work_with_hostile_data(browser):
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", "v-a")).select_by_visible_text("plain")
    Select(browser.find_element("id", "v-b")).select_by_visible_text("hostile")
    count = browser.find_element("id", "v-count").text
    shown = browser.execute_script("return document.querySelectorAll('#v-item option').length")
    assert count.startswith(f"{shown} of {len(HOSTILE)} items where plain beats hostile")
    assert 0 < shown <= len(HOSTILE)
    # Sort the model rows by name, both directions; sections (tbody) stay apart.
    header = browser.find_element("xpath", "(//table)[1]//th[2]/button")
    header.click()
    names = browser.execute_script("return Array.prototype.map.call(document.querySelectorAll('table')[0].tBodies[0].rows, function (r) { return r.cells[1].textContent; });")
    assert names == sorted(names)
    header.click()
    names_desc = browser.execute_script("return Array.prototype.map.call(document.querySelectorAll('table')[0].tBodies[0].rows, function (r) { return r.cells[1].textContent; });")
    assert names_desc == sorted(names, reverse=True)
    Select(browser.find_element("id", "v-a")).select_by_index(0)
    Select(browser.find_element("id", "v-b")).select_by_index(0)


def test_screenshots_are_saved_as_artefacts(browser):
    from selenium.webdriver.support.ui import Select

    ARTIFACTS.mkdir(exist_ok=True)
    shots = []
    for index, name in ((0, "html_hostile_script.png"), (7, "html_hostile_rtl.png"), (9, "html_hostile_emoji.png")):
        Select(browser.find_element("id", "v-item")).select_by_value(str(index))
        if index:
            browser.execute_script("document.getElementById('viewer').scrollIntoView()")
        shots.append(ARTIFACTS / name)
        assert browser.save_screenshot(str(shots[-1]))
    for png in shots:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert_nothing_ran(browser)


def test_embedded_json_round_trips_every_payload(site):
    """The data block parses back (in Python) to exactly the payloads: the escaping is lossless."""
    text = site.read_text(encoding="utf-8")
    start = text.index('<script type="application/json" id="samples">') + len('<script type="application/json" id="samples">')
    block = text[start : text.index("</script>", start)]
    data = json.loads(block)
    outputs = next(s for s in data["tables"][0]["systems"] if s["label"] == "hostile")["outputs"]
    assert outputs == HOSTILE
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in block
