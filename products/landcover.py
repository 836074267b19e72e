"""Land cover from optical reflectance: supervised random forest, unsupervised fallback, change between dates.

Features (fixed): blue, green, red, NIR, SWIR1 and four normalised-difference indices,
NDVI = (NIR−red)/(NIR+red) (Rouse et al. 1974), NDWI = (green−NIR)/(green+NIR) (McFeeters 1996),
MNDWI = (green−SWIR1)/(green+SWIR1) (Xu 2006), NDBI = (SWIR1−NIR)/(SWIR1+NIR) (Zha et al. 2003).
SWIR2 is not used (several archives lack it where the other bands are valid).

Supervised: scikit-learn's random forest with Breiman's (2001) published defaults as scikit-learn
ships them — 100 trees, √(n features) candidates per split, fully grown trees, bootstrap —
and ``random_state=0``. Training pixels come from polygons (vector file; a label field holding hpgeo codes,
legend class names in English or Vietnamese, or any scheme through ``class_mapping``) rasterised on the input
grid (pixel centres inside a polygon).

Unsupervised fallback (no training data; it cannot separate crops in season from trees on one date, and says
so in its diagnostics when a cluster is mapped to tree cover): k-means (k = 12, k-means++, ``random_state=0``) on up to
100,000 valid pixels sampled on a regular stride; each cluster centre gets a class by fixed
spectral rules, in this order: MNDWI > 0 → water (Xu 2006); NDVI ≥ 0.2 and MVI ≥ 4.5 → mangrove
(Baloloy et al. 2020); NDVI ≥ 0.5 → tree cover / dense vegetation; NDVI ≥ 0.2 → cropland /
grassland; NDBI ≥ 0 and red ≥ 0.15 (bright, unvegetated) → bare / sand / mudflat; else built-up.

Change (``landcover-change``): two land-cover maps on one grid → ``from×10 + to`` for changed
pixels, 0 where unchanged, 255 where either date has no data; the from-to matrix (pixels) is
recorded in the item's diagnostics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from pydantic import Field

from geo.grid import georef
from products.errors import InsufficientCoverage, InvalidInputs, InvalidParameters
from products.registry import S2_20M_BANDS, Algorithm, InputSpec, OutputSpec, ProductParams, register

__all__ = [
    "LANDCOVER_CLASSES",
    "CHANGE_CLASSES",
    "FEATURE_NAMES",
    "RF_PARAMS",
    "feature_stack",
    "feature_table",
    "train_random_forest",
    "predict",
    "rasterize_training",
    "training_file",
    "read_training",
    "TRAINING_FORMATS",
    "label_codes",
    "LABEL_ALIASES",
    "kmeans_classes",
    "rule_class",
    "change_classes",
    "LandCover",
    "LandCoverChange",
]

WATER, BUILT, BARE, CROP, TREE, MANGROVE, NODATA = 1, 2, 3, 4, 5, 6, 255
LANDCOVER_CLASSES = {
    WATER: "water",
    BUILT: "built-up",
    BARE: "bare / sand / mudflat",
    CROP: "cropland / grassland",
    TREE: "tree cover / dense vegetation",
    MANGROVE: "mangrove",
    NODATA: "no data",
}
NO_CHANGE = 0
CHANGE_CLASSES = {NO_CHANGE: "no change"} | {
    a * 10 + b: f"{LANDCOVER_CLASSES[a]} → {LANDCOVER_CLASSES[b]}"
    for a in range(1, 7)
    for b in range(1, 7)
    if a != b
} | {NODATA: "no data"}

FEATURE_NAMES = ("blue", "green", "red", "nir", "swir1", "ndvi", "ndwi", "mndwi", "ndbi")
# Breiman (2001) defaults as scikit-learn ships them; fixed seed for reproducible products and tests.
RF_PARAMS: dict[str, Any] = {"n_estimators": 100, "max_features": "sqrt", "min_samples_leaf": 1, "bootstrap": True, "random_state": 0}
S2_ASSETS = {"blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "swir1": "B11"}


def _nd(a: xr.DataArray, b: xr.DataArray) -> xr.DataArray:
    return (a - b) / (a + b)


def feature_stack(blue: xr.DataArray, green: xr.DataArray, red: xr.DataArray, nir: xr.DataArray, swir1: xr.DataArray) -> xr.DataArray:
    """The 9 features (``feature``, y, x) as float32, lazy for dask input; NaN where any band is NaN."""
    bands = [b.astype(np.float32) for b in (blue, green, red, nir, swir1)]
    _, g, r, n, s = bands
    feats = bands + [_nd(n, r), _nd(g, n), _nd(g, s), _nd(s, n)]
    out = xr.concat(feats, dim="feature", coords="minimal", compat="override").assign_coords(feature=list(FEATURE_NAMES))
    if out.chunks is not None:
        out = out.chunk({"feature": -1})
    return out


def feature_table(features: xr.DataArray | np.ndarray) -> np.ndarray:
    """(feature, y, x) → (pixels, feature) float32 rows (computes dask input)."""
    if isinstance(features, xr.DataArray):
        from products.compute import compute_by_chunk_rows

        features = compute_by_chunk_rows(features.data, axis=1)  # (feature, y, x): one row of chunks at a time
    arr = np.asarray(features, dtype=np.float32)
    return arr.reshape(arr.shape[0], -1).T


def train_random_forest(X: np.ndarray, y: np.ndarray, **overrides: Any) -> Any:
    """Fit a random forest with :data:`RF_PARAMS` on finite rows of ``X`` (pixels × features)."""
    from sklearn.ensemble import RandomForestClassifier

    ok = np.all(np.isfinite(X), axis=1)
    if ok.sum() < 2 or len(np.unique(y[ok])) < 2:
        raise InsufficientCoverage(f"training needs valid pixels of at least two classes (have {int(ok.sum())} pixels)")
    return RandomForestClassifier(**(RF_PARAMS | overrides), n_jobs=1).fit(X[ok], y[ok])


PREDICT_ROWS = 1 << 18  # pixels per classifier call: bounds the (pixels × clusters/trees) temporaries per chunk


def _predict_block(block: np.ndarray, model: Any) -> np.ndarray:
    nf, ny, nx = block.shape
    rows = block.reshape(nf, -1).T
    out = np.full(rows.shape[0], NODATA, np.uint8)
    for r0 in range(0, rows.shape[0], PREDICT_ROWS):
        part = rows[r0 : r0 + PREDICT_ROWS]
        ok = np.all(np.isfinite(part), axis=1)
        if ok.any():
            o = out[r0 : r0 + PREDICT_ROWS]
            o[ok] = np.asarray(model.predict(part[ok])).astype(np.uint8)
    return out.reshape(ny, nx)


def predict(model: Any, features: xr.DataArray) -> xr.DataArray:
    """Apply a fitted classifier pixel by pixel (chunk by chunk for dask input); 255 where a feature is NaN.

    ``model`` is anything with ``predict(rows) -> labels`` (a random forest, a nearest-centre model).
    """
    data = features.data
    if hasattr(data, "map_blocks"):
        out = data.map_blocks(_predict_block, model=model, drop_axis=0, dtype=np.uint8)
    else:
        out = _predict_block(np.asarray(data), model)
    return georef(xr.DataArray(out, dims=("y", "x"), coords={"y": features.y, "x": features.x}), features)


def georef(out: xr.DataArray, like: xr.DataArray) -> xr.DataArray:
    if like.rio.crs is None:
        return out
    return out.rio.write_crs(like.rio.crs).rio.write_transform(like.rio.transform())


#: labels that name a legend class (lower case; English and Vietnamese), for text-labelled training polygons
LABEL_ALIASES: dict[str, int] = {
    **{k: WATER for k in ("water", "open water", "river", "sea", "pond", "aquaculture", "nước", "mặt nước", "sông", "ao", "nuôi trồng thủy sản")},
    **{k: BUILT for k in ("built-up", "built up", "built", "urban", "settlement", "đô thị", "xây dựng", "dân cư", "khu dân cư")},
    **{k: BARE for k in ("bare", "bare / sand / mudflat", "sand", "mudflat", "bare soil", "đất trống", "cát", "bãi bồi", "bãi cát")},
    **{k: CROP for k in ("cropland", "cropland / grassland", "crop", "grassland", "paddy", "rice", "agriculture",
                         "lúa", "đất lúa", "nông nghiệp", "cỏ", "đồng cỏ")},
    **{k: TREE for k in ("tree", "trees", "tree cover", "tree cover / dense vegetation", "forest", "dense vegetation",
                         "rừng", "cây", "cây xanh", "rừng trồng")},
    **{k: MANGROVE for k in ("mangrove", "mangroves", "rừng ngập mặn", "ngập mặn")},
}
IGNORE = 0  # a mapping target: polygons of that label are not used for training


def _legend_code(target: Any, label: str) -> int:
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        code = int(target)
    elif isinstance(target, str) and target.strip().lstrip("-").isdigit():
        code = int(target)
    elif isinstance(target, str) and target.strip().lower() in ("ignore", ""):
        code = IGNORE
    elif isinstance(target, str) and target.strip().lower() in LABEL_ALIASES:
        code = LABEL_ALIASES[target.strip().lower()]
    else:
        raise InvalidParameters(f"class_mapping: {label!r} → {target!r} is not a land-cover code (1–6), class name or 'ignore'")
    if code != IGNORE and code not in set(LANDCOVER_CLASSES) - {NODATA}:
        raise InvalidParameters(f"class_mapping: {label!r} → {code} is not an hpgeo land-cover code {sorted(set(LANDCOVER_CLASSES) - {NODATA})}")
    return code


def label_codes(values: Sequence[Any], class_mapping: Mapping[str, Any] | None = None) -> tuple[np.ndarray, dict[str, int]]:
    """hpgeo codes of training labels, and the mapping used ({label: code}, 0 = ignored).

    With ``class_mapping`` ({label: code, legend name or 'ignore'}; labels compared as text, so ``"11"`` maps
    the integer 11 of another scheme) every label must be in it. Without it, integer labels must be hpgeo codes
    (1–6) and text labels legend names or aliases (:data:`LABEL_ALIASES`, English or Vietnamese); anything else
    is refused with the list of unknown labels, never guessed."""
    def key(v: Any) -> str:
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)
        return str(v).strip()

    labels = [key(v) for v in values]
    used: dict[str, int] = {}
    if class_mapping is not None:
        table = {key(k): _legend_code(t, key(k)) for k, t in class_mapping.items()}
        unknown = sorted(set(labels) - set(table))
        if unknown:
            raise InvalidParameters(f"training labels {unknown[:20]} are not in class_mapping (it maps {sorted(table)[:20]})")
        used = {lab: table[lab] for lab in sorted(set(labels))}
    else:
        unknown = []
        for lab in sorted(set(labels)):
            if lab.lstrip("-").isdigit():
                code = int(lab)
                if code not in set(LANDCOVER_CLASSES) - {NODATA}:
                    unknown.append(lab)
                    continue
            elif lab.lower() in LABEL_ALIASES:
                code = LABEL_ALIASES[lab.lower()]
            else:
                unknown.append(lab)
                continue
            used[lab] = code
        if unknown:
            raise InvalidParameters(
                f"training labels {unknown[:20]} are neither hpgeo land-cover codes {sorted(set(LANDCOVER_CLASSES) - {NODATA})} "
                "nor legend class names; give class_mapping {label: code or class name}")
    return np.array([used[lab] for lab in labels], dtype=np.int64), used


def rasterize_training(polygons: Any, class_field: str, like: xr.DataArray, class_mapping: Mapping[str, Any] | None = None) -> np.ndarray:
    """Rasterise training polygons (GeoDataFrame) onto ``like``'s grid → uint8 labels (0 = unlabelled).

    The label field may hold hpgeo codes, legend names (any case, English or Vietnamese) or any scheme with
    ``class_mapping`` (:func:`label_codes`); polygons with an empty label or mapped to ``ignore`` are left out."""
    from rasterio import features as rfeatures

    if class_field not in polygons.columns:
        raise InvalidParameters(f"training polygons have no field {class_field!r} (have: {', '.join(map(str, polygons.columns))})")
    if polygons.crs is None:
        raise InvalidParameters("training polygons have no CRS")
    gdf = polygons.to_crs(like.rio.crs)
    gdf = gdf[gdf[class_field].notna()]
    values, _ = label_codes(list(gdf[class_field]), class_mapping)
    shapes = [(g, int(v)) for g, v in zip(gdf.geometry, values) if g is not None and not g.is_empty and v != IGNORE]
    if not shapes:
        raise InvalidParameters("no training polygon is left after the class mapping (all empty or ignored)")
    return rfeatures.rasterize(shapes, out_shape=like.shape[-2:], transform=like.rio.transform(), fill=0, dtype="uint8")


def _training_rows(features: xr.DataArray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows of the labelled pixels, reading only the labelled windows (bounded memory)."""
    rows, cls = np.nonzero(labels)
    if rows.size == 0:
        raise InsufficientCoverage("the training polygons cover no pixel of the scene")
    X, y = [], []
    step = 1024
    for r0 in range(int(rows.min()), int(rows.max()) + 1, step):
        sel = (rows >= r0) & (rows < r0 + step)
        if not sel.any():
            continue
        c0, c1 = int(cls[sel].min()), int(cls[sel].max()) + 1
        win = np.asarray(features.isel(y=slice(r0, r0 + step), x=slice(c0, c1)).values)
        X.append(win[:, rows[sel] - r0, cls[sel] - c0].T)
        y.append(labels[rows[sel], cls[sel]])
    return np.concatenate(X).astype(np.float32), np.concatenate(y)


