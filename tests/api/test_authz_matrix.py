"""The authorization matrix over EVERY route of the app (``app.routes``, so a new route is covered the day it
is added): reads of published layers are public; exports need analyst, writes editor, administration admin.

The classification below is the test's own (by method, path prefix and tag), not read from the code: a
route that declares another role than the rule gives fails, and so does a protected route that lets a
request through without a key, with the role just below, or with a key of an agency that ceased to exist
in the 2025 reorganisation. Every refused attempt must be in the audit trail (route, method, status, key
id) and no key may appear in the logs or the audit trail.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import text

from api.auth import EditorDep
from base.errors import InvalidRequest
from registry.auth import hash_key, new_key

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PUBLIC, ANALYST, EDITOR, ADMIN = "public", "analyst", "editor", "admin"
BELOW = {ANALYST: "viewer", EDITOR: "analyst", ADMIN: "editor"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
READ_POSTS = {"/stac/search"}  # POST with a query body: a read (STAC API item-search)
PUBLIC_GETS = {"/alerts/rules"}  # the current alert rules are public to read; changing them (PUT) and their history are admin
ADMIN_PATHS = (
    re.compile(r"^/alerts/(subscriptions|evaluate|rules)(/|$)"),  # webhooks, on-demand evaluation, rule changes
    re.compile(r"^/alerts/[^/]+/cancel$"),
    re.compile(r"^/registry/(reminders|audit|keys)(/|$)"),  # the coordinator's cycle, the audit trail, keys
    re.compile(r"^/(admin|keys)(/|$)"),
)
EXPORT = re.compile(r"(^|/)exports?(/|$|\.)", re.I)
SAMPLE = {"year": "2026", "z": "0", "x": "0", "y": "0", "lon": "106.7", "lat": "20.8", "fmt": "png"}
V81 = "VUTRU-2030.V.8.1"  # led by Sở Tài nguyên và Môi trường (STNMT), merged into SNNMT on 2025-03-01


def classify(method: str, path: str, tags: list[str]) -> str:
    """What a route needs, from its method, path and tags only."""
    if EXPORT.search(path) or any(EXPORT.search(t) for t in tags):
        return ANALYST
    if method == "GET" and path in PUBLIC_GETS:
        return PUBLIC
    if any(p.search(path) for p in ADMIN_PATHS):
        return ADMIN
    if method in WRITE_METHODS and path not in READ_POSTS:
        return EDITOR
    return PUBLIC


def routes(app) -> list[tuple[str, str, str, object]]:
    """(method, path template, needed role, route context) for every method of every route (HEAD = GET)."""
    out = []
    for rc in iter_route_contexts(app.routes):
        if rc.path is None or rc.methods is None:
            continue
        tags = list(getattr(rc, "tags", None) or [])
        for m in sorted(rc.methods - {"HEAD", "OPTIONS"}):
            out.append((m, rc.path, classify(m, rc.path, tags), rc))
    return out


def declared_roles(rc) -> set[str]:
    """The roles the route's dependencies (api.auth.require_role) declare."""
    found: set[str] = set()
    dep = getattr(rc, "dependant", None)
    stack = [dep] if dep is not None else []
    while stack:
        d = stack.pop()
        role = getattr(d.call, "hpgeo_role", None)
        if role:
            found.add(role)
        stack.extend(d.dependencies)
    return found


def url_of(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: SAMPLE.get(m.group(1), "x"), path)


def old_key(reg, agency: str, role: str) -> str:
    """A key as it was issued before the 2025 reorganisation (create_key no longer issues keys for agencies
    that ceased to exist), written straight into the table."""
    key_id, key = new_key()
    with reg.engine.begin() as c:
        c.execute(text("INSERT INTO registry_api_keys (id, key_hash, agency_id, role, label, created_at) VALUES "
                       "(:i, :h, :a, :r, 'issued 2024', :t)"),
                  {"i": key_id, "h": hash_key(key), "a": agency, "r": role, "t": dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)})
    return key


def call(client, method: str, url: str, key: str | None):
    headers = {"X-API-Key": key} if key else {}
    body = {} if method in WRITE_METHODS else None
    return client.request(method, url, headers=headers, json=body)


