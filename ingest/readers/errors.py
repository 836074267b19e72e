"""Errors of the readers and of scan rectification (one class per condition, under the hpgeo categories)."""

from __future__ import annotations

from base.errors import HpgeoWarning, InvalidRequest, NotFound

__all__ = [
    "ReaderError",
    "ProductNotFound",
    "MissingProductFile",
    "MalformedMetadata",
    "UnsupportedProduct",
    "MeasurementShapeMismatch",
    "UnknownBand",
    "GCPError",
    "TooFewGCPs",
    "FewSpareGCPs",
    "CollinearGCPs",
    "DuplicateGCPs",
    "NonFiniteGCPs",
    "GCPOutsideImage",
    "InconsistentGCPs",
    "MalformedGCPFile",
    "UnknownRectifyMethod",
    "NoMeasurement",
    "TrailingJunk",
]


class ReaderError(InvalidRequest):
    """Base of the readers' input errors: the product on disk cannot be read as asked."""


class ProductNotFound(NotFound):
    """The product folder or file does not exist."""


class MissingProductFile(ReaderError):
    """A file the product's metadata points to (annotation, MTL, band) is absent."""


class MalformedMetadata(ReaderError):
    """A metadata file exists but lacks a required element or has an unparseable value."""


class UnsupportedProduct(ReaderError):
    """The product is of a kind, level or version the reader does not handle."""


class MeasurementShapeMismatch(ReaderError):
    """A measurement array does not have the size the annotation declares."""


class UnknownBand(ReaderError):
    """A requested band or polarisation is not in the product."""


class NoMeasurement(ReaderError):
    """The product has metadata only (e.g. the measurement TIFF was not downloaded)."""


class TrailingJunk(HpgeoWarning):
    """A metadata file had bytes after its root element; they were ignored."""


# -- rectification (scanned archive images + ground control points) ----------------------------
class GCPError(InvalidRequest):
    """Base of the ground-control-point errors: the GCP set cannot define a transform."""


class MalformedGCPFile(GCPError):
    """The GCP CSV lacks a required column or has an unparseable value."""


class TooFewGCPs(GCPError):
    """Fewer GCPs than the transform's unknowns need."""


class CollinearGCPs(GCPError):
    """The GCPs lie (nearly) on a line, in pixel or map space, so the fit is singular."""


class DuplicateGCPs(GCPError):
    """Two GCPs share the same pixel position or the same map position."""


class NonFiniteGCPs(GCPError):
    """A GCP coordinate is NaN or infinite."""


class GCPOutsideImage(GCPError):
    """A GCP's pixel position lies outside the scanned image."""


class InconsistentGCPs(GCPError):
    """The fit's RMS residual exceeds the tolerance: at least one GCP is wrong."""


class FewSpareGCPs(HpgeoWarning):
    """The GCPs leave no (or too few) spare points to check the fit: its RMS says nothing about accuracy."""


class UnknownRectifyMethod(GCPError):
    """The transform method is not one of polynomial1/2/3 or tps."""
