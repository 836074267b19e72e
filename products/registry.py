"""The product registry: algorithms that declare their inputs, outputs, parameters, units and version.

An algorithm is a class with class-level metadata and a ``run`` method working on xarray (lazy,
dask-backed where the inputs are). :func:`register` adds it; the registry is read-only afterwards
and the API derives its choices from :func:`names`. The built-in algorithms are the modules named in
:data:`BUILTIN_MODULES` (importing one registers its algorithms).

Parameters are a pydantic model deriving from :class:`ProductParams` (unknown keys refused); an input
role may be a dated *series* (``InputSpec(series=True, min_items=2)``), stacked along ``time``. An
algorithm contributes what the generic engine (:mod:`products.build`) cannot know through declared
hooks: :meth:`Algorithm.input_assets`, :meth:`Algorithm.extra_inputs`, :meth:`Algorithm.extra_provenance`,
:meth:`Algorithm.write_extra_assets` (with :attr:`Algorithm.extra_assets`) and :meth:`Algorithm.statistics`.
"""

from __future__ import annotations

import importlib
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Mapping

from pydantic import BaseModel, ConfigDict, ValidationError

from products.errors import InvalidParameters, UnknownProduct

__all__ = ["InputSpec", "OutputSpec", "ExtraAsset", "ProductParams", "Algorithm", "register", "get", "names", "algorithms", "BUILTIN_MODULES", "SERIES_KEY", "S2_20M_BANDS"]

# the modules of the built-in algorithms (importing one registers its algorithms)
BUILTIN_MODULES: tuple[str, ...] = (
    "products.flood",
    "products.shoreline",
    "products.optical",
    "products.ensemble",
    "products.landcover",
    "products.mangrove",
    "products.burn",
    "products.oil",
    "products.turbidity",
)

# Sentinel-2 L2A bands delivered at 20 m: an algorithm reading them with 10 m bands declares them in
# InputSpec.resample, and they are warped onto the item's 10 m grid (bilinear; SCL nearest)
S2_20M_BANDS: tuple[str, ...] = ("B05", "B06", "B07", "B8A", "B11", "B12", "SCL")

# the members of a series input are recorded in the provenance as t00, t01, … in date order
SERIES_KEY = re.compile(r"^t\d{2,}$")


