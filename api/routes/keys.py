"""``/registry/keys``: API key management for the coordinator (admin key). The same as ``hpgeo registry keys``.

Only the key's hash is stored: the key itself is in the answer of the ``POST`` that creates it, once, and in no
log or audit entry (those name the key id). Creating, revoking and every refused attempt are in the audit trail.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import AdminDep, RegistryDep
from api.errors import error_responses
from api.validation import STRICT_QUERY

__all__ = ["router"]

router = APIRouter(prefix="/registry/keys", tags=["registry"], dependencies=STRICT_QUERY)
KeyIdP = Annotated[str, PathParam(pattern=r"^[0-9a-f]{12}$", description="Key id (the part after `hpg_`).", examples=["5b9631095503"])]


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: str = Field(max_length=32, description="Agency the key acts for (see /registry/agencies).", examples=["SNNMT"])
    role: Literal["viewer", "analyst", "editor", "admin"] = Field(
        "editor", description="viewer < analyst (exports) < editor (its agency's tasks and reports, product builds) < admin "
        "(the plan's coordinator agency only).")
    label: str = Field("", max_length=200, description="Free text to recognise the key later.", examples=["GIS unit, flood team"])


class KeyOut(BaseModel):
    id: str
    agency: str
    role: str
    label: str
    key: str = Field(description="The key: shown this once, store it now.")


@router.get("", summary="API keys: ids, agencies, roles, created and revoked (admin key; never the keys)",
            responses=error_responses(400, 401, 403))
def list_keys(registry: RegistryDep, principal: AdminDep) -> list[dict[str, Any]]:
    return registry.keys()


@router.post("", status_code=201, summary="Create an API key (admin key; the key is in this answer only)",
             responses=error_responses(400, 401, 403, 404, 413, 422))
def create_key(registry: RegistryDep, principal: AdminDep, body: KeyIn) -> KeyOut:
    key_id, key = registry.create_key(body.agency, role=body.role, label=body.label, principal=principal)
    return KeyOut(id=key_id, agency=body.agency, role=body.role, label=body.label, key=key)


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key: it stops working at once (admin key)",
               responses=error_responses(400, 401, 403, 422))
def revoke_key(registry: RegistryDep, principal: AdminDep, key_id: KeyIdP) -> Response:
    registry.revoke_key(key_id, principal=principal)
    return Response(status_code=204)