class _NearestCentre:
    """k-means prediction with a cluster → class lookup (picklable, numpy only)."""

    def __init__(self, centres: np.ndarray, scale: np.ndarray, classes: np.ndarray):
        self.centres, self.scale, self.classes = centres, scale, classes

    def predict(self, rows: np.ndarray) -> np.ndarray:
        z = rows / self.scale
        # squared distances without a (pixels × clusters × features) temporary: |z|² − 2 z·c + |c|²
        d = (self.centres**2).sum(axis=1)[None, :] - 2.0 * (z @ self.centres.T)
        return self.classes[np.argmin(d, axis=1)]


def rule_class(centre: Mapping[str, float], mvi_min: float = 4.5) -> int:
    """hpgeo class of a cluster centre (reflectance features by name) by the documented spectral rules."""
    g, n, s = centre["green"], centre["nir"], centre["swir1"]
    mvi = (n - g) / (s - g) if s - g > 0 else -np.inf
    if centre["mndwi"] > 0:
        return WATER
    if centre["ndvi"] >= 0.2 and mvi >= mvi_min:
        return MANGROVE
    if centre["ndvi"] >= 0.5:
        return TREE
    if centre["ndvi"] >= 0.2:
        return CROP
    if centre["ndbi"] >= 0 and centre["red"] >= 0.15:
        return BARE
    return BUILT


