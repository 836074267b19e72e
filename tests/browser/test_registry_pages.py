"""The registry pages in headless Chromium on the live demo server: filter the task table, open a task, its map
layer loads (tile requests answer 200, tiles drawn), switch language; no request leaves 127.0.0.1."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlsplit

from tests.browser.conftest import ARTEFACTS, clear_network, external_requests, responses, wait_for

V81 = "VUTRU-2030.V.8.1"


def _json(url: str):
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.loads(r.read().decode("utf-8"))


def _rows(driver) -> list[str]:
    return [e.get_attribute("data-task") for e in driver.find_elements("css selector", "#tasks tbody tr")]


def test_registry_pages_filter_open_a_task_and_its_map_layer_loads(chrome, live_server):
    from selenium.webdriver.support.ui import Select

    clear_network(chrome)
    chrome.get(f"{live_server}/registry/page?year=2025")
    wait_for(chrome, lambda d: d.find_elements("css selector", "#tasks tbody tr"), message="the task table")
    every = _json(f"{live_server}/registry/tasks?year=2025")
    assert _rows(chrome) == [t["id"] for t in every]
    # the page is styled by the app's own CSS
    assert chrome.execute_script("return getComputedStyle(document.querySelector('header.top')).backgroundColor") == "rgb(11, 61, 110)"

    # filter by agency: the select submits the form on change (registry.js)
    Select(chrome.find_element("id", "f-agency")).select_by_value("SNNMT")
    wait_for(chrome, lambda d: "agency=SNNMT" in d.current_url and d.find_elements("id", "count"), message="the filtered table")
    expected = [t["id"] for t in _json(f"{live_server}/registry/tasks?year=2025&agency=SNNMT")]
    assert _rows(chrome) == expected and 0 < len(expected) < len(every)
    assert chrome.find_element("id", "count").text == str(len(expected))
    # and by type
    Select(chrome.find_element("id", "f-type")).select_by_value("remote-sensing-product")
    wait_for(chrome, lambda d: "type=remote-sensing-product" in d.current_url, message="the type filter")
    expected = [t["id"] for t in _json(f"{live_server}/registry/tasks?year=2025&agency=SNNMT&type=remote-sensing-product")]
    assert _rows(chrome) == expected and V81 in expected

    # open a task: its first product layer is drawn on the small map, inside the layer's bounds
    assert [u for u, s in responses(chrome) if s >= 400] == [] and external_requests(chrome) == []
    clear_network(chrome)
    chrome.find_element("css selector", f'tr[data-task="{V81}"] a.task-link').click()
    wait_for(chrome, lambda d: d.find_elements("css selector", "#task-map img.leaflet-tile-loaded"), timeout=90, message="a loaded map tile")
    layers = json.loads(chrome.find_element("id", "task-map").get_attribute("data-layers"))
    assert layers and all(urlsplit(l["tiles"]).hostname == "127.0.0.1" for l in layers)
    tiles = [(u, s) for u, s in responses(chrome) if "/tiles/" in u]
    assert tiles and all(s == 200 for _, s in tiles), tiles
    first = layers[0]
    assert all(f"/tiles/{first['collection']}/{first['item']}/" in u for u, _ in tiles)
    assert chrome.find_element("id", "lead").text and "Sở Nông nghiệp và Môi trường" in chrome.find_element("id", "lead").text
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    chrome.save_screenshot(str(ARTEFACTS / "registry-task-page.png"))

    # the language switch keeps the page
    chrome.find_element("id", "lang-switch").click()
    wait_for(chrome, lambda d: d.find_element("tag name", "html").get_attribute("lang") == "en", message="the English page")
    assert V81 in chrome.current_url and "Lead agency" in chrome.page_source

    statuses = responses(chrome)
    assert [u for u, s in statuses if s >= 400] == []
    assert external_requests(chrome) == []
