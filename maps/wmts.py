"""OGC WMTS 1.0.0 (OGC 07-057r7): GetCapabilities documents and KVP request parsing, for the WebMercatorQuad
tile matrix set (EPSG:3857, the OGC GoogleMapsCompatible well-known scale set) that the XYZ tiles use.

Pure functions: the API gives the layers (identifier, title, WGS 84 bounds, zoom range) and the URLs; nothing
here reads a file or knows the web framework. Tiles are served both RESTful (``ResourceURL`` templates
``…/{TileMatrix}/{TileCol}/{TileRow}.png``) and KVP (``?SERVICE=WMTS&REQUEST=GetTile&…``).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Mapping, Sequence
from urllib.parse import quote

import morecantile

from base.errors import InvalidRequest

__all__ = [
    "WmtsLayer", "WmtsRequest", "InvalidWmtsRequest", "capabilities_xml", "parse_kvp", "TILE_MATRIX_SET",
    "FORMAT_EXT", "tile_limits", "wmts_url",
]

TILE_MATRIX_SET = "WebMercatorQuad"
_TMS = morecantile.tms.get(TILE_MATRIX_SET)
# WMTS Format (media type) -> URL extension of the tile routes
FORMAT_EXT = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpg"}

NS = {
    "": "http://www.opengis.net/wmts/1.0",
    "ows": "http://www.opengis.net/ows/1.1",
    "xlink": "http://www.w3.org/1999/xlink",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
for _p, _u in NS.items():
    ET.register_namespace(_p, _u)

KVP_KEYS = frozenset({
    "service", "request", "version", "acceptversions", "sections", "updatesequence", "acceptformats",
    "layer", "style", "format", "tilematrixset", "tilematrix", "tilerow", "tilecol",
})


class InvalidWmtsRequest(InvalidRequest):
    """A WMTS KVP request that is not GetCapabilities/GetTile of this service, or has wrong parameters."""


@dataclass(frozen=True)
class WmtsLayer:
    identifier: str
    title: str
    bounds: tuple[float, float, float, float]  # WGS 84 w, s, e, n
    minzoom: int
    maxzoom: int
    template: str  # RESTful tile URL with {TileMatrix} {TileCol} {TileRow}, ending in .png
    abstract: str = ""
    legend_url: str | None = None


@dataclass(frozen=True)
class WmtsRequest:
    request: str  # "GetCapabilities" | "GetTile"
    layer: str | None = None
    format: str = "image/png"
    z: int = 0
    x: int = 0
    y: int = 0


def wmts_url(base: str, cid: str, iid: str | None = None, kvp: bool = False) -> str:
    """WMTS 1.0.0 of a collection or an item under ``base``: the RESTful capabilities document, or the KVP
    endpoint (ending in ``?``)."""
    u = f"{base}/tiles/{quote(cid, safe='')}" + (f"/{quote(iid, safe='')}" if iid is not None else "")
    return f"{u}/wmts?" if kvp else f"{u}/WMTSCapabilities.xml"


def _q(tag: str) -> str:
    prefix, _, local = tag.rpartition(":")
    return f"{{{NS[prefix]}}}{local}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, _q(tag), {(_q(k.replace("__", ":")) if "__" in k else k): v for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def _num(v: float) -> str:
    return repr(float(v))


def tile_limits(bounds: Sequence[float], z: int) -> tuple[int, int, int, int]:
    """(min row, max row, min col, max col) of the WebMercatorQuad tiles at zoom ``z`` covering ``bounds``."""
    w, s, e, n = bounds
    lat_max = 85.0511287798066
    s, n = max(s, -lat_max), min(n, lat_max)
    eps = 1e-9
    ul = _TMS.tile(w + eps, n - eps, z)
    lr = _TMS.tile(e - eps, s + eps, z)
    return ul.y, lr.y, ul.x, lr.x


def _operation(parent: ET.Element, name: str, kvp_url: str) -> None:
    op = _sub(parent, "ows:Operation", name=name)
    get = _sub(_sub(_sub(op, "ows:DCP"), "ows:HTTP"), "ows:Get", xlink__href=kvp_url)
    _sub(_sub(_sub(get, "ows:Constraint", name="GetEncoding"), "ows:AllowedValues"), "ows:Value", "KVP")


def capabilities_xml(layers: Sequence[WmtsLayer], kvp_url: str, rest_url: str, title: str, abstract: str = "") -> bytes:
    """The GetCapabilities document (UTF-8 XML). ``kvp_url`` ends with ``?``; ``rest_url`` is this document's URL."""
    if not layers:
        raise InvalidWmtsRequest("no raster layer to offer")
    root = ET.Element(_q("Capabilities"), {"version": "1.0.0", _q("xsi:schemaLocation"):
                      "http://www.opengis.net/wmts/1.0 http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd"})
    si = _sub(root, "ows:ServiceIdentification")
    _sub(si, "ows:Title", title)
    if abstract:
        _sub(si, "ows:Abstract", abstract)
    _sub(si, "ows:ServiceType", "OGC WMTS")
    _sub(si, "ows:ServiceTypeVersion", "1.0.0")
    sp = _sub(root, "ows:ServiceProvider")
    _sub(sp, "ows:ProviderName", "hpgeo — Sở Nông nghiệp và Môi trường Hải Phòng")
    om = _sub(root, "ows:OperationsMetadata")
    _operation(om, "GetCapabilities", kvp_url)
    _operation(om, "GetTile", kvp_url)
    contents = _sub(root, "Contents")
    maxz = max(l.maxzoom for l in layers)
    for l in layers:
        el = _sub(contents, "Layer")
        _sub(el, "ows:Title", l.title)
        if l.abstract:
            _sub(el, "ows:Abstract", l.abstract)
        bb = _sub(el, "ows:WGS84BoundingBox")
        w, s, e, n = l.bounds
        _sub(bb, "ows:LowerCorner", f"{_num(w)} {_num(s)}")
        _sub(bb, "ows:UpperCorner", f"{_num(e)} {_num(n)}")
        _sub(el, "ows:Identifier", l.identifier)
        st = _sub(el, "Style", isDefault="true")
        _sub(st, "ows:Identifier", "default")
        if l.legend_url:
            _sub(st, "LegendURL", format="image/png", xlink__href=l.legend_url)
        for f in FORMAT_EXT:
            _sub(el, "Format", f)
        link = _sub(el, "TileMatrixSetLink")
        _sub(link, "TileMatrixSet", TILE_MATRIX_SET)
        limits = _sub(link, "TileMatrixSetLimits")
        for z in range(0, l.maxzoom + 1):
            r0, r1, c0, c1 = tile_limits(l.bounds, z)
            tl = _sub(limits, "TileMatrixLimits")
            _sub(tl, "TileMatrix", str(z))
            _sub(tl, "MinTileRow", str(r0))
            _sub(tl, "MaxTileRow", str(r1))
            _sub(tl, "MinTileCol", str(c0))
            _sub(tl, "MaxTileCol", str(c1))
        base = l.template[: -len(".png")] if l.template.endswith(".png") else l.template
        for f, ext in FORMAT_EXT.items():
            _sub(el, "ResourceURL", format=f, resourceType="tile", template=f"{base}.{ext}")
    tms = _sub(contents, "TileMatrixSet")
    _sub(tms, "ows:Identifier", TILE_MATRIX_SET)
    _sub(tms, "ows:SupportedCRS", "urn:ogc:def:crs:EPSG::3857")
    _sub(tms, "WellKnownScaleSet", "urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible")
    for z in range(0, maxz + 1):
        m = _TMS.matrix(z)
        tm = _sub(tms, "TileMatrix")
        _sub(tm, "ows:Identifier", str(z))
        _sub(tm, "ScaleDenominator", _num(m.scaleDenominator))
        x0, y0 = m.pointOfOrigin
        _sub(tm, "TopLeftCorner", f"{_num(x0)} {_num(y0)}")
        _sub(tm, "TileWidth", str(m.tileWidth))
        _sub(tm, "TileHeight", str(m.tileHeight))
        _sub(tm, "MatrixWidth", str(m.matrixWidth))
        _sub(tm, "MatrixHeight", str(m.matrixHeight))
    _sub(root, "ServiceMetadataURL", xlink__href=rest_url)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _int(params: Mapping[str, str], key: str, lo: int, hi: int) -> int:
    v = params.get(key)
    if v is None:
        raise InvalidWmtsRequest(f"GetTile needs {key.upper()}")
    try:
        n = int(v)
    except ValueError:
        raise InvalidWmtsRequest(f"{key.upper()} must be an integer, got {v[:20]!r}") from None
    if not lo <= n <= hi:
        raise InvalidWmtsRequest(f"{key.upper()} {n} is outside {lo}..{hi}")
    return n


