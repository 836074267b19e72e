"""Re-running `hpgeo ingest file --bands …` on a file already ingested without roles applies them (issue 14): the user's
options are part of what makes an item current; the same file with the same options is still skipped."""

from __future__ import annotations

from tests.ingest.test_local_band_roles import _roles, env, write_4band  # noqa: F401  (env is a fixture)


def _run(s, cat, path, roles):
    from ingest.sources.local import LocalSource
    from ingest.sources.pipeline import run_ingest

    rep = run_ingest(LocalSource([path], band_roles=roles), None, None, catalog=cat, data_dir=s.resolved_data_dir, download=True)
    assert rep.ok, rep.errors
    return rep, cat.get_item("local-imagery", path.stem)


def test_roles_given_on_a_second_run_are_applied_and_a_third_run_is_a_no_op(env):
    s, cat, tmp = env
    path = write_4band(tmp / "vnredsat.tif")
    rep, item = _run(s, cat, path, None)
    assert len(rep.ingested) == 1 and _roles(item) == {}
    rep, item = _run(s, cat, path, "blue,green,red,nir")  # same content, roles now given: written again
    assert len(rep.ingested) == 1 and len(rep.current) == 0
    assert _roles(item) == {"b1": "blue", "b2": "green", "b3": "red", "b4": "nir"}
    assert item["properties"]["hpgeo:ingest_options"] == {"hpgeo:band_roles": ["blue", "green", "red", "nir"]}
    rep, again = _run(s, cat, path, "blue,green,red,nir")  # same content, same roles: current, nothing written
    assert len(rep.ingested) == 0 and len(rep.current) == 1 and again == item
    rep, item = _run(s, cat, path, "blue,green,nir,-")  # other roles: written again with those
    assert len(rep.ingested) == 1 and _roles(item) == {"b1": "blue", "b2": "green", "b3": "nir"}
    assert cat.count_items("local-imagery") == 1