def kmeans_classes(features: xr.DataArray, n_clusters: int = 12, sample_size: int = 100_000, random_state: int = 0) -> tuple[xr.DataArray, list[dict[str, Any]]]:
    """Unsupervised fallback: k-means on a strided sample, clusters → classes by :func:`rule_class`.

    Returns the class map (lazy for dask input) and the clusters (centre features, class, share of the sample).
    """
    from sklearn.cluster import KMeans

    ny, nx = features.shape[-2:]
    stride = max(1, int(np.ceil(np.sqrt(ny * nx / sample_size))))
    sample = feature_table(features.isel(y=slice(0, None, stride), x=slice(0, None, stride)))
    sample = sample[np.all(np.isfinite(sample), axis=1)]
    if len(sample) < n_clusters * 10:
        raise InsufficientCoverage(f"only {len(sample)} valid sample pixels for {n_clusters} clusters")
    scale = np.maximum(sample.std(axis=0), 1e-6).astype(np.float32)
    km = KMeans(n_clusters=n_clusters, n_init=10, random_state=random_state).fit(sample / scale)
    centres = km.cluster_centers_.astype(np.float32)
    named = [dict(zip(FEATURE_NAMES, (c * scale).tolist())) for c in centres]
    classes = np.array([rule_class(c) for c in named], np.uint8)
    share = np.bincount(km.labels_, minlength=n_clusters) / len(sample)
    clusters = [{"class": int(k), "share": round(float(f), 4), **{n: round(v, 4) for n, v in c.items()}} for c, k, f in zip(named, classes, share)]
    return predict(_NearestCentre(centres, scale, classes), features), clusters


