"""The portal in a real browser: Debian's headless Chromium driven by Selenium through chromium-driver.

Log in; acknowledge an alert with a comment and see its history; upload an Enedis export, see
the preview, confirm and see the building's chart change; generate a savings report and
download a valid PDF; the public page on a phone and a desktop (charts drawn, no console
errors, keyboard navigation); axe-core finds no serious or critical violation.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from portal_helpers import IMPORT_METER, IMPORT_SITE, PASSWORD  # type: ignore[import-not-found]

pytestmark = [pytest.mark.integration, pytest.mark.skipif(
    shutil.which("chromium") is None or shutil.which("chromedriver") is None,
    reason="Debian's chromium and chromium-driver are needed (make test installs them)")]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PHONE, DESKTOP = (390, 844), (1280, 900)


@pytest.fixture(scope="session")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def browser(downloads: Path):  # noqa: ANN201
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--disable-extensions", "--no-first-run", f"--window-size={DESKTOP[0]},{DESKTOP[1]}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False,
                                           "plugins.always_open_pdf_externally": True})
    driver = webdriver.Chrome(options=opts, service=Service(shutil.which("chromedriver")))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver, predicate, timeout_s: float = 30.0):  # noqa: ANN001, ANN201
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout_s, poll_frequency=0.1,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
                         ).until(lambda d: predicate(d))


def console_errors(driver) -> list[dict]:  # noqa: ANN001
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


@pytest.fixture(scope="session")
def logged_in(browser, portal_server) -> str:  # noqa: ANN001
    """Log in as the gestionnaire through the login form (the first browser test)."""
    from selenium.webdriver.common.by import By

    browser.get(portal_server + "/overview")
    assert "/login" in browser.current_url  # sent to the login page first
    browser.find_element(By.ID, "username").send_keys("gaelle")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    wait(browser, lambda d: d.current_url.endswith("/overview"))
    return portal_server


def test_login_lands_on_the_overview(browser, logged_in) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    assert browser.find_element(By.TAG_NAME, "h1").text == "Vue d'ensemble"
    assert "gaelle (gestionnaire)" in browser.find_element(By.CSS_SELECTOR, ".who").text


def test_acknowledge_an_alert_with_a_comment_and_see_its_history(browser, logged_in, portal_data) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    browser.get(f"{logged_in}/alerts?state=open")
    browser.find_element(By.CSS_SELECTOR, f'a[href="/alerts/{portal_data.drift_alert}"]').click()
    wait(browser, lambda d: d.current_url.endswith(portal_data.drift_alert))
    assert browser.find_element(By.ID, "alert-state").text == "ouverte"
    browser.find_element(By.ID, "comment").send_keys("Vanne du circuit nord bloquée ouverte, intervention lundi")
    browser.find_element(By.ID, "ack").click()
    wait(browser, lambda d: d.find_element(By.ID, "alert-state").text == "prise en compte")
    row = browser.find_element(By.CSS_SELECTOR, "#history tbody tr").text
    assert "gaelle" in row and "prise en compte" in row and "Vanne du circuit nord" in row
    from analytics.jobs.alerts import query_alerts

    assert query_alerts(portal_data.client, alert_id=portal_data.drift_alert)[0].state == "acknowledged"


def _chart_days_with_data(browser, url: str) -> int:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    browser.get(url)
    wait(browser, lambda d: d.execute_script("return document.querySelector('#daily canvas') !== null"))
    spec = json.loads(browser.find_element(By.ID, "daily-data").get_attribute("textContent"))
    return sum(v is not None for v in spec["series"][0]["values"])  # the total of all carriers


def enedis_export(today: dt.date, days: int = 3) -> bytes:
    """An Enedis load curve (30-minute mean power in W, times at the interval end) of the last days, two bad rows."""
    lines = ["Identifiant PRM;Type de donnees;Date de debut;Date de fin;Grandeur physique;Grandeur metier;Etape metier;Unite;Pas en minutes",
             f"01234567890123;Courbe de charge;{today - dt.timedelta(days=days):%d/%m/%Y};{today:%d/%m/%Y};Energie active;Consommation;Comptage Brut;W;30",
             "", "Horodate;Valeur"]
    start = dt.datetime.combine(today - dt.timedelta(days=days), dt.time(0, 30))
    for i in range(days * 48):
        t = start + dt.timedelta(minutes=30 * i)
        lines.append(f"{t.isoformat()};{4000 + 10 * (i % 48)}")
    lines += [f"{start.isoformat()[:10]}T99:00:00;1200", f"{(start + dt.timedelta(minutes=5)).isoformat()};abc"]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_upload_an_enedis_export_preview_confirm_and_the_chart_changes(browser, logged_in, portal_data, tmp_path) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    site_url = f"{logged_in}/sites/{IMPORT_SITE}"
    assert _chart_days_with_data(browser, site_url) == 0
    export = tmp_path / "enedis-courbe.csv"
    export.write_bytes(enedis_export(portal_data.today))
    browser.get(f"{logged_in}/imports")
    browser.find_element(By.ID, "file").send_keys(str(export))
    Select(browser.find_element(By.ID, "kind")).select_by_value("load_curve")
    Select(browser.find_element(By.ID, "meter")).select_by_value(IMPORT_METER)
    src = browser.find_element(By.ID, "source")
    src.clear()
    src.send_keys("enedis-test")
    browser.find_element(By.CSS_SELECTOR, "#import-form button[type=submit]").click()
    wait(browser, lambda d: d.find_elements(By.ID, "import-summary"))
    summary = browser.find_element(By.ID, "import-summary").text
    assert "144 gardées" in summary and "2 rejetées" in summary, summary
    reasons = browser.find_element(By.ID, "rejected").text
    assert "horodatage illisible" in reasons and "valeur illisible" in reasons, reasons  # words, not codes
    browser.find_element(By.ID, "confirm").click()
    wait(browser, lambda d: "/imports" in d.current_url and d.find_elements(By.ID, "import-history"))
    assert "enedis-courbe.csv" in browser.find_element(By.ID, "import-history").text
    assert "Import enregistré : 144 points écrits." in browser.find_element(By.ID, "import-done").text
    assert _chart_days_with_data(browser, site_url) == 3


def test_generate_a_savings_report_and_download_a_valid_pdf(browser, logged_in, portal_data, downloads) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    today = portal_data.today
    d = lambda n: (today - dt.timedelta(days=n)).isoformat()  # noqa: E731
    browser.get(f"{logged_in}/reports?b0={d(70)}&b1={d(31)}&p0={d(30)}&p1={d(1)}")
    browser.find_element(By.CSS_SELECTOR, 'input[name=sites][value="mairie"]').click()
    browser.find_element(By.ID, "generate").click()
    wait(browser, lambda d_: d_.find_elements(By.ID, "download") or d_.find_elements(By.CSS_SELECTOR, "#job .error"),
         timeout_s=120)
    assert not browser.find_elements(By.CSS_SELECTOR, "#job .error"), browser.find_element(By.ID, "job").text
    link = browser.find_element(By.ID, "download")
    name = link.text
    link.click()
    path = downloads / name
    wait(browser, lambda _d: path.exists() and path.stat().st_size > 0, timeout_s=30)
    time.sleep(0.2)
    assert path.read_bytes()[:5] == b"%PDF-"
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    listed = browser.find_element(By.XPATH, f'//a[text()="{name}"]/ancestor::tr/td[contains(@class, "pages")]').text
    assert pages >= 2 and pages == int(listed)


def _charts_drawn(browser) -> list[bool]:  # noqa: ANN001
    """Per chart: its canvas exists, has a size, and holds non-transparent pixels."""
    return browser.execute_script("""
        return Array.from(document.querySelectorAll('[data-chart]')).map(function (el) {
          var c = el.querySelector('canvas');
          if (!c || c.width === 0 || c.height === 0) return false;
          var px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          for (var i = 3; i < px.length; i += 4) { if (px[i] !== 0) return true; }
          return false;
        });""")


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_public_page_draws_its_charts_without_console_errors(browser, portal_server, size) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    browser.set_window_size(*size)
    try:
        browser.get_log("browser")  # forget what earlier pages logged
        browser.get(portal_server + "/public")
        wait(browser, lambda d: all(_charts_drawn(d)) and len(_charts_drawn(d)) > 0)
        drawn = _charts_drawn(browser)
        assert len(drawn) >= 4 and all(drawn)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        viewport = browser.execute_script("return window.innerWidth")
        assert width <= viewport + 1, "no horizontal scrolling of the page"
        alt = browser.find_elements(By.CSS_SELECTOR, "figure.chart details table")
        assert len(alt) == len(drawn), "every chart has its table of values"
        assert console_errors(browser) == []
    finally:
        browser.set_window_size(*DESKTOP)


def test_public_page_keyboard_navigation(browser, portal_server) -> None:  # noqa: ANN001
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    browser.get(portal_server + "/public")
    focused = lambda: browser.execute_script(  # noqa: E731
        "var e = document.activeElement; var r = e.getBoundingClientRect();"
        "return [e.tagName, e.getAttribute('href') || e.textContent.trim().slice(0, 40), r.width > 0 && r.height > 0];")
    ActionChains(browser).send_keys(Keys.TAB).perform()
    tag, target, visible = focused()
    assert (tag, target, visible) == ("A", "#main", True), "the first Tab reaches the skip link, shown on focus"
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait(browser, lambda d: d.execute_script("return document.activeElement.id") == "main")
    seen = []
    for _ in range(60):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        tag, target, visible = focused()
        assert visible, (tag, target)
        seen.append((tag, target))
        if target == "/public/opendata":
            break
    assert ("SUMMARY" in {t for t, _ in seen}), "each chart's table of values opens from the keyboard"
    assert seen[-1] == ("A", "/public/opendata"), seen[-5:]


def _axe(browser, url: str) -> list[dict]:  # noqa: ANN001
    browser.get(url)
    wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    browser.set_script_timeout(60)
    result = browser.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(function (r) { done(r.violations); });")
    return [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]), "help": v["help"]} for v in result]


@pytest.mark.parametrize("page", ["/public", "/overview"])
def test_axe_core_finds_no_serious_or_critical_violation(browser, logged_in, page) -> None:  # noqa: ANN001
    violations = _axe(browser, logged_in + page)
    print(f"axe-core {page}: {json.dumps(violations, ensure_ascii=False)}")
    assert [v for v in violations if v["impact"] in ("serious", "critical")] == []
