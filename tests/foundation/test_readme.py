"""Every README command runs as written.

The commands are read from README.md's ```sh blocks (and the ```python block that uses pystac-client)
and run, in README order, by ``bash`` in a working directory that holds ``.venv`` (a link to the
project's), the files the commands name (``communes.gpkg``, ``archive/``, ``scan_1995.tif``,
``gcps.csv``, a watch configuration) and ``HPGEO_DATA_DIR`` pointing at a copy of the simulated demo.
The hub commands reach their configured hub: ``HPGEO_STAC_URL``, ``HPGEO_DHUS_URL`` and
``HPGEO_ODATA_URL`` point at replay servers answering with real recorded responses of Earth Search,
SciHub and Copernicus Data Space (../shared/data/catalog). Every command has a check of its effect;
a README command without one fails :func:`test_every_readme_command_has_a_check`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import zipfile
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from tests.replay import Interaction, ReplayServer, load_cassette, odata_first_page

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SETUP = ("make run", "make test")  # the two set-up commands: checked with `make -n`, not run inside the suite
SHARED_CATALOG = (ROOT / ".." / "shared" / "data" / "catalog").resolve()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)


def readme_commands() -> list[str]:
    """Each line of the ```sh blocks, without its trailing ``# comment``."""
    out = []
    for block in _blocks("sh"):
        for line in block.splitlines():
            cmd = re.sub(r"\s+#\s.*$", "", line).strip()
            if cmd:
                out.append(cmd)
    return out


def readme_python() -> str:
    (code,) = [b for b in _blocks("python") if "pystac_client" in b]
    return code


# --- replay of the recorded hubs ------------------------------------------------------------------------


class AnyAreaReplay(ReplayServer):
    """A replay server that also ignores the JSON body keys that say where and when (``ignore_body_keys``).

    The recordings are of other places and periods (Colorado, Amazonas, the Pacific): the hub commands
    ask for Hải Phòng, so the area, period, collection and cloud filters are declared irrelevant, while the
    endpoint, the page (``next``, ``start``, ``rows``) and every other parameter must still match.
    """

    def __init__(self, interactions: list[Interaction], *, ignore_params: tuple[str, ...] = (), ignore_body_keys: tuple[str, ...] = ()):
        super().__init__(interactions, ignore_params=ignore_params)
        self.ignore_body_keys = set(ignore_body_keys)

    def _body(self, body: bytes | None) -> Any:
        if not body:
            return None
        doc = json.loads(body)
        return {k: v for k, v in doc.items() if k not in self.ignore_body_keys} or None

    def match(self, method: str, target: str, body: bytes | None) -> Interaction | None:
        parts = urlsplit(target)

        def query(q: dict[str, list[str]]) -> dict[str, list[str]]:
            return {k: sorted(v) for k, v in q.items() if k not in self.ignore_params}

        want = query(parse_qs(parts.query, keep_blank_values=True))
        for it in self.interactions:
            if (it.method == method and it.path.rstrip("/") == parts.path.rstrip("/") and query(it.query) == want
                    and self._body(it.body) == self._body(body)):
                return it
        return None


# --- the working directory --------------------------------------------------------------------------------


def _communes(path: Path) -> None:
    """Two commune polygons over Tiên Lãng (EPSG:4326), as an official boundary file would give them."""
    import geopandas as gpd
    from shapely.geometry import box

    gpd.GeoDataFrame(
        {"id": ["xa-tien-lang", "xa-kien-thuy"], "name": ["Xã Tiên Lãng", "Xã Kiến Thụy"]},
        geometry=[box(106.60, 20.66, 106.70, 20.74), box(106.70, 20.66, 106.80, 20.74)],
        crs="EPSG:4326",
    ).to_file(path, driver="GPKG")


def _archive(folder: Path) -> None:
    """A zipped single-band GeoTIFF (as a VNREDSat-1 delivery) in EPSG:32648 over the coast."""
    folder.mkdir()
    tif = folder / "vnredsat_20240315.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=64, height=64, count=1, dtype="uint16", crs="EPSG:32648",
                       transform=from_origin(680000, 2300000, 10, 10), nodata=0) as ds:
        ds.write(np.arange(1, 64 * 64 + 1, dtype="uint16").reshape(1, 64, 64))
        ds.update_tags(TIFFTAG_DATETIME="2024:03:15 03:10:00")
    with zipfile.ZipFile(folder / "VNREDSAT_20240315.zip", "w") as zf:
        zf.write(tif, tif.name)
    tif.unlink()


def _scan_and_gcps(work: Path) -> None:
    """A plain scan (no georeference) and 16 GCPs of a known mildly warped UTM 48N mapping (~5 m pixels)."""
    h, w = 200, 240
    rows, cols = np.mgrid[0:h, 0:w]
    img = (127 + 100 * np.sin(cols / 8.0) * np.cos(rows / 9.0)).astype("uint8")
    with rasterio.open(work / "scan_1995.tif", "w", driver="GTiff", width=w, height=h, count=1, dtype="uint8") as ds:
        ds.write(img, 1)
    lines = ["id,pixel,line,x,y"]
    for i, (c, r) in enumerate((c, r) for c in np.linspace(15, w - 15, 4) for r in np.linspace(15, h - 15, 4)):
        x = 600000 + 5.0 * c + 0.2 * r + 1e-4 * c * c
        y = 2320000 - 0.2 * c - 5.0 * r + 1e-4 * r * r
        lines.append(f"G{i + 1},{c},{r},{x},{y}")
    (work / "gcps.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def readme_env(demo_settings, tmp_path_factory):
    """(working dir, environment) for the README commands; the hubs are replay servers."""
    if not SHARED_CATALOG.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"real test data missing under CI: {SHARED_CATALOG}")
        pytest.skip(f"recorded hub responses not available: {SHARED_CATALOG}")
    work = tmp_path_factory.mktemp("readme")
    (work / ".venv").symlink_to(ROOT / ".venv")
    data = work / "data"
    shutil.copytree(demo_settings.resolved_data_dir, data)
    _communes(work / "communes.gpkg")
    _archive(work / "archive")
    _scan_and_gcps(work)
    (work / "watch.yaml").write_text(
        f"jobs:\n  - name: archive\n    source: local\n    paths: [{work / 'archive'}]\n    bbox: [106.5, 20.6, 106.9, 21.0]\n    start: 2024-01-01\n"
    )
    stac = AnyAreaReplay(load_cassette(SHARED_CATALOG / "pystac_client/TestCLISearch.test_filterinprocess.yaml"),
                         ignore_body_keys=("collections", "intersects", "bbox", "datetime", "filter", "filter-lang", "query", "limit"))
    dhus = AnyAreaReplay(load_cassette(SHARED_CATALOG / "sentinelsat_scihub/test_footprints_s1.yaml"), ignore_params=("q",))
    odata = AnyAreaReplay([odata_first_page(SHARED_CATALOG / "eodag/cop_dataspace_search.json")], ignore_params=("$filter", "$top"))
    with stac, dhus, odata:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HPGEO_")}
        env.update(
            HPGEO_DATA_DIR=str(data), HPGEO_STAC_URL=f"{stac.url}/v1", HPGEO_DHUS_URL=f"{dhus.url}/apihub/",
            HPGEO_ODATA_URL=odata.url, HPGEO_DHUS_USER="user", HPGEO_DHUS_PASSWORD="pw",
            HPGEO_WATCH_CONFIG=str(work / "watch.yaml"), COLUMNS="250", NO_COLOR="1",
        )
        yield {"work": work, "env": env, "data": data, "stac": stac, "dhus": dhus, "odata": odata}


def run(cmd: str, ctx: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(["bash", "-c", cmd], cwd=ctx["work"], env=ctx["env"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"{cmd}\nexit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def _items(ctx: dict[str, Any], collection: str) -> list[dict[str, Any]]:
    out = subprocess.run([str(ROOT / ".venv/bin/hpgeo"), "catalog", "search", "-c", collection, "--json"],
                         cwd=ctx["work"], env=ctx["env"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["features"]


# --- one check per command: what the README says it does -------------------------------------------------


def check_catalog_search(r, ctx):
    ids = re.findall(r"SIM-S1\S*", r.stdout)
    assert ids and "1 item" not in r.stdout.splitlines()[0] and "sentinel-1-grd" in r.stdout
    assert all(it["id"].startswith("SIM-") for it in _items(ctx, "sentinel-1-grd"))


def check_aoi_list(r, ctx):
    assert "haiphong-2025" in r.stdout and "tien-lang-kien-thuy" in r.stdout and "cat-ba" in r.stdout


def check_aoi_import(r, ctx):
    out = run(".venv/bin/hpgeo aoi list --on 2025-07-01 --json", ctx).stdout
    kinds = {f["id"]: f["properties"].get("kind") for f in json.loads(out)["features"]}
    assert kinds.get("xa-tien-lang") == "commune" and kinds.get("xa-kien-thuy") == "commune"


def check_registry_calendar(r, ctx):
    assert "2026" in r.stdout and re.search(r"15/11|11-15|18/12|12-18|remind|report", r.stdout, re.I)


def check_products_build(r, ctx):
    ref = r.stdout.strip().splitlines()[0]
    assert ref.startswith("flood-extent/") and "sar" in r.stdout
    (item,) = [it for it in _items(ctx, "flood-extent") if f"flood-extent/{it['id']}" == ref]
    assert "2025-09" in (item["properties"].get("datetime") or item["properties"]["start_datetime"])
    ctx["flood_item"] = ref


def check_products_stats(r, ctx):
    assert "xa-tien-lang" in r.stdout and "xa-kien-thuy" in r.stdout and "unit(s)" in r.stdout
    assert ctx.get("flood_item", "flood-extent/").split("/")[1][:20] in r.stdout


def check_export(r, ctx):
    import pyogrio

    out = ctx["work"] / "flood-vn2000.gpkg"
    info = pyogrio.read_info(out)
    assert info["crs"] == "EPSG:9210" and info["features"] > 0 and info["layer_name"] == "flood_extent"
    assert "VN-2000 to WGS 84" in info["dataset_metadata"]["HPGEO_DATUM_OPERATION"]
    assert "wrote flood-vn2000.gpkg" in r.stdout


def check_ingest_stac(r, ctx):
    srv = ctx["stac"]
    assert srv.unmatched == [] and [m for m, *_ in srv.requests][:2] == ["GET", "POST"]
    body = json.loads(srv.requests[1][2])
    assert body["collections"] == ["sentinel-2-l2a"] and body["datetime"].startswith("2025-01-01")
    assert body["filter"]["args"][1] == 30 and body["intersects"]["type"] in ("Polygon", "MultiPolygon")
    recorded = [f for it in srv.interactions if it.method == "POST" for f in json.loads(it.response)["features"]]
    kept = {f["id"] for f in recorded if f["properties"].get("eo:cloud_cover", 0) <= 30}
    assert kept and kept <= {it["id"] for it in _items(ctx, "scene-records")}
    assert f"{len(kept)} scene record(s) from stac" in r.stdout


def check_ingest_dhus(r, ctx):
    srv = ctx["dhus"]
    assert srv.unmatched == [] and srv.requests
    q = parse_qs(urlsplit(srv.requests[0][1]).query)["q"][0]
    assert "GRD" in q and "2025-09-01" in q and "Sentinel-1" in q
    recorded = json.loads(srv.interactions[0].response)["feed"]["entry"]
    ids = {e["title"] for e in recorded}
    assert ids <= {it["id"] for it in _items(ctx, "scene-records")}
    assert f"{len(ids)} scene record(s) from dhus" in r.stdout


def check_ingest_odata(r, ctx):
    srv = ctx["odata"]
    assert srv.unmatched == [] and len(srv.requests) == 1
    f = parse_qs(urlsplit(srv.requests[0][1]).query)["$filter"][0]
    assert "SENTINEL-1" in f and "2025-09-01" in f and "2025-10-01" in f.replace("2025-09-30T23:59:59.999Z", "2025-10-01")
    names = {v["Name"].removesuffix(".SAFE") for v in json.loads(srv.interactions[0].response)["value"]}
    got = {it["id"] for it in _items(ctx, "scene-records")}
    assert names <= got or {n + ".SAFE" for n in names} <= got
    assert "2 scene record(s) from odata" in r.stdout


def check_ingest_file(r, ctx):
    assert "ingested 1" in r.stdout
    assert any("vnredsat" in it["id"].lower() for c in ("scene-records",) for it in _items(ctx, c)) or "vnredsat" in r.stdout.lower()


def check_ingest_rectify(r, ctx):
    out = ctx["work"] / "rectified.tif"
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 32648 and ds.res[0] == pytest.approx(5.0, rel=0.05)
        assert (ds.read(1) > 0).mean() > 0.5


def check_ingest_watch(r, ctx):
    assert re.search(r"archive: 1 record\(s\), (0|1) ingested", r.stdout)
    assert (ctx["data"] / "watch-state.json").exists()


CHECKS: list[tuple[str, Callable[..., None]]] = [
    (r"^\.venv/bin/hpgeo catalog search ", check_catalog_search),
    (r"^\.venv/bin/hpgeo aoi list ", check_aoi_list),
    (r"^\.venv/bin/hpgeo aoi import communes\.gpkg ", check_aoi_import),
    (r"^\.venv/bin/hpgeo registry calendar ", check_registry_calendar),
    (r"^\.venv/bin/hpgeo products build flood-sar ", check_products_build),
    (r"^\.venv/bin/hpgeo products stats ", check_products_stats),
    (r"^\.venv/bin/hpgeo export ", check_export),
    (r"^\.venv/bin/hpgeo ingest stac ", check_ingest_stac),
    (r"^\.venv/bin/hpgeo ingest dhus ", check_ingest_dhus),
    (r"^\.venv/bin/hpgeo ingest odata ", check_ingest_odata),
    (r"^\.venv/bin/hpgeo ingest file ", check_ingest_file),
    (r"^\.venv/bin/hpgeo ingest rectify ", check_ingest_rectify),
    (r"^\.venv/bin/hpgeo ingest watch ", check_ingest_watch),
]


def _check_for(cmd: str) -> Callable[..., None] | None:
    found = [fn for pat, fn in CHECKS if re.match(pat, cmd)]
    return found[0] if len(found) == 1 else None


def test_every_readme_command_has_a_check():
    cmds = readme_commands()
    assert cmds[:2] == list(SETUP), "README must start with exactly `make run` and `make test`"
    assert README.read_text(encoding="utf-8").split("```sh\n", 1)[1].split("```")[0].strip().count("\n") == 1
    missing = [c for c in cmds[2:] if _check_for(c) is None]
    assert missing == []
    assert all(c.startswith(".venv/bin/hpgeo ") for c in cmds[2:]), "README writes the CLI as .venv/bin/hpgeo"


@pytest.mark.parametrize("target", ["run", "test"])
def test_setup_commands_are_make_targets(target):
    r = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert {"run": ".venv/bin/hpgeo serve", "test": "-m pytest"}[target] in r.stdout


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("cmd", readme_commands()[2:])
def test_readme_command(cmd, readme_env):
    r = run(cmd, readme_env)
    check = _check_for(cmd)
    assert check is not None
    check(r, readme_env)


# --- the pystac-client example ---------------------------------------------------------------------------


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def server_8000(demo_settings):
    """The app on http://127.0.0.1:8000 as the README writes it (``make run``); when 8000 is taken (someone
    runs ``make run``), on a free port, with the example's URL pointed there."""
    import uvicorn

    from api.main import create_app

    port = 8000 if _port_free(8000) else None
    if port is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(demo_settings), host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.time() + 20
    while not server.started:
        assert time.time() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    th.join(timeout=10)


def test_readme_pystac_client_example(server_8000):
    code = readme_python()
    assert 'Client.open("http://127.0.0.1:8000/stac")' in code
    ns: dict[str, Any] = {}
    exec(compile(code.replace("http://127.0.0.1:8000", server_8000), "README.md", "exec"), ns)
    items = list(ns["items"])
    assert items and all(i.collection_id == "flood-extent" for i in items)
    assert all(i.datetime is None or i.datetime.strftime("%Y-%m") == "2025-09" for i in items)
    assert all(i.properties.get("hpgeo:simulated") is True for i in items)
