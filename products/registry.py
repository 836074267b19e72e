"""The product registry: algorithms that declare their inputs, outputs, parameters, units and version.

An algorithm is a class with class-level metadata and a ``run`` method working on xarray (lazy,
dask-backed where the inputs are). :func:`register` adds it; the registry is read-only afterwards
and the API derives its choices from :func:`names`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Mapping

from pydantic import BaseModel, ValidationError

from products.errors import InvalidParameters, UnknownProduct

__all__ = ["InputSpec", "OutputSpec", "Algorithm", "register", "get", "names", "algorithms"]


@dataclass(frozen=True)
class InputSpec:
    """One input role: which collections may fill it and which assets the algorithm reads."""

    role: str
    collections: tuple[str, ...]
    assets: tuple[str, ...]
    description: str = ""
    optional: bool = False


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

    def parse_params(self, params: Mapping[str, Any] | None) -> BaseModel:
        try:
            return self.Params(**dict(params or {}))
        except ValidationError as exc:
            msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise InvalidParameters(f"{self.name}: {msgs}") from exc

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
                {"role": i.role, "collections": list(i.collections), "assets": list(i.assets), "optional": i.optional, "description": i.description}
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
    """Class decorator: add an algorithm under its ``name`` (names are unique)."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"product algorithm {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtin() -> None:
    # importing the modules registers their algorithms
    from products import flood  # noqa: F401
    from products import shoreline  # noqa: F401
    from products import optical  # noqa: F401
    from products import ensemble  # noqa: F401
    from products import landcover, mangrove  # noqa: F401
    from products import burn, oil, turbidity  # noqa: F401


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
