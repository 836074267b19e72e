"""Checks at the HTTP edge that the declared types cannot express: unknown query parameters.

hpgeo's own routes (tiles, products, statistics, registry, health) refuse a query parameter they do not
declare, with 400 naming it, so a misspelt ``colormap`` or ``yaer`` is not silently ignored. The STAC API
routes accept what STAC clients send (``fields``, ``sortby``, ``filter``…) as the STAC API allows.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from base.errors import InvalidRequest

__all__ = ["UnknownParameter", "reject_unknown_query", "STRICT_QUERY"]


class UnknownParameter(InvalidRequest):
    """A query parameter the route does not declare."""


_declared: dict[int, frozenset[str]] = {}


def _names(route: Any) -> frozenset[str]:
    key = id(route)
    if key not in _declared:
        names: set[str] = set()
        stack = [route.dependant]
        while stack:  # the route's own parameters and those of its dependencies
            d = stack.pop()
            names.update(p.alias for p in d.query_params)
            stack.extend(d.dependencies)
        _declared[key] = frozenset(names)
    return _declared[key]


def reject_unknown_query(request: Request) -> None:
    """Dependency: 400 for a query parameter the matched route does not declare."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    known = _names(route)
    unknown = sorted({k for k in request.query_params.keys() if k not in known})
    if unknown:
        accepted = ", ".join(sorted(known)) or "none"
        raise UnknownParameter(f"unknown query parameter {', '.join(repr(u) for u in unknown)}; this route accepts: {accepted}")


STRICT_QUERY = [Depends(reject_unknown_query)]
