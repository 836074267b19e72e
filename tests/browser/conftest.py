"""Headless Chromium (Debian ``chromium`` + ``chromium-driver``) driven by selenium, with network logging.

``.ci/run`` installs the two Debian packages; without them the browser tests skip, except under CI=true where
their absence is a failure. The driver records Chrome's DevTools network events (``goog:loggingPrefs``), so a
test can assert which URLs a page requested and what they answered:

    chrome.get(url)
    wait_for(chrome, lambda d: ...)
    for url, status in responses(chrome): ...

``requested_urls`` and ``responses`` accumulate across calls (Chrome hands each log entry out only once);
``clear_network`` forgets what was seen so far. The browser is shared by the whole session.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("HPGEO_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HPGEO_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTEFACTS = Path(os.environ.get("HPGEO_TEST_ARTEFACTS", Path(__file__).resolve().parents[2] / "tests" / "_artefacts"))

__all__ = ["requested_urls", "responses", "clear_network", "wait_for", "external_requests", "ARTEFACTS"]


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} not found (apt-get install chromium chromium-driver; .ci/run does this)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def chrome():
    """A headless Chromium session (1280×800) with performance (network) logging."""
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests need Chromium under CI: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,800", "--disable-background-networking", "--disable-component-update",
                "--disable-default-apps", "--disable-sync", "--no-first-run", "--lang=vi-VN"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    driver._hpgeo_events = []  # type: ignore[attr-defined]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def _events(driver) -> list[dict]:
    buf = driver._hpgeo_events
    for entry in driver.get_log("performance"):
        try:
            buf.append(json.loads(entry["message"])["message"])
        except (KeyError, ValueError):
            continue
    return buf


def requested_urls(driver) -> list[str]:
    """Every URL the page asked for (documents, scripts, images, fetches), in order, including failed ones."""
    return [e["params"]["request"]["url"] for e in _events(driver)
            if e.get("method") == "Network.requestWillBeSent" and "request" in e.get("params", {})]


def responses(driver) -> list[tuple[str, int]]:
    """(url, HTTP status) of every response received."""
    return [(e["params"]["response"]["url"], int(e["params"]["response"]["status"])) for e in _events(driver)
            if e.get("method") == "Network.responseReceived"]


def external_requests(driver) -> list[str]:
    """Requested URLs that would leave 127.0.0.1 (data: and blob: URLs stay in the page)."""
    out = []
    for url in requested_urls(driver):
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about", "chrome", "devtools"):
            continue
        if parts.hostname not in ("127.0.0.1", "localhost"):
            out.append(url)
    return out


def clear_network(driver) -> None:
    _events(driver)
    driver._hpgeo_events.clear()


def wait_for(driver, cond: Callable, timeout: float = 30, message: str = "condition") -> object:
    """Poll ``cond(driver)`` until it is truthy (returns its value) or fail after ``timeout`` seconds."""
    deadline = time.time() + timeout
    last_exc: Exception | None = None
    while time.time() < deadline:
        try:
            value = cond(driver)
            if value:
                return value
        except Exception as exc:  # a page still loading can raise (stale element, JS not ready)
            last_exc = exc
        time.sleep(0.2)
    logs = [e.get("message", "") for e in driver.get_log("browser")][-10:]
    raise AssertionError(f"timed out after {timeout}s waiting for {message}; last error: {last_exc!r}; console: {logs}")