def change_classes(before: xr.DataArray, after: xr.DataArray) -> tuple[xr.DataArray, dict[str, dict[str, int]]]:
    """From-to change codes (``from×10+to``, 0 unchanged, 255 no data) and the from-to matrix in pixels."""
    import dask.array as da

    b, a = before.astype(np.uint8), after.astype(np.uint8)
    valid = (b != NODATA) & (a != NODATA) & (b > 0) & (a > 0)
    code = xr.where(b == a, NO_CHANGE, b.astype(np.uint16) * 10 + a)
    out = xr.where(valid, code, NODATA).astype(np.uint8)
    pair = (b.astype(np.int32) * 256 + a).where(valid, -1).data
    if hasattr(pair, "dask"):
        counts = da.bincount(pair.ravel() + 1, minlength=256 * 256 + 1).compute()
    else:
        counts = np.bincount(np.asarray(pair).ravel() + 1, minlength=256 * 256 + 1)
    matrix: dict[str, dict[str, int]] = {}
    for idx in np.nonzero(counts[1:])[0]:
        f, t = divmod(int(idx), 256)
        matrix.setdefault(LANDCOVER_CLASSES.get(f, str(f)), {})[LANDCOVER_CLASSES.get(t, str(t))] = int(counts[idx + 1])
    return georef(out, before), matrix


