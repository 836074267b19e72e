"""hpgeo registry list|show|load|keys."""

from __future__ import annotations

import json

from hpgeo.cli import main


def test_keys_create_prints_the_key_once_and_stores_only_its_hash(reg, capsys):
    assert main(["registry", "keys", "create", "--agency", "SGDDT", "--label", "test"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("hpg_")
    p = reg.authenticate(key)
    assert (p.agency_id, p.role) == ("SGDDT", "editor")
    with reg.engine.connect() as conn:
        stored = [tuple(r) for r in conn.exec_driver_sql("select id, key_hash from registry_api_keys")]
    assert len(stored) == 1 and stored[0][1] != key and key not in stored[0][1]
    assert main(["registry", "keys", "list"]) == 0
    assert key not in capsys.readouterr().out
    # only the plan's coordinator can get a coordinator key; unknown agencies are refused
    assert main(["registry", "keys", "create", "--agency", "SGDDT", "--coordinator"]) == 2
    assert main(["registry", "keys", "create", "--agency", "NOPE"]) == 2
    assert main(["registry", "keys", "create", "--agency", "SKHCN", "--coordinator"]) == 0
    assert main(["registry", "keys", "revoke", p.actor]) == 0
    import pytest

    from registry.errors import InvalidApiKey

    with pytest.raises(InvalidApiKey):
        reg.authenticate(key)


def test_list_and_show(reg, capsys):
    assert main(["registry", "list", "--agency", "TD", "--json", "--year", "2026"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["local_id"], r["lead_agency"]["id"]) for r in rows] == [("V.12.1", "TD")]
    assert main(["registry", "list", "--section", "V", "--kind", "task", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 26
    assert main(["registry", "show", "V.8.1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["id"] == "VUTRU-2030.V.8.1" and len(d["products"]) == 8
    assert main(["registry", "list", "--type", "spaceships"]) == 2
    assert main(["registry", "show", "V.99.1"]) == 2


def test_load_bad_file_exits_2_and_changes_nothing(reg, tmp_path, capsys):
    import yaml

    from registry import read_seed

    bad = tmp_path / "bad.yaml"
    bad.write_text("format: something-else\n", encoding="utf-8")
    assert main(["registry", "load", "--file", str(bad)]) == 2
    assert "not an hpgeo registry seed" in capsys.readouterr().err
    assert main(["registry", "load", "--file", str(tmp_path / "missing.yaml")]) == 2
    # an inconsistent seed fails half-way: the whole load is rolled back
    doc = read_seed()
    doc["plans"][0]["title_vi"] = "CHANGED"
    doc["plans"][-1]["tasks"][-1]["leads"] = [{"agency": "NOBODY"}]
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert main(["registry", "load", "--file", str(broken)]) == 2
    assert "NOBODY" in capsys.readouterr().err
    assert reg.plan("VUTRU-2030")["title_vi"].startswith("Kế hoạch thực hiện Chiến lược")
    # the good file loads
    assert main(["registry", "load"]) == 0
    assert "149 tasks" in capsys.readouterr().out