def parse_kvp(query: Sequence[tuple[str, str]], max_zoom: int) -> WmtsRequest:
    """A WMTS KVP request (parameter names case-insensitive, as OGC 06-121r9 says); unknown or repeated
    parameters, another service/version/tile matrix set or an unknown format are refused."""
    params: dict[str, str] = {}
    for k, v in query:
        key = k.lower()
        if key not in KVP_KEYS:
            raise InvalidWmtsRequest(f"unknown WMTS parameter {k[:40]!r}; accepted: {', '.join(sorted(k.upper() for k in KVP_KEYS))}")
        if key in params:
            raise InvalidWmtsRequest(f"parameter {k[:40]!r} is given twice")
        params[key] = v
    if params.get("service", "").upper() != "WMTS":
        raise InvalidWmtsRequest("SERVICE=WMTS is required")
    req = params.get("request", "")
    if req.lower() == "getcapabilities":
        av = params.get("acceptversions")
        if av and "1.0.0" not in av.split(","):
            raise InvalidWmtsRequest(f"only WMTS version 1.0.0 is offered (ACCEPTVERSIONS={av[:40]!r})")
        return WmtsRequest("GetCapabilities")
    if req.lower() != "gettile":
        raise InvalidWmtsRequest("REQUEST must be GetCapabilities or GetTile")
    if params.get("version", "1.0.0") != "1.0.0":
        raise InvalidWmtsRequest("VERSION must be 1.0.0")
    if not params.get("layer"):
        raise InvalidWmtsRequest("GetTile needs LAYER")
    if params.get("style", "default") not in ("default", ""):
        raise InvalidWmtsRequest("STYLE must be 'default'")
    fmt = params.get("format", "image/png")
    if fmt not in FORMAT_EXT:
        raise InvalidWmtsRequest(f"FORMAT must be one of {', '.join(FORMAT_EXT)}")
    if params.get("tilematrixset", TILE_MATRIX_SET) != TILE_MATRIX_SET:
        raise InvalidWmtsRequest(f"TILEMATRIXSET must be {TILE_MATRIX_SET}")
    z = _int(params, "tilematrix", 0, max_zoom)
    n = 2**z - 1
    return WmtsRequest("GetTile", params["layer"], fmt, z, _int(params, "tilecol", 0, n), _int(params, "tilerow", 0, n))