#: accepted training files: suffix → (the OGR driver that must open it, the file's first bytes; None = text JSON)
TRAINING_FORMATS: dict[str, tuple[str, bytes | None]] = {
    ".geojson": ("GeoJSON", None),
    ".json": ("GeoJSON", None),
    ".gpkg": ("GPKG", b"SQLite format 3\x00"),
    ".shp": ("ESRI Shapefile", b"\x00\x00\x27\x0a"),
}
MAX_TRAINING_BYTES = 256 << 20  # 256 MiB of polygons is far beyond any hand-drawn training set


def training_file(training: str, data_dir: str | Path) -> Path:
    """The training file ``training`` names, resolved inside ``data_dir`` (relative to it, or absolute inside it).

    Refused (:class:`~base.paths.UnsafePath`, HTTP 400 / exit code 2) unless it is a regular file inside the data
    directory after symbolic links are followed (no ``..`` escape, no absolute path elsewhere, no GDAL virtual path
    ``/vsi…``, no URL); refused (:class:`InvalidParameters`) unless it is a GeoJSON, GeoPackage or Shapefile by both
    its suffix and its first bytes, at most :data:`MAX_TRAINING_BYTES`. Nothing is opened with GDAL here.
    """
    from base.paths import confine

    path = confine(training, data_dir)
    return _check_training_format(path, training)


