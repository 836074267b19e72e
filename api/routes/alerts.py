"""Alerts: JSON (active, history, one message), CAP 1.2 XML per message, the Atom feed of active alerts,
webhook subscriptions and manual cancel / on-demand evaluation (admin key, see api.auth.require_role; refusals audited),
and the rule set: public to read (``/alerts/rules``, ``/alerts/rules.yaml``), changed by an admin key
(``PUT /alerts/rules``, versioned in the database, every change and refused attempt audited).
Every evaluation uses the current stored rule set (:meth:`alerts.AlertStore.rules`), so API workers agree.

The router's lifespan runs the in-process webhook deliverer (:class:`alerts.delivery.Deliverer`) unless
``HPGEO_ALERTS_DELIVER=false``; :func:`evaluate_built` is what the product build routes call on every
item they build."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Path as PathParam, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from alerts import AlertStore, cancel_event, evaluate_item
from alerts.cap import MIME_CAP
from alerts.feed import MIME_ATOM, atom_feed
from alerts.models import utcnow
from api.auth import AdminDep
from api.deps import BaseUrlDep, CatalogDep, SettingsDep
from api.errors import error_responses
from api.validation import STRICT_QUERY

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def _lifespan(app: Any) -> Any:
    """Start the in-process webhook deliverer with the app, stop it (after its POST in flight) with the app."""
    from alerts.config import AlertSettings
    from alerts.delivery import Deliverer

    cfg = AlertSettings()
    deliverer = Deliverer(app.state.settings.catalog_url, cfg.policy(), every=cfg.deliver_every).start() if cfg.deliver else None
    app.state.alert_deliverer = deliverer
    try:
        yield
    finally:
        if deliverer is not None:
            await asyncio.to_thread(deliverer.stop)


router = APIRouter(prefix="/alerts", tags=["Alerts"], dependencies=STRICT_QUERY, lifespan=_lifespan)
_lock = threading.Lock()
IdP = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9._-]{1,200}$", description="CAP identifier of a message.")]


def _store(request: Request) -> AlertStore:
    st = request.app.state
    with _lock:
        if getattr(st, "alerts", None) is None:
            st.alerts = AlertStore.from_settings(st.settings)
    return st.alerts


def evaluate_built(request: Request, collection: str, item_id: str, base_url: str) -> dict[str, Any]:
    """Evaluate the alert rules on an item just built: ``{"evaluated": true, "messages": [ids]}``, or on any
    failure ``{"evaluated": false, "error": …}`` logged at ERROR with its traceback — the built item stays."""
    try:
        st = request.app.state
        store = _store(request)
        rules = store.rules()  # the current stored rule set
        if not rules.for_collection(collection):
            return {"evaluated": True, "messages": []}  # no rule watches this collection
        msgs = evaluate_item(store, st.catalog, collection, item_id, rules, data_dir=st.settings.resolved_data_dir, base_url=base_url)
        return {"evaluated": True, "messages": [m["identifier"] for m in msgs]}
    except Exception as exc:  # noqa: BLE001 - the item is built; the failure is reported, not raised
        log.exception("ALERT EVALUATION FAILED for %s/%s (the item is built and kept; evaluate it again with "
                      "POST /alerts/evaluate/%s/%s): %s", collection, item_id, collection, item_id, exc)
        return {"evaluated": False, "error": f"{type(exc).__name__}: {exc}"[:500]}


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, description="http(s) URL that receives each CAP message as a signed POST.")
    secret: str | None = Field(None, min_length=16, max_length=128, description="HMAC secret (default: generated, shown once).")
    filters: dict[str, Any] = Field(default_factory=dict, description="`rules`, `units` (codes), `status` (Actual/Exercise), `min_severity`.")


@router.get("", summary="Alert messages (newest first): the active alerts or the whole history", responses=error_responses(400, 422))
def list_alerts(request: Request,
                active: Annotated[bool, Query(description="Only the newest message of each open alert.")] = True,
                rule: Annotated[str | None, Query(max_length=64)] = None,
                unit: Annotated[str | None, Query(max_length=16, description="Official unit code.")] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    return _store(request).messages(active=active, rule=rule, unit=unit, limit=limit)


@router.get("/feed.atom", summary="Atom feed of the active alerts, each entry linking its CAP XML", response_class=Response,
            responses={200: {"content": {MIME_ATOM: {}}}})
def feed(request: Request, base: BaseUrlDep) -> Response:
    store = _store(request)
    msgs = store.messages(active=True)
    updated = msgs[0]["sent"] if msgs else utcnow().isoformat()
    return Response(atom_feed(msgs, base_url=base, sender=store.rules().sender, updated=updated), media_type=MIME_ATOM)


@router.get("/subscriptions", summary="Webhook subscriptions (admin key)", responses=error_responses(401, 403))
def subscriptions(request: Request, principal: AdminDep) -> list[dict[str, Any]]:
    return _store(request).subscriptions()


@router.post("/subscriptions", status_code=201, summary="Add a webhook subscription (admin key; the secret is shown once)",
             responses=error_responses(400, 401, 403, 413, 422))
def subscribe(request: Request, body: SubscriptionIn, principal: AdminDep) -> dict[str, Any]:
    return _store(request).subscribe(body.url, body.filters, principal, secret=body.secret)


@router.delete("/subscriptions/{sid}", status_code=204, summary="Remove a webhook subscription (admin key)",
               responses=error_responses(401, 403, 404))
def unsubscribe(request: Request, sid: Annotated[str, PathParam(pattern=r"^[0-9a-f]{1,32}$")], principal: AdminDep) -> Response:
    _store(request).unsubscribe(sid, principal)
    return Response(status_code=204)


@router.post("/evaluate/{collection}/{item}", summary="Evaluate the alert rules on a product item now (admin key)",
             responses=error_responses(400, 401, 403, 404))
def evaluate(request: Request, collection: str, item: str, catalog: CatalogDep, settings: SettingsDep, base: BaseUrlDep,
             principal: AdminDep) -> list[dict[str, Any]]:
    store = _store(request)
    return evaluate_item(store, catalog, collection, item, store.rules(), data_dir=settings.resolved_data_dir, base_url=base)


MIME_YAML = "application/yaml"
_RULES_EXAMPLE = {"version": 2, "source": {"version": 2, "source": "database", "at": "2026-12-02T10:00:00+00:00", "by": "a1b2c3d4",
                                           "agency": "SKHCN", "role": "admin", "comment": "flood-area: 80 ha",
                                           "sha256": "9f2c…"},
                  "rules": {"version": 2, "sender": "hpgeo@haiphong.gov.vn", "sender_name": "Sở Khoa học và Công nghệ Hải Phòng – hpgeo",
                            "web": "https://hpgeo.haiphong.gov.vn", "rules": ["…"]}}


def _rules_doc(store: AlertStore) -> dict[str, Any]:
    rules, meta, _ = store.current_rules()
    return {"version": rules.version, "source": meta, "rules": rules.model_dump(mode="json")}


@router.get("/rules", summary="The current alert rule set (JSON), its version and where it came from (database or shipped file)",
            responses={200: {"content": {"application/json": {"example": _RULES_EXAMPLE}}}})
def rules_current(request: Request) -> dict[str, Any]:
    return _rules_doc(_store(request))


@router.get("/rules.yaml", summary="The current alert rule set as YAML (as stored; what PUT /alerts/rules takes)", response_class=Response,
            responses={200: {"content": {MIME_YAML: {"example": "version: 2\nsender: hpgeo@haiphong.gov.vn\n…"}}}})
def rules_yaml(request: Request) -> Response:
    _, meta, text = _store(request).current_rules()
    return Response(text, media_type=f"{MIME_YAML}; charset=utf-8", headers={"X-Rules-Version": str(meta["version"])})


@router.get("/rules/history", summary="Every stored version of the alert rules, newest first: who (key id, agency), when, comment (admin key)",
            responses=error_responses(401, 403))
def rules_history(request: Request, principal: AdminDep,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    return _store(request).rules_history(limit=limit)


@router.put("/rules", summary="Change the alert rules (admin key): a whole rule set whose version is exactly the current + 1; audited",
            description="Body: the rule set as YAML (`Content-Type: application/yaml`) or JSON. It is validated (400 with the "
                        "location and message of the first error; nothing stored) and must carry `version` = current + 1 (409 "
                        "otherwise: someone changed the rules since you read them). Every change and every refused attempt is "
                        "in the audit trail (`GET /registry/audit`). The next evaluation uses the new rules.",
            responses=error_responses(400, 401, 403, 409, 413),
            openapi_extra={"requestBody": {"required": True, "content": {
                MIME_YAML: {"schema": {"type": "string"}, "example": "version: 2\nsender: hpgeo@haiphong.gov.vn\nsender_name: …\nweb: https://hpgeo.haiphong.gov.vn\nrules: […]\n"},
                "application/json": {"schema": {"type": "object"}, "example": _RULES_EXAMPLE["rules"]}}}})
async def rules_put(request: Request, principal: AdminDep,
                    comment: Annotated[str, Query(max_length=2000, description="Why the rules change (kept with the version).",
                                                  examples=["flood-area: lowest level 80 ha after the 2025 floods"])] = "") -> dict[str, Any]:
    store = await asyncio.to_thread(_store, request)
    raw = await request.body()
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = "json" if ctype == "application/json" or ctype.endswith("+json") else "yaml"
    await asyncio.to_thread(store.set_rules, raw, principal, comment=comment, fmt=fmt)
    return await asyncio.to_thread(_rules_doc, store)


@router.get("/{identifier}.cap", summary="One message as CAP 1.2 XML", response_class=Response,
            responses={200: {"content": {MIME_CAP: {}}}, **error_responses(404)})
def cap(request: Request, identifier: IdP) -> Response:
    return Response(_store(request).message_xml(identifier), media_type=MIME_CAP)


@router.get("/{identifier}", summary="One message (JSON, with its CAP XML)", responses=error_responses(404))
def message(request: Request, identifier: IdP) -> dict[str, Any]:
    return _store(request).message(identifier)


@router.post("/{identifier}/cancel", summary="Cancel the open alert of this message (admin key)",
             responses=error_responses(400, 401, 403, 404))
def cancel(request: Request, identifier: IdP, catalog: CatalogDep, settings: SettingsDep, base: BaseUrlDep,
           principal: AdminDep) -> dict[str, Any]:
    store = _store(request)
    return cancel_event(store, catalog, identifier, store.rules(), principal,
                        data_dir=settings.resolved_data_dir, base_url=base)
