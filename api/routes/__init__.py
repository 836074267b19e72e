"""Routers, one module per concern. Add a router here to mount it."""

from api.routes import alerts, aoi, exports, features, meta, products, registry, stac, tiles, viewer

ROUTERS = [meta.router, stac.router, tiles.router, viewer.router, registry.router, products.router, aoi.router, alerts.router, features.router, exports.router]