def last_refusal(reg) -> dict:
    return next(a for a in reg.audit(limit=5) if a["outcome"] == "denied")


def test_every_route_is_classified_and_declares_the_role_its_class_needs(client):
    table = routes(client.app)
    assert len(table) >= 60, len(table)  # the app's routes, not an empty iteration
    wrong = []
    for method, path, need, rc in table:
        declared = declared_roles(rc) if isinstance(rc.original_route, APIRoute) else set()
        want = set() if need == PUBLIC else {need}
        if declared != want:
            wrong.append(f"{method} {path}: needs {need}, declares {sorted(declared) or 'nothing'}")
    assert not wrong, "\n".join(wrong)


def test_authorization_matrix_over_every_route(client, reg, caplog):
    caplog.set_level(logging.DEBUG)
    keys = {role: reg.create_key("SNNMT", role=role)[1] for role in ("viewer", "analyst", "editor")}
    keys["admin"] = reg.create_key("SKHCN", role="admin")[1]
    dissolved = {role: old_key(reg, "STNMT", role) for role in (ANALYST, EDITOR, ADMIN)}
    all_keys = [*keys.values(), *dissolved.values()]
    counts = {PUBLIC: 0, ANALYST: 0, EDITOR: 0, ADMIN: 0}
    failures = []
    for method, path, need, _ in routes(client.app):
        counts[need] += 1
        url = url_of(path)
        if need == PUBLIC:
            r = call(client, method, url, None)
            if r.status_code in (401, 403):
                failures.append(f"{method} {path} is a public read but answered {r.status_code} without a key")
            continue
        cases = [("no key", None, 401, "anonymous"), ("role below", keys[BELOW[need]], 403, None),
                 ("dissolved agency", dissolved[need], 403, None)]
        for what, key, status, actor in cases:
            r = call(client, method, url, key)
            if r.status_code != status:
                failures.append(f"{method} {path} with {what}: {r.status_code} (want {status}) {r.text[:120]}")
                continue
            a = last_refusal(reg)
            want_actor = actor or key.split("_")[1]
            if (a["actor"], a["detail"]["status"], a["detail"]["request"]) != (want_actor, status, {"method": method, "route": path}):
                failures.append(f"{method} {path} with {what}: not in the audit trail (last refusal {a})")
            if what == "dissolved agency" and "ceased to exist" not in r.json()["description"]:
                failures.append(f"{method} {path}: a dissolved agency's key refused for another reason: {r.json()}")
        r = call(client, method, url, keys[need])  # the right role gets past authorization (to 404/422 on sample values)
        if r.status_code in (401, 403):
            failures.append(f"{method} {path} refuses a key with the role it needs ({need}): {r.status_code} {r.text[:120]}")
    assert not failures, "\n".join(failures)
    assert counts[EDITOR] >= 4 and counts[ADMIN] >= 6 and counts[PUBLIC] >= 40, counts
    logged = caplog.text + json.dumps(reg.audit(limit=10_000))
    leaked = [k for k in all_keys if k in logged or k.split("_", 2)[2] in logged]
    assert not leaked, f"{len(leaked)} keys appear in the logs or the audit trail"


def test_a_dissolved_departments_key_cannot_overwrite_its_successors_status(client, reg):
    """The incident: a key of Sở Tài nguyên và Môi trường (dissolved 2025-03-01, merged into Sở Nông nghiệp
    và Môi trường) set the 2026 status of a task its successor now leads."""
    stnmt = old_key(reg, "STNMT", "agency")  # an agency key issued before roles existed
    snnmt = {"X-API-Key": reg.create_key("SNNMT")[1]}
    url = f"/registry/tasks/{V81}/status/2026"
    assert client.put(url, json={"status": "in_progress", "progress": 40, "note": "SNNMT"}, headers=snnmt).status_code == 200
    r = client.put(url, json={"status": "suspended", "note": "overwritten"}, headers={"X-API-Key": stnmt})
    assert r.status_code == 403 and r.json()["code"] == "AgencyDissolved"
    assert "2025-03-01" in r.json()["description"]
    st = client.get(f"/registry/tasks/{V81}", params={"year": 2026}).json()
    assert (st["status"], st["progress"]) == ("in_progress", 40)
    a = last_refusal(reg)
    assert (a["actor"], a["actor_agency"], a["detail"]["status"]) == (stnmt.split("_")[1], "STNMT", 403)
    # the registry refuses it too when called directly (command line, other front-ends)
    from registry.errors import NotAllowed

    with pytest.raises(NotAllowed, match="ceased to exist"):
        reg.set_status(reg.authenticate(stnmt), V81, 2026, "suspended")
    assert reg.task(V81, 2026)["status"] == "in_progress"


