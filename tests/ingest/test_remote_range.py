"""A remote COG whose server ignores HTTP range requests (issue 14): a clear upstream error (HTTP 502), neither a
raw traceback nor a download of the whole file; a server with ranges still reads; a 404 is an upstream error too."""

from __future__ import annotations

import re
from http.server import BaseHTTPRequestHandler

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from base.errors import UpstreamUnavailable
from geo.gdal import RemoteRangeUnsupported, RemoteUnavailable, UnsafeRaster, open_checked
from tests.replay.loopback import Loopback

SIDE = 2048  # an 8 MiB uncompressed COG-like tiled GeoTIFF


@pytest.fixture(scope="module")
def cog(tmp_path_factory):
    p = tmp_path_factory.mktemp("remote") / "scene.tif"
    data = np.random.default_rng(0).integers(0, 60000, (1, SIDE, SIDE)).astype("uint16")
    with rasterio.open(p, "w", driver="GTiff", width=SIDE, height=SIDE, count=1, dtype="uint16", crs="EPSG:32648",
                       transform=from_origin(600000, 2300000, 10, 10), tiled=True, blockxsize=512, blockysize=512) as ds:
        ds.write(data)
    return p, data


class _Server(Loopback):
    def __init__(self, body: bytes, ranges: bool, status: int = 200):
        server = self
        self.sent = 0
        self.requests: list[str | None] = []

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, chunk: bytes) -> None:
                try:
                    for i in range(0, len(chunk), 65536):
                        self.wfile.write(chunk[i : i + 65536])
                        server.sent += min(65536, len(chunk) - i)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_HEAD(self):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                if ranges:
                    self.send_header("Accept-Ranges", "bytes")
                self.end_headers()

            def do_GET(self):
                rng = self.headers.get("Range")
                server.requests.append(rng)
                if status != 200:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng or "") if ranges else None
                if m:
                    a = int(m.group(1))
                    b = min(int(m.group(2)) if m.group(2) else len(body) - 1, len(body) - 1)
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {a}-{b}/{len(body)}")
                    self.send_header("Content-Length", str(b - a + 1))
                    self.end_headers()
                    self._send(body[a : b + 1])
                else:  # the whole file, whatever Range asked for (python -m http.server does this)
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self._send(body)

        self._serve(H)

    def __enter__(self):
        return self


def test_a_server_without_range_support_is_a_clear_upstream_error(cog):
    path, _ = cog
    body = path.read_bytes() + bytes(48 << 20)  # 56 MiB served (trailing bytes: still a valid GeoTIFF)
    with _Server(body, ranges=False) as srv:
        with pytest.raises(RemoteRangeUnsupported, match="does not support HTTP range requests") as e:
            with open_checked(f"/vsicurl/{srv.origin}/scene.tif", allow_remote=True):
                pass
        assert isinstance(e.value, UpstreamUnavailable) and not isinstance(e.value, UnsafeRaster)  # HTTP 502, not 400
        assert srv.requests and all(r and r.startswith("bytes=") for r in srv.requests)  # it asked for ranges only
    # what the kernel's socket buffers took before the client hung up, never the whole file
    assert srv.sent < len(body) // 4, (srv.sent, len(body))


def test_a_server_with_ranges_reads_the_pixels(cog):
    path, data = cog
    with _Server(path.read_bytes(), ranges=True) as srv:
        with open_checked(f"/vsicurl/{srv.origin}/scene.tif", allow_remote=True) as ds:
            win = ds.read(1, window=((1000, 1010), (1500, 1520)))
    assert np.array_equal(win, data[0, 1000:1010, 1500:1520])
    assert srv.sent < len(path.read_bytes()) // 2  # a window, not the file


def test_a_missing_remote_file_is_an_upstream_error(cog):
    path, _ = cog
    with _Server(path.read_bytes(), ranges=True, status=404) as srv:
        with pytest.raises(RemoteUnavailable, match="404"):
            with open_checked(f"/vsicurl/{srv.origin}/gone.tif", allow_remote=True):
                pass


def test_a_remote_file_that_is_not_a_raster_stays_a_400(tmp_path):
    with _Server(b"<html>not a raster</html>" * 100, ranges=True) as srv:
        with pytest.raises(UnsafeRaster, match="not a readable raster"):
            with open_checked(f"/vsicurl/{srv.origin}/page.tif", allow_remote=True):
                pass
