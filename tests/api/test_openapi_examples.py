"""Every operation of the OpenAPI document has an example; examples are valid for their schemas and the
abridged answers have the keys the real answers have."""

from __future__ import annotations

import jsonschema
import pytest

from api.openapi_examples import RESPONSES, has_example

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def doc(client):
    return client.get("/openapi.json").json()


def _validate(value, schema, doc):
    jsonschema.Draft202012Validator({**schema, "components": doc["components"]}).validate(value)


def test_every_operation_has_an_example(doc):
    ops = [(m, p, op) for p, o in doc["paths"].items() for m, op in o.items()]
    assert len(ops) >= 60
    missing = [f"{m.upper()} {p}" for m, p, op in ops
               if not (has_example(op.get("parameters", [])) or has_example(op.get("requestBody", {}))
                       or has_example({c: r for c, r in op["responses"].items() if c.startswith("2")}))]
    assert missing == []
    # operations with parameters show an example for each of them
    bare = [f"{m.upper()} {p} {q['name']}" for m, p, op in ops for q in op.get("parameters", []) if not has_example(q)]
    assert bare == []


def test_parameter_and_body_examples_are_valid_for_their_schemas(doc):
    n = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for q in op.get("parameters", []):
                for ex in ([q["example"]] if "example" in q else []) + list(q.get("examples", {}).values() if isinstance(q.get("examples"), dict) else []):
                    _validate(ex["value"] if isinstance(ex, dict) and "value" in ex else ex, q["schema"], doc)
                    n += 1
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if "example" in body:
                _validate(body["example"], body["schema"], doc)
                n += 1
    assert n >= 80, n
    with pytest.raises(jsonschema.ValidationError):  # the check can fail: a wrong status is refused
        status = doc["paths"]["/registry/tasks/{task_id}/status/{year}"]["put"]["requestBody"]["content"]["application/json"]
        _validate({"status": "done?"}, status["schema"], doc)


def test_abridged_answers_have_the_keys_of_the_real_answers(client, reg):
    admin = {"X-API-Key": reg.create_key("SKHCN", role="admin")[1]}
    checked = 0
    for (method, path), example in RESPONSES.items():
        r = client.request(method.upper(), path, headers=admin)
        assert r.status_code == 200, path
        if isinstance(example, str):
            assert r.text.startswith(example[:30]), path
            continue
        real = r.json()
        if isinstance(example, list):
            assert isinstance(real, list), path
            if not real:
                continue
            example, real = example[0], real[0]
        missing = set(example) - set(real)
        assert not missing, f"{path}: the example has keys the answer lacks: {missing}"
        checked += 1
    assert checked >= 10
