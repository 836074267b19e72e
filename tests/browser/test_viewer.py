"""/viewer in headless Chromium over the simulated demo: the offline base map and the data tiles are drawn
(decoded screenshot pixels), a layer is switched on and its date changed (the tile URLs follow), tiles stay
inside their item's bounds (morecantile), a click shows the point query's value and the unit's time series,
the swipe clips two layers, alerts are listed and drawn, the language switch keeps the view, and nothing
leaves 127.0.0.1 nor answers 404.

The screenshot is kept under the test artefacts and copied to docs/viewer.png (shown by the README).
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import morecantile
import numpy as np
from PIL import Image
from shapely.geometry import Point, shape

from maps.basemap import LAND_RGB, SEA_RGB
from tests.browser.conftest import ARTEFACTS, clear_network, external_requests, requested_urls, responses, wait_for

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "viewer.png"
TMS = morecantile.tms.get("WebMercatorQuad")
_TILE = re.compile(r"/tiles/([^/]+)/([^/]+)/(\d+)/(\d+)/(\d+)\.png")


def _idle(driver) -> bool:
    """Leaflet has loaded every tile layer on the map (and at least one tile of each)."""
    return driver.execute_script(
        "var v = window.hpViewer; if (!v) return false; var busy = false, n = 0;"
        "v.map.eachLayer(function (l) { if (l.isLoading) { n++; if (l.isLoading()) busy = true; } });"
        "return n > 0 && !busy && document.querySelectorAll('img.leaflet-tile-loaded').length > 0;"
    )


def _map_pixels(driver) -> np.ndarray:
    png = driver.find_element("id", "hp-map").screenshot_as_png
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _toggle(driver, cid: str) -> None:
    driver.find_element("css selector", f"input[data-layer-toggle='{cid}']").click()


def _vi_number(x: float, digits: int) -> str:
    """Vietnamese number format (1.234,5), written independently of viewer.js."""
    s = f"{abs(x):,.{digits}f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return ("−" if x < 0 else "") + s


def _tile_urls(driver, cid: str, item: str | None = None) -> set[str]:
    out = set()
    for u in requested_urls(driver):
        m = _TILE.search(urlsplit(u).path)
        if m and unquote(m.group(1)) == cid and (item is None or unquote(m.group(2)) == item):
            out.add(u)
    return out


def test_viewer_end_to_end(chrome, live_server):
    base = live_server
    clear_network(chrome)
    chrome.get(f"{base}/viewer")
    wait_for(chrome, _idle, timeout=240, message="the base map and the featured layer's tiles")
    cfg = chrome.execute_script("return hpViewer.config")
    assert cfg["lang"] == "vi" and cfg["focus"] == "flood-extent" and cfg["basemap"]["own"]
    assert chrome.find_element("id", "hp-sim").text.startswith("DỮ LIỆU MÔ PHỎNG")  # labelled SIMULATED
    groups = [g["key"] for g in cfg["groups"]]
    assert groups == ["scenes", "hazards", "land", "coast"]
    flood_item = cfg["on"]["flood-extent"]

    # --- the data tiles are drawn: switching the flood layer off changes the pixels inside its bounds ----------
    with_flood = _map_pixels(chrome)
    _toggle(chrome, "flood-extent")
    wait_for(chrome, lambda d: not d.execute_script("return !!hpViewer.state.on['flood-extent']"), message="flood off")
    wait_for(chrome, _idle, message="base map alone")
    base_only = _map_pixels(chrome)
    (s, w), (n, e) = cfg["groups"][1]["layers"][0]["steps"][0]["bounds"]
    x0, y0 = chrome.execute_script("var p = hpViewer.map.latLngToContainerPoint([arguments[0], arguments[1]]); return [p.x, p.y]", n, w)
    x1, y1 = chrome.execute_script("var p = hpViewer.map.latLngToContainerPoint([arguments[0], arguments[1]]); return [p.x, p.y]", s, e)
    box = (slice(max(0, int(y0)), int(y1)), slice(max(0, int(x0)), int(x1)))
    changed = np.any(with_flood[box] != base_only[box], axis=-1).mean()
    assert changed > 0.2, f"only {changed:.1%} of the flood layer's box changed"

    # --- the base map is drawn: its land and sea colours, sea and land where the geography has them -----------
    land = np.all(base_only == LAND_RGB, axis=-1).mean()
    sea = np.all(base_only == SEA_RGB, axis=-1).mean()
    assert land > 0.2 and sea > 0.05, (land, sea)

    def colour_at(lat: float, lon: float) -> tuple[int, ...]:
        x, y = chrome.execute_script("var p = hpViewer.map.latLngToContainerPoint([arguments[0], arguments[1]]); return [p.x, p.y]", lat, lon)
        patch = base_only[int(y) - 2 : int(y) + 3, int(x) - 2 : int(x) + 3].reshape(-1, 3)
        values, counts = np.unique(patch, axis=0, return_counts=True)
        return tuple(int(v) for v in values[counts.argmax()])

    assert colour_at(20.63, 106.79) == SEA_RGB  # the Gulf of Tonkin off Đồ Sơn
    assert colour_at(20.76, 106.62) == LAND_RGB  # inland Tiên Lãng
    _toggle(chrome, "flood-extent")
    wait_for(chrome, _idle, message="flood back on")

    # --- a layer with several dates: switched on, then its date changed --------------------------------------
    s1 = next(lay for g in cfg["groups"] for lay in g["layers"] if lay["id"] == "sentinel-1-grd")
    assert len(s1["steps"]) >= 2
    # the step before the latest over the same place (the view stays on the flood's area)
    last_step = s1["steps"][-1]
    first = next(st["item"] for st in reversed(s1["steps"][:-1]) if st["bounds"] == last_step["bounds"])
    last = last_step["item"]
    _toggle(chrome, "sentinel-1-grd")
    wait_for(chrome, lambda d: _tile_urls(d, "sentinel-1-grd", last), message="tiles of the latest S1 scene")
    wait_for(chrome, _idle, message="S1 tiles")
    from selenium.webdriver.support.ui import Select

    Select(chrome.find_element("css selector", "select[data-layer-date='sentinel-1-grd']")).select_by_value(first)
    wait_for(chrome, lambda d: _tile_urls(d, "sentinel-1-grd", first), message="tiles of the first S1 scene")
    wait_for(chrome, _idle, message="S1 tiles after the date change")
    assert _tile_urls(chrome, "sentinel-1-grd", first).isdisjoint(_tile_urls(chrome, "sentinel-1-grd", last))
    assert chrome.find_element("css selector", "select[data-layer-date='sentinel-1-grd']").get_attribute("value") == first
    assert re.search(rf"layers=[^&]*sentinel-1-grd%2F{re.escape(first)}", chrome.current_url)

    # --- every tile asked for intersects its item's bbox (layer bounds), and none answers 404 ---------------
    bboxes: dict[tuple[str, str], list[float]] = {}
    tiles = [u for u in requested_urls(chrome) if _TILE.search(urlsplit(u).path)]
    assert tiles
    for u in tiles:
        cid, iid, z, x, y = _TILE.search(urlsplit(u).path).groups()
        key = (unquote(cid), unquote(iid))
        if key not in bboxes:
            bboxes[key] = httpx.get(f"{base}/stac/collections/{cid}/items/{iid}").json()["bbox"]
        bw, bs, be, bn = bboxes[key][:4] if len(bboxes[key]) == 4 else [bboxes[key][i] for i in (0, 1, 3, 4)]
        tb = TMS.bounds(morecantile.Tile(int(x), int(y), int(z)))
        assert tb.left < be and tb.right > bw and tb.bottom < bn and tb.top > bs, f"{u} is outside the item's bbox"

    # --- click: the point query's value and class, the unit and its time series -----------------------------
    _toggle(chrome, "sentinel-1-grd")  # off again: the click reads the focused product
    from selenium.webdriver.common.action_chains import ActionChains

    map_el = chrome.find_element("id", "hp-map")
    ActionChains(chrome).move_to_element_with_offset(map_el, -60, 40).click().perform()
    wait_for(chrome, lambda d: d.find_elements("css selector", "#hp-info .hp-value"), message="the clicked value")
    wait_for(chrome, lambda d: d.find_elements("css selector", "#hp-info svg.hp-chart"), timeout=60, message="the unit chart")
    point_url, unit = chrome.execute_script("return [hpViewer.state.lastPoint, hpViewer.state.lastUnit]")
    assert f"/tiles/flood-extent/{flood_item}/point/" in point_url
    api = httpx.get(point_url).json()["properties"]["values"][0]
    shown = chrome.find_element("css selector", "#hp-info .hp-value").text
    if api["value"] is None:
        assert "Không có dữ liệu" in shown
    else:
        v = float(api["value"])
        assert _vi_number(v, 0 if v.is_integer() else 1 if abs(v) >= 100 else 2) in shown
    if api["label"]:
        assert api["label"]["vi"] in shown
    lon, lat = (float(v) for v in point_url.rsplit("/", 1)[1].split(","))
    aois = httpx.get(f"{base}/aois", params={"source": "builtin", "simplify": 20}).json()["features"]
    inside = [f for f in aois if shape(f["geometry"]).contains(Point(lon, lat))]
    expected_unit = min(inside, key=lambda f: f["properties"]["area_km2"])
    assert unit == expected_unit["id"]
    assert chrome.find_element("css selector", "#hp-info .hp-unit-name").text == expected_unit["properties"]["name_vi"]
    rows = httpx.get(f"{base}/stats/timeseries", params={"unit": unit, "collection": "flood-extent"}).json()["rows"]
    legend_classes = {1, 2}  # the flood map's legend: new flood water, permanent water
    charted = [r for r in rows if r.get("class_value") in legend_classes]
    assert charted
    circles = chrome.find_elements("css selector", "#hp-info svg.hp-chart circle")
    assert len(circles) == len({(r["class_value"], r["datetime"]) for r in charted})
    for c in circles:
        want = sum(r["hectares"] for r in charted if str(r["class_value"]) == c.get_attribute("data-class") and r["datetime"] == c.get_attribute("data-date"))
        assert abs(float(c.get_attribute("data-ha")) - want) < 1e-6
    top = max(r["hectares"] for r in charted)
    svg_text = chrome.find_element("css selector", "#hp-info svg.hp-chart").text
    assert _vi_number(top, 0 if top >= 100 else 1) in svg_text  # Vietnamese number format on the axis
    key = chrome.find_element("css selector", "#hp-info .hp-chart-key").text
    assert "Vùng ngập mới" in key
    links = [a.get_attribute("href") for a in chrome.find_elements("css selector", "#hp-info .hp-downloads a")]
    assert [urlsplit(h).path.rsplit(".", 1)[1] for h in links] == ["tif", "gpkg", "geojson", "csv"]
    assert all(f"/exports/flood-extent/{flood_item}." in h and f"aoi={unit}" in h for h in links)

    # --- the swipe: two layers clipped on either side of the divider -----------------------------------------
    chrome.find_element("css selector", "#hp-compare-box > summary").click()
    chrome.find_element("id", "hp-cmp-toggle").click()
    wait_for(chrome, lambda d: len(d.find_elements("css selector", ".leaflet-hp-compare-pane > .leaflet-layer")) == 2, message="two compared layers")
    clips = [el.value_of_css_property("clip") for el in chrome.find_elements("css selector", ".leaflet-hp-compare-pane > .leaflet-layer")]
    assert all(c.startswith("rect(") for c in clips) and clips[0] != clips[1]
    chrome.find_element("id", "hp-cmp-toggle").click()
    wait_for(chrome, lambda d: not d.find_elements("css selector", ".leaflet-hp-compare-pane > .leaflet-layer"), message="swipe off")

    # --- alerts: listed, their CAP areas drawn, each linking its CAP XML ----------------------------------------
    active = httpx.get(f"{base}/alerts").json()
    wait_for(chrome, lambda d: len(d.find_elements("css selector", "li.hp-alert")) == len(active), message="the alerts list")
    if active:
        wait_for(chrome, lambda d: d.find_elements("css selector", "path.hp-alert-area"), message="alert areas")
        caps = [a.get_attribute("href") for a in chrome.find_elements("css selector", "a[data-alert-cap]")]
        assert sorted(caps) == sorted(f"{base}/alerts/{a['identifier']}.cap" for a in active)
        assert httpx.get(caps[0]).text.lstrip().startswith("<?xml")

    wait_for(chrome, _idle, message="tiles before the screenshot")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTEFACTS / "viewer.png"
    chrome.save_screenshot(str(shot))
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 50  # not blank
    DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, DOCS_SHOT)

    # --- the language switch keeps the view and the layers -------------------------------------------------------
    before = parse_qs(urlsplit(chrome.current_url).query)
    view = chrome.execute_script("var c = hpViewer.map.getCenter(); return [c.lat, c.lng, hpViewer.map.getZoom()]")
    on = chrome.execute_script("var o = hpViewer.state.on, r = {}; Object.keys(o).forEach(function (k) { r[k] = o[k].step.item; }); return r")
    chrome.find_element("id", "hp-lang").click()
    wait_for(chrome, lambda d: d.execute_script("return document.documentElement.lang") == "en" and _idle(d), message="the English page")
    after_view = chrome.execute_script("var c = hpViewer.map.getCenter(); return [c.lat, c.lng, hpViewer.map.getZoom()]")
    after_on = chrome.execute_script("var o = hpViewer.state.on, r = {}; Object.keys(o).forEach(function (k) { r[k] = o[k].step.item; }); return r")
    assert abs(after_view[0] - view[0]) < 1e-4 and abs(after_view[1] - view[1]) < 1e-4 and after_view[2] == view[2]
    assert after_on == on and before["layers"] == parse_qs(urlsplit(chrome.current_url).query)["layers"]
    assert chrome.find_element("id", "hp-sim").text.startswith("SIMULATED DATA")
    assert chrome.find_element("css selector", "#hp-layers > summary").text == "Layers"

    # --- nothing left 127.0.0.1; no tile (data or base map) answered 404; nothing failed -------------------------
    assert external_requests(chrome) == []
    got = responses(chrome)
    tile_status = [st for u, st in got if "/tiles/" in u or "/viewer/basemap/" in u]
    assert tile_status and 404 not in tile_status
    assert [(u, st) for u, st in got if st >= 400] == []


def _page_config(html: str) -> dict:
    import json

    return json.loads(re.search(r'<script type="application/json" id="hp-config">(.*?)</script>', html, re.S).group(1))


def test_deep_links_by_item_and_date(live_server):
    items = httpx.get(f"{live_server}/stac/collections/sentinel-1-grd/items", params={"limit": 100}).json()["features"]
    assert len(items) >= 2
    for it in items:
        day = it["properties"]["datetime"][:10]
        cfg = _page_config(httpx.get(f"{live_server}/viewer", params={"collection": "sentinel-1-grd", "date": day}).text)
        same_day = [i["id"] for i in items if i["properties"]["datetime"][:10] == day]
        assert cfg["focus"] == "sentinel-1-grd" and cfg["on"]["sentinel-1-grd"] in same_day
        cfg = _page_config(httpx.get(f"{live_server}/viewer", params={"collection": "sentinel-1-grd", "item": it["id"]}).text)
        assert cfg["on"] == {"sentinel-1-grd": it["id"]}
        assert cfg["fit"] == [[it["bbox"][1], it["bbox"][0]], [it["bbox"][3], it["bbox"][2]]]
    r = httpx.get(f"{live_server}/viewer", params={"collection": "sentinel-1-grd", "date": "1999-01-01"})
    assert r.status_code == 404 and r.json()["code"] == "UnknownViewerDate"
    both = _page_config(httpx.get(f"{live_server}/viewer", params={"layers": f"sentinel-1-grd/{items[-1]['id']},flood-extent", "lang": "en"}).text)
    assert both["on"]["sentinel-1-grd"] == items[-1]["id"] and "flood-extent" in both["on"] and both["lang"] == "en"
