"""Errors of the products package."""

from __future__ import annotations

from base.errors import HpgeoWarning, InvalidRequest, NotFound

__all__ = ["ProductError", "UnknownProduct", "InvalidParameters", "InvalidInputs", "InsufficientCoverage", "ThresholdUnreliable"]


class ProductError(InvalidRequest):
    """Base of the products' input errors."""


class UnknownProduct(NotFound):
    """No algorithm registered under that name."""


class InvalidParameters(ProductError):
    """Parameters fail the algorithm's declared schema."""


class InvalidInputs(ProductError):
    """Input items are missing, of the wrong collection, or lack the declared assets."""


class InsufficientCoverage(ProductError):
    """Too few valid pixels to compute the product."""


class ThresholdUnreliable(HpgeoWarning):
    """The histogram is not bimodal enough for a trustworthy automatic threshold."""
