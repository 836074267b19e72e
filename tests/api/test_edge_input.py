"""Bad input at the HTTP edge: each case the probe found answers a 4xx with a message and changes nothing."""

from __future__ import annotations

import json

import pytest

from api.errors import SafeJSONResponse

V81 = "VUTRU-2030.V.8.1"  # led by Sở Tài nguyên và Môi trường, now Sở Nông nghiệp và Môi trường (SNNMT)
JSON = {"content-type": "application/json"}


def _raw(client, method, url, text, headers=None):
    return client.request(method, url, content=text.encode(), headers={**JSON, **(headers or {})})


@pytest.mark.parametrize("body, where", [
    ('{"ids": ["\\ud800"]}', "body.ids[0]"),
    ('{"collections": ["sentinel-1-grd", "x\\udfff"]}', "body.collections[1]"),
    ('{"limit": "\\ud800"}', "body.limit"),  # a field that also fails validation: the 422 handler used to fail on it
    ('{"\\ud800": 1}', "body (a key)"),
])
def test_lone_surrogates_in_search_bodies_are_400_not_500(client, body, where):
    r = _raw(client, "POST", "/stac/search", body)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "InvalidJSON"
    assert r.json()["description"].startswith(where) and "lone surrogate" in r.json()["description"]


def test_lone_surrogates_and_control_characters_in_registry_texts_change_nothing(client, coord):
    url = f"/registry/tasks/{V81}/status/2026"
    r = _raw(client, "PUT", url, '{"status": "in_progress", "note": "ok \\ud83d"}', coord)
    assert r.status_code == 400 and "body.note" in r.json()["description"]
    r = client.put(url, json={"status": "in_progress", "note": "bad\x07bell"}, headers=coord)
    assert r.status_code == 400
    assert r.json() == {"code": "InvalidRegistryInput",
                        "description": "note contains the control character U+0007 at position 3 (only line feed and tab are allowed)"}
    r = client.put("/registry/reports/2026/SNNMT", json={"text": "line\r\nbreak"}, headers=coord)
    assert r.status_code == 400 and "U+000D" in r.json()["description"]
    r = _raw(client, "PUT", "/registry/reports/2026/SNNMT", '{"text": "x", "attachments": [{"name": "\\udc00", "url": "u"}]}', coord)
    assert r.status_code == 400 and "body.attachments[0].name" in r.json()["description"]
    assert client.get(f"/registry/tasks/{V81}", params={"year": 2026}).json()["status"] == "unreported"
    assert client.get("/registry/reports/2026/SNNMT").status_code == 404
    assert [a["outcome"] for a in client.get("/registry/audit", headers=coord).json() if a["action"] in ("task.status", "report.submit")] == []
    # line feed and tab are kept
    r = client.put(url, json={"status": "in_progress", "note": "a\n\tb"}, headers=coord)
    assert r.status_code == 200 and r.json()["note"] == "a\n\tb"


@pytest.mark.parametrize("value, code", [("NaN", 400), ("Infinity", 400), ("-Infinity", 400), ("1e999", 400), ("-3", 422), ('"12"', 200)])
def test_indicator_values_must_be_finite_numbers(client, coord, value, code):
    r = _raw(client, "PUT", "/registry/reports/2026/SNNMT", f'{{"text": "Báo cáo", "indicators": {{"space-engineers": {value}}}}}', coord)
    assert r.status_code == code, r.text
    ind = {i["id"]: i for i in client.get("/registry/indicators", params={"year": 2026}).json()}["VUTRU-2030.space-engineers"]
    if code == 200:
        assert ind["value"] == 12.0 and ind["target_met"] is False
    else:
        assert ind["value"] is None and ind["target_met"] is None
        assert client.get("/registry/reports/2026/SNNMT").status_code == 404


def test_registry_refuses_non_finite_values_without_the_api(reg):
    from registry.auth import CLI_PRINCIPAL
    from registry.errors import InvalidRegistryInput

    for v in (float("nan"), float("inf"), 10**400, True, -1):
        with pytest.raises(InvalidRegistryInput):
            reg.submit_report(CLI_PRINCIPAL, "SNNMT", 2026, "x", {"space-engineers": v})
    with pytest.raises(InvalidRegistryInput, match=r"U\+0000 at position 3"):
        reg.set_status(CLI_PRINCIPAL, V81, 2026, "in_progress", None, "nul\x00")
    assert reg.reports(2026) == {}


def test_infinity_already_stored_is_not_a_met_target(client, reg):
    from registry.models import IndicatorValueRow

    with reg.session() as s:
        s.add(IndicatorValueRow(indicator_id="VUTRU-2030.space-engineers", agency_id="SNNMT", year=2026, value=float("inf")))
    r = client.get("/registry/indicators", params={"year": 2026})
    assert r.status_code == 200
    ind = {i["id"]: i for i in r.json()}["VUTRU-2030.space-engineers"]
    assert ind["value"] is None and ind["target_met"] is None


