"""How fast the leaderboard page loads in a real browser (target: under 2 s).

Builds results with the baselines-only smoke config (as configured, and with every item of every
task: 511 segments, 192 paragraphs), writes the leaderboard site for each, and loads its
index.html from file:// in headless Chromium (Debian's `chromium` + `chromium-driver`, through
selenium) several times. Prints the page size and the median navigation timings: DOMContentLoaded,
load, and the time until the per-sample viewer shows its first page of items (the page script has
run and loaded that page from samples/), each as a ratio of the 2 s target. Extra results folders (e.g. results/) can be given as arguments.

    python bench/leaderboard_page.py [RESULTS ...]
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARNESS = [sys.executable, "-m", "harness.cli"]  # run from ROOT: this checkout's harness
TARGET_S = 2.0
LOADS = 5


def build(results: list[str], out: Path) -> None:
    subprocess.run([*HARNESS, "leaderboard", *results, "--out", str(out)], cwd=ROOT, check=True, capture_output=True)


def smoke_results(work: Path, name: str, overrides: list[str]) -> str:
    args = [*HARNESS, "run", "configs/smoke.yaml", "--results", str(work / name), "--quiet", "--set", f"run={name}"]
    for o in overrides:
        args += ["--set", o]
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True, env={"HARNESS_CACHE": str(work / "cache"), "PATH": "/usr/bin:/bin"})
    return str(work / name / name)


def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))


TIMING = """
var nav = performance.getEntriesByType('navigation')[0];
return [nav.domContentLoadedEventEnd, nav.loadEventEnd];
"""


def measure(browser, page: Path) -> tuple[float, float, float]:
    browser.get(page.as_uri())
    dcl, load = browser.execute_script(TIMING)
    # The viewer loads its first page of items from samples/ after the page script ran; this reads
    # the clock once the items are seen, so it is an upper bound on when the page became usable.
    from selenium.webdriver.support.ui import WebDriverWait

    filled = WebDriverWait(browser, 10, poll_frequency=0.01).until(lambda b: b.execute_script(
        "return document.querySelectorAll('#v-items article').length > 0 ? performance.now() : false;"
    ))
    return dcl / 1000, load / 1000, filled / 1000


def main() -> None:
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        sys.exit("needs Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sites = {
            "smoke (as configured)": [smoke_results(work, "smoke", [])],
            "smoke, every item": [
                smoke_results(
                    work,
                    "smoke-all",
                    ["tasks.2.per_doc=null", "tasks.3.per_doc=null", "tasks.4.per_doc=null"],
                )
            ],
        }
        if sys.argv[1:]:
            sites["given results"] = sys.argv[1:]
        browser = driver()
        try:
            print(f"{'site':24} {'bytes':>10} {'DOMContentLoaded':>18} {'load':>14} {'viewer filled by':>17}  (median of {LOADS}; ratio to {TARGET_S:g} s)")
            for label, results in sites.items():
                out = work / "site" / re.sub(r"[^A-Za-z0-9]+", "-", label).strip("-")  # --out follows the name rule
                build(results, out)
                page = out / "index.html"
                runs = [measure(browser, page) for _ in range(LOADS)]
                dcl, load, ready = (statistics.median(x) for x in zip(*runs))
                print(
                    f"{label:24} {page.stat().st_size:>10,} {dcl:>9.3f} s ({dcl / TARGET_S:.2f}×) "
                    f"{load:>6.3f} s ({load / TARGET_S:.2f}×) {ready:>6.3f} s ({ready / TARGET_S:.2f}×)"
                )
        finally:
            browser.quit()


if __name__ == "__main__":
    main()
