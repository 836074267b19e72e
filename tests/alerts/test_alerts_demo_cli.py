"""The demo's alert step and the ``hpgeo alerts`` command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner


def test_demo_flood_raises_one_exercise_alert(demo_settings):
    from alerts import AlertStore

    store = AlertStore.from_settings(demo_settings)
    try:
        flood = [m for m in store.messages(active=True) if m["rule"].startswith("flood")]
        assert [(m["rule"], m["status"], m["unit_code"]) for m in flood] == [("flood-area", "Exercise", "31")]
        assert flood[0]["headline_vi"].startswith("[DIỄN TẬP – DỮ LIỆU MÔ PHỎNG] Ngập lụt")
        assert all(m["status"] == "Exercise" for m in store.messages(active=False))
    finally:
        store.close()


def test_cli_evaluate_is_idempotent_and_lists(world, settings):
    from base.settings import override_settings
    from hpgeo.cli import app

    _, _, _, add_pass = world
    item = add_pass(1, 300.0)
    run = CliRunner()
    with override_settings(settings):
        first = run.invoke(app, ["alerts", "evaluate", f"flood-extent/{item}", "--json"])
        assert first.exit_code == 0, first.output
        assert sorted(m["rule"] for m in json.loads(first.output)) == ["flood-area", "flood-fraction"]
        again = run.invoke(app, ["alerts", "evaluate", f"flood-extent/{item}", "--json"])
        assert json.loads(again.output) == []
        listed = json.loads(run.invoke(app, ["alerts", "list", "--json"]).output)
        assert len(listed) == 2
        xml = run.invoke(app, ["alerts", "show", listed[0]["identifier"], "--xml"]).output
        assert "<msgType>Alert</msgType>" in xml
        assert run.invoke(app, ["alerts", "evaluate", "no-slash"]).exit_code != 0