def test_successor_key_still_edits_the_tasks_of_the_agency_it_succeeded(client, reg):
    snnmt = {"X-API-Key": reg.create_key("SNNMT")[1]}
    r = client.put(f"/registry/tasks/{V81}/status/2026", json={"status": "completed"}, headers=snnmt)
    assert r.status_code == 200 and r.json()["status"] == "completed"


def test_viewer_and_analyst_keys_cannot_write_the_registry(client, reg):
    for role in ("viewer", "analyst"):
        k = {"X-API-Key": reg.create_key("SNNMT", role=role)[1]}
        r = client.put(f"/registry/tasks/{V81}/status/2026", json={"status": "completed"}, headers=k)
        assert r.status_code == 403 and r.json()["code"] == "RoleTooLow", role
    assert reg.task(V81, 2026)["status"] != "completed"


def test_roles_are_ordered_and_admin_keys_belong_to_the_coordinator(reg):
    from registry.errors import InvalidRegistryInput

    for role, allowed in {"viewer": ["viewer"], "analyst": ["viewer", "analyst"], "editor": ["viewer", "analyst", "editor"],
                          "admin": ["viewer", "analyst", "editor", "admin"]}.items():
        agency = "SKHCN" if role == "admin" else "SNNMT"
        p = reg.authenticate(reg.create_key(agency, role=role)[1])
        assert p.role == role
        assert [r for r in ("viewer", "analyst", "editor", "admin") if p.allows(r)] == allowed
    with pytest.raises(InvalidRegistryInput, match="coordinator"):
        reg.create_key("SNNMT", role="admin")
    with pytest.raises(InvalidRegistryInput, match="unknown role"):
        reg.create_key("SNNMT", role="root")
    with pytest.raises(InvalidRegistryInput, match="ceased to exist"):
        reg.create_key("STNMT")


def test_migration_keeps_old_coordinator_and_agency_keys_working(tmp_path):
    """A registry made before roles (revision r0001) with a coordinator and an agency key: after the upgrade
    they are admin and editor keys and authenticate as before."""
    from registry import Registry

    reg = Registry.open(f"sqlite:///{tmp_path / 'old.db'}", migrate=False)
    reg.upgrade("r0001")
    with reg.engine.begin() as c:
        c.execute(text("INSERT INTO registry_agencies (id, name_vi, name_en, kind, coordinator, reports_annually) "
                       "VALUES ('SKHCN', 'Sở Khoa học và Công nghệ', 'DOST', 'department', 1, 1)"))
    made = {}
    for role in ("coordinator", "agency"):
        key_id, key = new_key()
        with reg.engine.begin() as c:
            c.execute(text("INSERT INTO registry_api_keys (id, key_hash, agency_id, role, label, created_at) "
                           "VALUES (:i, :h, 'SKHCN', :r, '', '2024-01-01 00:00:00')"), {"i": key_id, "h": hash_key(key), "r": role})
        made[role] = key
    reg.upgrade()
    with reg.engine.begin() as c:
        assert dict(c.execute(text("SELECT role, COUNT(*) FROM registry_api_keys GROUP BY role")).all()) == {"admin": 1, "editor": 1}
    assert reg.authenticate(made["coordinator"]).role == "admin" and reg.authenticate(made["coordinator"]).is_coordinator
    assert reg.authenticate(made["agency"]).role == "editor" and not reg.authenticate(made["agency"]).is_coordinator
    reg.close()