def _check_training_format(path: Path, shown: str) -> Path:
    from base.paths import UnsafePath

    if str(path).startswith("/vsi") or "://" in str(path):
        raise UnsafePath(f"training: not a local file: {shown[:120]!r}")
    if not path.is_file():
        raise InvalidParameters(f"training file {shown[:120]!r} does not exist (or is not a regular file) in the data directory")
    fmt = TRAINING_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidParameters(f"training file {shown[:120]!r}: not a vector format accepted for training "
                                f"({', '.join(sorted(TRAINING_FORMATS))})")
    size = path.stat().st_size
    if size > MAX_TRAINING_BYTES:
        raise InvalidParameters(f"training file {shown[:120]!r}: {size / 2**20:,.1f} MiB is over the {MAX_TRAINING_BYTES >> 20} MiB limit")
    with path.open("rb") as f:
        head = f.read(64)
    magic = fmt[1]
    ok = head.startswith(magic) if magic is not None else head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")
    if not ok:
        raise InvalidParameters(f"training file {shown[:120]!r} is not a {fmt[0]} file (its content does not match its suffix)")
    return path


def read_training(path: Path) -> Any:
    """The polygons of a training file :func:`training_file` accepted, as a GeoDataFrame; the driver GDAL used must
    be the one its suffix names (a VRT or another indirection under a vector's name is refused)."""
    import pyogrio

    want = TRAINING_FORMATS[path.suffix.lower()][0]
    try:
        with _vector_env():
            got = pyogrio.read_info(path).get("driver")
            if got != want:
                raise InvalidParameters(f"training file {path.name!r}: GDAL read it as {got!r}, not {want!r}")
            return pyogrio.read_dataframe(path)
    except InvalidParameters:
        raise
    except Exception as exc:  # pyogrio's DataSourceError, DataLayerError...
        raise InvalidParameters(f"training file {path.name!r} cannot be read as {want} ({exc.__class__.__name__}: {exc})") from exc


def _vector_env() -> Any:
    import rasterio

    from geo.gdal import SAFE_ENV

    return rasterio.Env(**SAFE_ENV)


class LandCoverParams(ProductParams):
    training: str | None = Field(None, min_length=1, max_length=4096, description="Training polygons: a GeoJSON, GeoPackage or Shapefile inside the data directory (a path relative to it); none = unsupervised k-means fallback.")
    class_field: str = Field("class", min_length=1, max_length=64, description="Field of the training polygons holding the label: an hpgeo land-cover code (1–6), a legend class name (English or Vietnamese), or any label with class_mapping.")
    class_mapping: dict[str, int | str] | None = Field(None, description="Labels of the training polygons → hpgeo land-cover code (1–6), legend class name or 'ignore' (e.g. {\"Lúa\": 4, \"11\": \"water\"}); every label must be mapped.")
    n_clusters: int = Field(12, ge=2, le=64, description="k of the k-means fallback.")
    sample_size: int = Field(100_000, ge=1000, le=5_000_000, description="Pixels sampled (regular stride) to fit k-means.")


