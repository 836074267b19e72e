"""Routers, one module per concern. Add a router here to mount it."""

from api.routes import alerts, aoi, meta, products, registry, stac, tiles, viewer

ROUTERS = [meta.router, stac.router, tiles.router, viewer.router, registry.router, products.router, aoi.router, alerts.router]
