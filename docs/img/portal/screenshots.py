"""Take the screenshots of docs/portal.md with Debian's headless Chromium (Selenium).

Usage, on a running portal (e.g. after ``terril demo --serve``, or ``terril web --public``)::

    .venv/bin/python docs/img/portal/screenshots.py --url http://127.0.0.1:8080 --user demo --password-file PW

Writes one PNG per page into this folder (``--out`` to change), each the full height of its page.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

PAGES = [("public", "/public", (1280, 900)), ("public-phone", "/public", (390, 844)),
         ("overview", "/overview", (1280, 900)), ("alerts", "/alerts?state=open", (1280, 900)),
         ("alert", None, (1280, 900)), ("building", "/sites/salle-fetes", (1280, 900)),
         ("imports", "/imports", (1280, 900)), ("reports", "/reports", (1280, 900)),
         ("tertiaire", "/tertiaire", (1280, 900)), ("pv", "/pv", (1280, 900)), ("devices", "/devices", (1280, 900)),
         ("overview-en", "/overview?lang=en", (1280, 900))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent)
    ap.add_argument("--max-height", type=int, default=2600)
    args = ap.parse_args()
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1", "--lang=fr-FR"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {"intl.accept_languages": "fr-FR,fr"})
    service = Service(shutil.which("chromedriver"), env={**os.environ, "LANGUAGE": "fr", "LANG": "fr_FR.UTF-8"})
    driver = webdriver.Chrome(options=opts, service=service)
    try:
        driver.set_window_size(1280, 900)
        driver.get(args.url + "/login")
        driver.find_element(By.ID, "username").send_keys(args.user)
        driver.find_element(By.ID, "password").send_keys(args.password_file.read_text().strip())
        driver.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
        time.sleep(0.5)
        driver.get(args.url + "/reports")
        if not driver.find_elements(By.CSS_SELECTOR, "#report-list tbody tr"):  # one report for the list
            driver.find_element(By.CSS_SELECTOR, "input[name=sites]").click()
            driver.execute_script("""
                var d = function (n) { var t = new Date(Date.now() - n * 864e5); return t.toISOString().slice(0, 10); };
                document.getElementById('b0').value = d(60); document.getElementById('b1').value = d(31);
                document.getElementById('p0').value = d(30); document.getElementById('p1').value = d(1);""")
            driver.find_element(By.ID, "generate").click()
            for _ in range(240):
                if driver.find_elements(By.ID, "download") or driver.find_elements(By.CSS_SELECTOR, "#job .error"):
                    break
                time.sleep(0.5)
        driver.get(args.url + "/alerts?state=open")
        first_alert = driver.find_element(By.CSS_SELECTOR, "table a[href^='/alerts/']").get_attribute("href")
        for name, path, (w, h) in PAGES:
            driver.set_window_size(w, h)
            driver.get(first_alert if path is None else args.url + path)
            time.sleep(0.8)  # charts draw after DOMContentLoaded
            height = min(driver.execute_script("return document.documentElement.scrollHeight"), args.max_height)
            driver.set_window_size(w, height)
            time.sleep(0.5)
            driver.save_screenshot(str(args.out / f"{name}.png"))
            print(args.out / f"{name}.png")
        driver.get(args.url + "/overview?lang=fr")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