class ProductParams(BaseModel):
    """Base of every algorithm's parameter model: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class InputSpec:
    """One input role: which collections may fill it and which assets the algorithm reads."""

    role: str
    collections: tuple[str, ...]
    assets: tuple[str, ...]
    description: str = ""
    optional: bool = False
    series: bool = False  # a dated series of items (stacked along ``time``), not one item
    min_items: int = 1  # fewest distinct items of a series
    resample: tuple[str, ...] = ()  # assets read at a coarser resolution and warped onto the item's grid (e.g. S2 20 m bands)
    #: (asset, eo:common_name) pairs: an item of any other collection fills this input when its assets carry these
    #: band roles (Landsat, VNREDSat-1, a local 4-band GeoTIFF with roles); they are read as the named assets
    roles: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ExtraAsset:
    """A non-raster asset an algorithm writes itself (:meth:`Algorithm.write_extra_assets`)."""

    key: str
    filename: str
    media_type: str
    title: str


@dataclass(frozen=True)
class OutputSpec:
    """One output asset: a COG with a dtype, nodata, unit and (for class maps) its classes."""

    asset: str
    dtype: str
    description: str
    nodata: float | int | None = None
    unit: str | None = None
    classes: Mapping[int, str] = field(default_factory=dict)  # value -> name (classification extension)
    colormap: str | None = None  # name in maps.colormaps
    rescale: tuple[float, float] | None = None  # default display range for continuous outputs

    @property
    def categorical(self) -> bool:
        return bool(self.classes)


class Algorithm(ABC):
    """Base class of product algorithms."""

    name: ClassVar[str]
    version: ClassVar[str]
    title: ClassVar[str]
    title_vi: ClassVar[str]
    description: ClassVar[str]
    collection: ClassVar[str]  # output collection id
    inputs: ClassVar[tuple[InputSpec, ...]]
    outputs: ClassVar[tuple[OutputSpec, ...]]
    Params: ClassVar[type[BaseModel]]
    references: ClassVar[tuple[str, ...]] = ()
    extra_assets: ClassVar[tuple[ExtraAsset, ...]] = ()  # written by write_extra_assets

    def parse_params(self, params: Mapping[str, Any] | None) -> BaseModel:
        if params is not None and not isinstance(params, Mapping):
            raise InvalidParameters(f"{self.name}: parameters must be an object of KEY: VALUE, not {type(params).__name__}")
        try:
            return self.Params(**dict(params or {}))
        except ValidationError as exc:
            msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise InvalidParameters(f"{self.name}: {msgs}") from exc

    # -- hooks of the build engine (products.build); the defaults fit single-scene raster products --
    def required_roles(self, spec: InputSpec, params: Any) -> tuple[str, ...]:
        """The band roles (``eo:common_name``) an item bound by role must have for this run (default: all of ``spec.roles``)."""
        return tuple(r for _, r in spec.roles)

    def input_assets(self, spec: InputSpec, params: Any) -> tuple[str, ...]:
        """The assets of input ``spec`` this run reads (default: all declared)."""
        return spec.assets

    def extra_inputs(self, params: Any, data_dir: Path) -> dict[str, Mapping[str, Any]]:
        """Non-raster inputs given to :meth:`run` next to the rasters, as {key: {name: value}} (e.g. a tide series)."""
        return {}

    def extra_provenance(self, params: Any, data_dir: Path) -> dict[str, Any]:
        """Facts outside the catalog the result depends on (e.g. a file's checksum): hashed into the id and recorded."""
        return {}

    def write_extra_assets(self, outputs: Mapping[str, Any], out_dir: Path) -> None:
        """Write the files of :attr:`extra_assets` into ``out_dir`` from the non-raster ``outputs`` of :meth:`run`."""

    def statistics(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        """Statistics recorded in ``hpgeo:statistics`` besides the class areas of categorical outputs."""
        return {}

    @classmethod
    def series_input(cls) -> InputSpec | None:
        return next((i for i in cls.inputs if i.series), None)

    @abstractmethod
    def run(self, inputs: Mapping[str, Mapping[str, Any]], params: Any) -> dict[str, Any]:
        """Compute the outputs. ``inputs[role][asset]`` is an xarray DataArray; returns {asset: DataArray}."""

    def output(self, asset: str) -> OutputSpec:
        for o in self.outputs:
            if o.asset == asset:
                return o
        raise KeyError(asset)

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """JSON-able description (for the CLI and the API)."""
        return {
            "name": cls.name,
            "version": cls.version,
            "title": cls.title,
            "title_vi": cls.title_vi,
            "description": cls.description,
            "collection": cls.collection,
            "inputs": [
                {"role": i.role, "collections": list(i.collections), "assets": list(i.assets), "optional": i.optional, "description": i.description,
                 "series": i.series, "min_items": i.min_items, "band_roles": {a: r for a, r in i.roles}}
                for i in cls.inputs
            ],
            "outputs": [
                {"asset": o.asset, "dtype": o.dtype, "nodata": o.nodata, "unit": o.unit, "description": o.description, "classes": {str(k): v for k, v in o.classes.items()}}
                for o in cls.outputs
            ],
            "parameters": cls.Params.model_json_schema(),
            "references": list(cls.references),
        }


_REGISTRY: dict[str, type[Algorithm]] = {}


def register(cls: type[Algorithm]) -> type[Algorithm]:
    """Class decorator: add an algorithm under its ``name`` (names are unique); checks its declarations."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"product algorithm {cls.name!r} registered twice")
    if not (isinstance(cls.Params, type) and issubclass(cls.Params, BaseModel)) or cls.Params.model_config.get("extra") != "forbid":
        raise TypeError(f"{cls.name}: Params must be a pydantic model refusing unknown keys (derive from ProductParams)")
    series = [i for i in cls.inputs if i.series]
    if len(series) > 1 or (series and cls.inputs[0] is not series[0]):
        raise TypeError(f"{cls.name}: at most one series input, and it comes first")
    if any(SERIES_KEY.match(i.role) for i in cls.inputs):
        raise TypeError(f"{cls.name}: input roles must not look like series members (t00, t01, …)")
    _REGISTRY[cls.name] = cls
    return cls


_loaded = False


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        for module in BUILTIN_MODULES:
            importlib.import_module(module)
        _loaded = True


def algorithms() -> Mapping[str, type[Algorithm]]:
    _load_builtin()
    return MappingProxyType(_REGISTRY)


def names() -> list[str]:
    return sorted(algorithms())


def get(name: str) -> Algorithm:
    algs = algorithms()
    if name not in algs:
        raise UnknownProduct(f"no product algorithm {name!r}; known: {', '.join(sorted(algs))}")
    return algs[name]()