@register
class LandCover(Algorithm):
    name = "landcover"
    version = "1.0.0"
    title = "Land cover (random forest, k-means fallback)"
    title_vi = "Lớp phủ mặt đất (rừng ngẫu nhiên, dự phòng k-means)"
    description = __doc__ or ""
    collection = "land-cover"
    inputs = (InputSpec("scene", ("sentinel-2-l2a",), tuple(S2_ASSETS.values()), "Surface reflectance (0–1)", resample=S2_20M_BANDS),)
    outputs = (OutputSpec("landcover", "uint8", "Land-cover classes", nodata=NODATA, classes=LANDCOVER_CLASSES, colormap="landcover"),)
    Params = LandCoverParams
    references = (
        "Breiman, L. (2001) Random forests. Machine Learning 45.",
        "Xu, H. (2006) Modification of normalised difference water index (MNDWI). IJRS 27(14).",
        "Zha, Y., Gao, J., Ni, S. (2003) Use of normalized difference built-up index. IJRS 24(3).",
        "Baloloy, A. B. et al. (2020) Development and application of a new mangrove vegetation index (MVI). ISPRS J. 166.",
    )

    def run(self, inputs: Mapping[str, Mapping[str, Any]], params: Any) -> dict[str, Any]:
        scene = inputs["scene"]
        missing = [a for a in S2_ASSETS.values() if a not in scene]
        if missing:
            raise InvalidInputs(f"landcover: the scene lacks {', '.join(missing)}")
        feats = feature_stack(*(scene[S2_ASSETS[k]] for k in ("blue", "green", "red", "nir", "swir1")))
        if params.training:
            # the build engine confines the path to the data directory (extra_inputs); a direct call with a local
            # path still gets the format checks and the driver check
            polys = (inputs.get("training") or {}).get("polygons")
            if polys is None:
                polys = read_training(_check_training_format(Path(params.training), params.training))
            labels = rasterize_training(polys, params.class_field, feats, params.class_mapping)
            _, mapping = label_codes(list(polys[params.class_field].dropna()), params.class_mapping)
            X, y = _training_rows(feats, labels)
            model = train_random_forest(X, y)
            out = predict(model, feats)
            out.attrs["hpgeo:diagnostics"] = {"method": "random forest", "training_pixels": int(len(y)),
                                              "training_classes": sorted(int(v) for v in np.unique(y)), "class_mapping": mapping}
        else:
            out, clusters = kmeans_classes(feats, params.n_clusters, params.sample_size)
            diag: dict[str, Any] = {"method": "k-means + spectral rules", "clusters": clusters}
            if any(c["class"] == TREE for c in clusters):
                import warnings

                from base.errors import HpgeoWarning

                msg = (f"the k-means fallback cannot tell crops in season (paddy at peak growth, NDVI ≥ 0.5) from trees on one "
                       f"date: class {TREE} '{LANDCOVER_CLASSES[TREE]}' may hold cropland, and cropland may be under-counted; "
                       "give training polygons (training=) to separate them")
                diag["warnings"] = [msg]
                warnings.warn(msg, HpgeoWarning, stacklevel=2)
            out.attrs["hpgeo:diagnostics"] = diag
        return {"landcover": out}

    # -- hooks of the build engine: the training path is confined before anything is read or built --
    def extra_provenance(self, params: Any, data_dir: Path) -> dict[str, Any]:
        """The training file's SHA-256 (None without one): a changed training set gives another item."""
        if not params.training:
            return {}
        import hashlib

        return {"training_sha256": hashlib.sha256(training_file(params.training, data_dir).read_bytes()).hexdigest()}

    def extra_inputs(self, params: Any, data_dir: Path) -> dict[str, Mapping[str, Any]]:
        if not params.training:
            return {}
        return {"training": {"polygons": read_training(training_file(params.training, data_dir))}}


@register
class LandCoverChange(Algorithm):
    name = "landcover-change"
    version = "1.0.0"
    title = "Land-cover change between two dates"
    title_vi = "Biến động lớp phủ mặt đất giữa hai thời điểm"
    description = "From-to change of two land-cover maps: from×10+to where the class changed, 0 unchanged.\n\n" + (__doc__ or "")
    collection = "land-cover-change"
    inputs = (
        InputSpec("after", ("land-cover",), ("landcover",), "Land cover at the later date"),
        InputSpec("before", ("land-cover",), ("landcover",), "Land cover at the earlier date"),
    )
    outputs = (OutputSpec("change", "uint8", "Land-cover change (from×10+to)", nodata=NODATA, classes=CHANGE_CLASSES, colormap="landcover-change"),)

    class Params(ProductParams):
        pass

    def run(self, inputs: Mapping[str, Mapping[str, Any]], params: Any) -> dict[str, Any]:
        out, matrix = change_classes(inputs["before"]["landcover"], inputs["after"]["landcover"])
        out.attrs["hpgeo:diagnostics"] = {"from_to_pixels": matrix}
        return {"change": out}
