"""``snakemake --report``: every figure with its caption, opened as a user would.

The report of the test config's run is rendered in headless Chromium (Debian's chromium
and chromium-driver, `make system`); for each figure the test clicks its entry, checks
that the image is drawn and that the caption is shown, and keeps a screenshot.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from conftest import snakemake
from PIL import Image

from leakbench.studies.spec import OutputKind
from leakbench.studies.specs import STUDIES

pytestmark = [pytest.mark.workflow, pytest.mark.browser]

# A click that lands while the menu is still being laid out opens nothing; a user clicks
# again. The report is reloaded and the category clicked up to this many times.
_ATTEMPTS = 3
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
# Every captioned figure the study specs declare, with its study's report category.
CATEGORIES = {
    Path(out.path).name: spec.category
    for spec in STUDIES.values()
    for out in spec.of_kind(OutputKind.FIGURE)
    if out.caption is not None
}


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    assert not missing, f"missing {missing}; run `make system`"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,2400",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def _wait(find, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        found = find()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _settled(element, timeout: float = 10.0):
    """``element`` once it has stopped moving (the menu slides in as the report loads)."""
    deadline = time.monotonic() + timeout
    where = element.rect
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = element.rect
        if now == where:
            break
        where = now
    return element


def _click(element, timeout: float = 20.0) -> None:
    """Click ``element`` as a user would: once the menu's transitions have settled and
    nothing covers it (a click during an animation lands on the element sliding past)."""
    from selenium.common.exceptions import ElementClickInterceptedException

    deadline = time.monotonic() + timeout
    while True:
        try:
            element.click()
            return
        except ElementClickInterceptedException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _show(browser, report: Path, figure: str, shots: Path, captions: Path) -> None:
    """Open the report, click the figure's entry and its caption; check both are shown."""
    from selenium.webdriver.common.by import By

    row = []
    for _ in range(_ATTEMPTS):
        browser.get(report.as_uri())
        category = _wait(
            lambda: browser.find_elements(By.XPATH, f"//*[text()='{CATEGORIES[figure]}']")
        )
        assert category, f"{figure}: no category {CATEGORIES[figure]!r} in the report"
        _click(_settled(category[0]))
        row = _wait(
            lambda: browser.find_elements(By.XPATH, f"//td[text()='results/figures/{figure}']/.."),
            timeout=10.0,
        )
        if row:
            break
    assert row, f"{figure}: not listed under {CATEGORIES[figure]!r} after {_ATTEMPTS} clicks"
    view, info = row[0].find_elements(By.XPATH, ".//a")
    _click(view)
    image = _wait(
        lambda: [
            img
            for img in browser.find_elements(By.TAG_NAME, "img")
            if f"filename={figure}" in (img.get_attribute("src") or "")
            and int(img.get_attribute("naturalWidth") or 0) > 300
            and img.is_displayed()
        ]
    )
    assert image, f"{figure}: the image is not drawn"
    shot = shots / f"report-{figure}"
    browser.save_screenshot(str(shot))
    pixels = np.asarray(Image.open(shot).convert("RGB"))[:, 420:]  # right of the menu
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50, f"{figure}: blank view"
    _click(info)
    words = " ".join((captions / f"{Path(figure).stem}.rst").read_text().split()[:6])
    shown = _wait(lambda: words in " ".join(browser.find_element(By.TAG_NAME, "body").text.split()))
    assert shown, f"{figure}: caption {words!r}... not shown"


def test_report_shows_every_figure_with_its_caption(repo_root, runs, tmp_path, browser):
    report = tmp_path / "report.html"
    proc = snakemake(repo_root, runs["1"], "--report", str(report))
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = sorted(p.name for p in (runs["1"] / "results/figures").glob("*.png"))
    assert figures == sorted(CATEGORIES)
    for figure in figures:
        _show(browser, report, figure, tmp_path, repo_root / "workflow/report")
