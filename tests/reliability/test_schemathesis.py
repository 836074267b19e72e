"""API fuzzing: schemathesis generates requests from the app's own OpenAPI document for every operation
and checks that none answers 5xx, that every status code and content type is declared and that every
answer matches its declared schema (``docs/reliability.md``, "API fuzzing (schemathesis)").

The app serves the simulated demo (``demo_settings``) through the ASGI transport. Its registry lives in a
database of its own, so the coordinator key used for ``/registry`` writes touches nothing else; every
other operation gets an agency key (product builds are then refused with 403 and write nothing).
Bounded and deterministic: 25 examples per operation, derandomized, no example database. Operations
are driven one by one (schemathesis' pytest plugin does not load under pytest 9), and every operation
runs even when an earlier one fails, so one run reports them all.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

MAX_EXAMPLES = 25
# failures in routes other engineers are writing right now, reported to them (docs/reliability.md); remove an
# entry when its route is fixed. Anything else failing fails this test.
KNOWN_ELSEWHERE: dict[str, str] = {}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_app(demo_settings, tmp_path_factory):
    from api.main import create_app
    from registry import Registry

    app = create_app(demo_settings)
    reg = Registry.open(f"sqlite:///{tmp_path_factory.mktemp('fuzz-registry') / 'registry.db'}", seed_if_empty=True)
    app.state.registry = reg
    app.state.fuzz_keys = {"coordinator": reg.create_key("SKHCN", coordinator=True)[1], "agency": reg.create_key("SNNMT")[1]}
    yield app
    reg.close()


def _fuzz(operation, headers: dict[str, str], counts: dict[str, int]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(case):
        counts[operation.label] = counts.get(operation.label, 0) + 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def test_no_operation_fails_under_fuzzing(fuzz_app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    keys = fuzz_app.state.fuzz_keys
    counts: dict[str, int] = {}
    failures: dict[str, str] = {}
    operations = [r.ok() for r in schema.get_all_operations()]
    for op in operations:
        key = keys["coordinator"] if op.path.startswith("/registry") else keys["agency"]
        try:
            _fuzz(op, {"X-API-Key": key}, counts)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected, reported below
            failures[op.label] = f"{type(exc).__name__}: {str(exc)[:1500]}"
    print(f"\nschemathesis: {len(operations)} operations, {sum(counts.values())} requests, {len(failures)} failing")
    assert len(operations) >= 38
    for label, failure in failures.items():
        print(f"--- {label}\n{failure}")
    assert set(failures) <= set(KNOWN_ELSEWHERE), sorted(set(failures) - set(KNOWN_ELSEWHERE))