def test_cli_keys_create_with_a_role(reg, capsys):
    from hpgeo.cli import main

    made = {}
    for role in ("viewer", "analyst", "editor"):
        assert main(["registry", "keys", "create", "--agency", "SNNMT", "--role", role]) == 0
        made[role] = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["registry", "keys", "create", "--agency", "SKHCN", "--role", "admin"]) == 0
    made["admin"] = capsys.readouterr().out.strip().splitlines()[-1]
    assert {r: reg.authenticate(k).role for r, k in made.items()} == {r: r for r in made}
    assert main(["registry", "keys", "create", "--agency", "SNNMT", "--role", "admin"]) == 2  # admin: the coordinator only
    assert main(["registry", "keys", "create", "--agency", "SNNMT", "--role", "root"]) == 2
    assert main(["registry", "keys", "create", "--agency", "STNMT"]) == 2  # dissolved on 2025-03-01
    assert main(["registry", "keys", "list"]) == 0
    listed = capsys.readouterr().out
    assert all(k not in listed for k in made.values()) and "analyst" in listed


def test_writes_without_an_audit_of_their_own_are_recorded_once(client, reg):
    """A write route whose domain code keeps no audit (like product builds) gets an ``api.write`` entry; one
    that audits itself (registry status) gets no second entry; a failing write gets none."""
    app = client.app

    @app.post("/_test/build/{name}", status_code=201)
    def fake_build(name: str, principal: EditorDep) -> dict:
        return {"built": name}

    @app.post("/_test/fail/{name}")
    def fake_fail(name: str, principal: EditorDep) -> dict:
        raise InvalidRequest("no")

    key = reg.create_key("SNNMT")[1]
    h = {"X-API-Key": key}
    assert client.post("/_test/build/flood-sar", headers=h).status_code == 201
    a = reg.audit(limit=1)[0]
    assert (a["action"], a["outcome"], a["actor"], a["actor_role"], a["target"]) == ("api.write", "applied", key.split("_")[1], "editor", "/_test/build/{name}")
    assert a["detail"] == {"status": 201, "request": {"method": "POST", "route": "/_test/build/{name}"}, "params": {"name": "flood-sar"}}
    n = len(reg.audit(limit=10_000))
    assert client.post("/_test/fail/x", headers=h).status_code == 400
    assert len(reg.audit(limit=10_000)) == n
    assert client.put(f"/registry/tasks/{V81}/status/2026", json={"status": "completed"}, headers=h).status_code == 200
    new = reg.audit(limit=10_000)[: len(reg.audit(limit=10_000)) - n]
    assert [e["action"] for e in new] == ["task.status"]


def test_key_management_through_the_api(client, reg, caplog):
    caplog.set_level(logging.DEBUG)
    admin = {"X-API-Key": reg.create_key("SKHCN", role="admin")[1]}
    r = client.post("/registry/keys", json={"agency": "SNNMT", "role": "analyst", "label": "flood team"}, headers=admin)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["agency"], made["role"]) == ("SNNMT", "analyst") and made["key"].startswith(f"hpg_{made['id']}_")
    assert reg.authenticate(made["key"]).role == "analyst"
    listed = client.get("/registry/keys", headers=admin).json()
    assert made["id"] in {k["id"] for k in listed} and made["key"] not in json.dumps(listed)
    assert client.post("/registry/keys", json={"agency": "SNNMT", "role": "admin"}, headers=admin).status_code == 400
    assert client.post("/registry/keys", json={"agency": "STNMT"}, headers=admin).status_code == 400  # dissolved
    assert client.post("/registry/keys", json={"agency": "NOPE"}, headers=admin).status_code == 404
    assert client.delete(f"/registry/keys/{made['id']}", headers=admin).status_code == 204
    from registry.errors import InvalidApiKey

    with pytest.raises(InvalidApiKey):
        reg.authenticate(made["key"])
    actions = [(a["action"], a["target"]) for a in reg.audit(limit=20) if a["outcome"] == "applied"]
    assert ("key.create", f"keys/{made['id']}") in actions and ("key.revoke", f"keys/{made['id']}") in actions
    assert made["key"] not in caplog.text + json.dumps(reg.audit(limit=1000))