def test_safe_json_never_fails_on_what_is_stored():
    r = SafeJSONResponse({"a": "x\ud800y", "b": float("nan"), "c": [float("inf"), 1.5]})
    assert json.loads(r.body) == {"a": "x\ufffdy", "b": None, "c": [None, 1.5]}
    assert SafeJSONResponse({"a": "Hải Phòng"}).body == '{"a":"Hải Phòng"}'.encode()


def test_validation_errors_are_code_and_description_without_echoing_input(client):
    r = client.get("/registry/tasks", params={"year": "x" * 5000})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "RequestValidationError"
    assert body["description"] == "query.year: Input should be a valid integer, unable to parse string as an integer"
    assert body["errors"] == [{"loc": ["query", "year"], "msg": "Input should be a valid integer, unable to parse string as an integer",
                               "type": "int_parsing"}]
    assert "xxxx" not in r.text


def test_body_limit_413_before_parsing(make_client):
    small = make_client(max_body_bytes=1000)
    big = json.dumps({"intersects": {"type": "Point", "coordinates": [106.7, 20.8]}, "ids": ["a" * 2000]})
    r = small.post("/stac/search", content=big, headers=JSON)
    assert r.status_code == 413
    assert r.json() == {"code": "PayloadTooLarge", "description": "the request body is larger than 1000 bytes (HPGEO_MAX_BODY_BYTES)"}

    def chunks():  # no Content-Length: counted while it arrives
        for _ in range(5):
            yield b" " * 300

    r = small.post("/stac/search", content=chunks(), headers=JSON)
    assert r.status_code == 413 and r.json()["code"] == "PayloadTooLarge"
    assert small.post("/stac/search", json={"limit": 3}).status_code == 200
    # the default is 1 MiB: a 2 MiB polygon is refused, and never echoed
    default = make_client()
    ring = [[106.0 + i * 1e-7, 20.0] for i in range(60_000)]
    r = default.post("/stac/search", json={"intersects": {"type": "Polygon", "coordinates": [ring]}})
    assert r.status_code == 413 and "1048576 bytes" in r.json()["description"] and len(r.content) < 200


def _circle(n, cx=106.7, cy=20.8, radius=0.5):
    import math

    ring = [[round(cx + radius * math.cos(2 * math.pi * i / n), 7), round(cy + radius * math.sin(2 * math.pi * i / n), 7)] for i in range(n)]
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


@pytest.mark.parametrize("geometry, code, message", [
    ({"type": "Point", "coordinates": [181, 20]}, 400, "outside longitude -180..180 / latitude -90..90"),
    ({"type": "Point", "coordinates": [106, -90.5]}, 400, "outside longitude -180..180 / latitude -90..90"),
    ({"type": "Polygon", "coordinates": [[[106, 20], [107, 21], [107, 20], [106, 21], [106, 20]]]}, 400, "not a valid geometry: Self-intersection[106.5 20.5]"),
    ({"type": "Feature", "geometry": None}, 400, "must be a GeoJSON geometry"),
    ({"type": "Polygon", "coordinates": "nope"}, 400, "not a GeoJSON geometry"),
    ({"type": "Polygon", "coordinates": []}, 400, "empty"),
    (_circle(10_000), 400, "10001 vertices; at most 10000"),
])
def test_search_geometries_are_validated(client, geometry, code, message):
    r = client.post("/stac/search", json={"intersects": geometry})
    assert r.status_code == code, r.text
    assert message in r.json()["description"]
    r = client.get("/stac/search", params={"intersects": json.dumps(geometry)}) if len(json.dumps(geometry)) < 4000 else r
    assert r.status_code == code and message in r.json()["description"]


def test_non_finite_coordinates_are_refused(client):
    r = _raw(client, "POST", "/stac/search", '{"intersects": {"type": "Point", "coordinates": [NaN, 20]}}')
    assert r.status_code == 400 and r.json()["description"] == "JSON numbers must be finite; NaN is not accepted"
    r = client.get("/stac/search", params={"intersects": '{"type": "Point", "coordinates": [NaN, 20]}'})
    assert r.status_code == 400 and r.json()["description"] == "intersects coordinates must be finite numbers (no NaN or infinity)"
    assert client.post("/stac/search", json={"intersects": _circle(9_999)}).status_code == 200


@pytest.mark.parametrize("url, name", [
    ("/registry/tasks?yaer=2026", "'yaer'"),
    ("/products?verbose=1", "'verbose'"),
    ("/tiles/colormaps/flood?colourmap=x", "'colourmap'"),
    ("/healthz?x=1", "'x'"),
    ("/stats/timeseries?unit=do-son&klass=1", "'klass'"),
])
def test_unknown_query_parameters_on_hpgeo_routes_are_400_naming_them(client, url, name):
    r = client.get(url)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "UnknownParameter" and name in r.json()["description"]


def test_stac_routes_accept_standard_client_parameters(client):
    assert client.get("/stac/search", params={"limit": 2, "fields": "id", "sortby": "-datetime"}).status_code == 200
    assert client.get("/registry/tasks", params={"year": 2026, "agency": "SNNMT"}).status_code == 200
