"""API keys with roles, for the registry's write endpoints and product builds.

Send the key in the ``X-API-Key`` header. Keys are made with ``hpgeo registry keys create --agency ID
[--coordinator]``; only their hashes are stored. Missing or bad keys give 401, a valid key that may not
make the change gives 403 (see :mod:`registry.auth` for the rules). Both are recorded in the audit trail
(``GET /registry/audit``) with the route, the method, the key id (never the key) and the reason.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from registry import Principal, Registry
from registry.errors import InvalidApiKey

__all__ = ["get_registry", "RegistryDep", "current_principal", "PrincipalDep", "API_KEY_HEADER"]

API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="Registry API key (`hpg_<id>_<secret>`): an agency key edits its own tasks and reports, "
    "the coordinator's key (Department of Science and Technology) edits all.",
)
_lock = threading.Lock()


def get_registry(request: Request) -> Registry:
    """The registry in the app's database, opened (migrated, seeded if empty) on first use."""
    state = request.app.state
    reg = getattr(state, "registry", None)
    if reg is None:
        with _lock:
            reg = getattr(state, "registry", None)
            if reg is None:
                reg = Registry.from_settings(state.settings, seed_if_empty=True)
                state.registry = reg
    return reg


RegistryDep = Annotated[Registry, Depends(get_registry)]


def current_principal(request: Request, registry: RegistryDep,
                      key: Annotated[str | None, Security(API_KEY_HEADER)] = None) -> Principal:
    """Who sends the request (401 when the key is missing, malformed, unknown or revoked).

    The principal carries the method and route, so the registry's audit entries say through which
    route a change (or a refused one) came; the API's error handler records the 401 and any 403 the
    registry did not record itself (see :mod:`api.errors`).
    """
    route = getattr(request.scope.get("route"), "path", request.url.path)
    try:
        principal = registry.authenticate(key)
    except InvalidApiKey:
        request.state.refused_principal = registry.key_owner(key).via(request.method, route)
        raise
    principal = principal.via(request.method, route)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
