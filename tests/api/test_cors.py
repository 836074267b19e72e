"""CORS: off unless HPGEO_CORS_ORIGINS names origins; named origins only; never credentials; errors carry the headers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from base.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

GIS = "https://gis.haiphong.gov.vn"
EVIL = "https://evil.example"


def _preflight(client, origin, method="PUT", headers="x-api-key,content-type"):
    return client.options("/registry/tasks/VUTRU-2030.V.8.1/status/2026",
                          headers={"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers})


def test_default_is_same_origin_only(client):
    r = client.get("/healthz", headers={"Origin": EVIL})
    assert r.status_code == 200
    assert not [h for h in r.headers if h.lower().startswith("access-control-")]
    p = _preflight(client, EVIL)
    assert p.status_code == 405 and "access-control-allow-origin" not in p.headers


def test_named_origins_only_and_no_credentials(make_client):
    client = make_client(cors_origins=[GIS, "http://localhost:8080"])
    r = client.get("/healthz", headers={"Origin": GIS, "Cookie": "session=1"})
    assert r.headers["access-control-allow-origin"] == GIS
    assert "access-control-allow-credentials" not in r.headers
    assert "origin" in r.headers.get("vary", "").lower()
    assert "etag" in r.headers["access-control-expose-headers"].lower()
    r = client.get("/healthz", headers={"Origin": EVIL})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    p = _preflight(client, GIS)
    assert p.status_code == 200 and p.headers["access-control-allow-origin"] == GIS
    assert "x-api-key" in p.headers["access-control-allow-headers"].lower()
    assert "PUT" in p.headers["access-control-allow-methods"] and "PATCH" not in p.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in p.headers
    bad = _preflight(client, EVIL)
    assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers
    assert _preflight(client, GIS, headers="authorization").status_code == 400  # only the headers the API reads


def test_refusals_carry_the_cors_headers_so_a_browser_client_sees_them(make_client, reg):
    client = make_client(cors_origins=[GIS])
    r = client.put("/registry/tasks/VUTRU-2030.V.8.1/status/2026", json={"status": "completed"}, headers={"Origin": GIS})
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == GIS
    assert r.json()["code"] == "InvalidApiKey"


def test_any_origin_never_with_credentials(make_client):
    client = make_client(cors_origins=["*"])
    r = client.get("/healthz", headers={"Origin": EVIL, "Cookie": "a=b"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers


def test_setting_from_the_environment(monkeypatch):
    monkeypatch.setenv("HPGEO_CORS_ORIGINS", f"{GIS}, http://localhost:8080/")
    assert Settings().cors_origins == [GIS, "http://localhost:8080"]
    monkeypatch.setenv("HPGEO_CORS_ORIGINS", "")
    assert Settings().cors_origins == []
    monkeypatch.delenv("HPGEO_CORS_ORIGINS")
    assert Settings().cors_origins == [] and Settings.defaults().cors_origins == []
    for bad in ("*," + GIS, "ftp://x.org", GIS + "/maps", "gis.haiphong.gov.vn", "https://x.org\nEvil: 1"):
        with pytest.raises(ValidationError, match="cors_origins"):
            Settings(cors_origins=bad)
