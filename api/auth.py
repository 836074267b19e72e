"""API keys with roles: who may export, write and administer.

Send the key in the ``X-API-Key`` header. Keys are made with ``hpgeo registry keys create --agency ID
--role viewer|analyst|editor|admin``; only their hashes are stored. Roles are ordered viewer < analyst
< editor < admin (see :mod:`registry.auth`): published layers are public to read, exports need
analyst, writes need editor (an agency's own tasks and reports), administration (rules,
subscriptions, keys, the audit trail) needs admin. A route declares what it needs with
``Depends(require_role("editor"))`` (or the aliases :data:`AnalystDep`, :data:`EditorDep`,
:data:`AdminDep`). Missing or bad keys give 401, a valid key below the role, or a key of an agency
that ceased to exist (merged away in 2025), 403. Both are recorded in the audit trail (``GET
/registry/audit``) with the route, the method, the key id (never the key) and the reason.
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any, Callable, Iterator

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from registry import Principal, Registry
from registry.auth import ADMIN, ANALYST, EDITOR, ROLES, VIEWER
from registry.models import utcnow
from registry.errors import InvalidApiKey, NotAllowed

__all__ = ["get_registry", "RegistryDep", "current_principal", "PrincipalDep", "API_KEY_HEADER", "require_role",
           "RoleTooLow", "AgencyDissolved", "ViewerDep", "AnalystDep", "EditorDep", "AdminDep", "ROLE_OF"]

API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="API key (`hpg_<id>_<secret>`) with a role: viewer < analyst (exports) < editor (its agency's "
    "tasks and reports) < admin (the coordinator, Department of Science and Technology: everything).",
)
_lock = threading.Lock()
log = logging.getLogger(__name__)


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


class RoleTooLow(NotAllowed):
    """The key's role does not include the role the route needs."""


class AgencyDissolved(NotAllowed):
    """The key belongs to an agency that ceased to exist (merged away in the 2025 reorganisation)."""


ROLE_OF = "hpgeo_role"  # attribute set on require_role's dependencies: the role they require (for the docs and tests)


def require_role(role: str) -> Callable[..., Iterator[Principal]]:
    """A FastAPI dependency that yields the request's :class:`Principal` if its key has ``role`` (or a
    higher one) and its agency still exists; else it raises :class:`InvalidApiKey` (401: no, malformed,
    unknown or revoked key), :class:`RoleTooLow` or :class:`AgencyDissolved` (403). Every refusal is
    written to the audit trail by the API's error handler (key id, never the key); a write route that
    succeeded is recorded too, unless its domain code audited it already (see :func:`_audit_write`)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of: {', '.join(ROLES)}")

    def dependency(request: Request, principal: PrincipalDep) -> Iterator[Principal]:
        if not principal.allows(role):
            raise RoleTooLow(f"this needs a key with role {role} (or higher); this key's role is {principal.role}")
        if principal.dissolved_on():
            raise AgencyDissolved(f"agency {principal.agency_id} ceased to exist on {principal.agency_end}; its keys can no "
                                  "longer be used (ask for a key of its successor)")
        started = utcnow()
        yield principal  # an error raised by the route passes through here to the error handler, unrecorded
        if request.method in WRITE_METHODS:
            _audit_write(request, principal, started)

    dependency.__name__ = f"require_{role}"
    setattr(dependency, ROLE_OF, role)
    return dependency


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _audit_write(request: Request, principal: Principal, started: Any) -> None:
    """After a write route succeeded: if its domain code wrote no audit entry for this key (product builds,
    alert evaluation and cancel do not keep their own), record one (``api.write``: route, method, path
    parameters; never the body, which can hold secrets)."""
    route = request.scope.get("route")
    try:
        reg = get_registry(request)
        if not reg.audited_since(principal.actor, started):
            reg.record_request(principal, request.method, getattr(route, "path", request.url.path),
                               getattr(route, "status_code", None) or 200, request.path_params)
    except Exception:  # the change is made; a failing audit write is logged loudly, the answer stands
        log.exception("could not record %s %s in the audit trail", request.method, getattr(route, "path", request.url.path))


ViewerDep = Annotated[Principal, Depends(require_role(VIEWER))]
AnalystDep = Annotated[Principal, Depends(require_role(ANALYST))]
EditorDep = Annotated[Principal, Depends(require_role(EDITOR))]
AdminDep = Annotated[Principal, Depends(require_role(ADMIN))]
