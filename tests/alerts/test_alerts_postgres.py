"""The alert store, evaluation and webhook outbox tests again, on PostgreSQL.

They run against the server named by ``HPGEO_TEST_POSTGRES_URL`` (a superuser URL; ``.ci/run`` starts a
throwaway PostgreSQL/PostGIS cluster and sets it, as for tests/scaleout). Without it they skip, except
under CI=true, where its absence is a failure. The ``settings`` fixture below overrides the SQLite one of
tests/alerts/conftest.py for this module, so the imported test functions run unchanged on a fresh
PostgreSQL database each (catalog, registry audit trail and alert tables in it, dropped afterwards).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from base.settings import Settings, override_settings
from tests.alerts import test_api_feed as _feed
from tests.alerts import test_build_hooks as _hooks
from tests.alerts import test_cap_sequence as _seq
from tests.alerts import test_rules_api as _rules
from tests.alerts import test_webhooks as _hooks_web

PG_ENV = "HPGEO_TEST_POSTGRES_URL"


@pytest.fixture(scope="module")
def pg_server():
    url = os.environ.get(PG_ENV, "").strip()
    reason = None
    if not url:
        reason = f"{PG_ENV} is not set (.ci/run starts a PostgreSQL cluster and sets it)"
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            reason = 'psycopg is not installed: pip install -e ".[postgres]"'
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL alert tests cannot run under CI: {reason}")
        pytest.skip(reason)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    created: list[str] = []
    yield admin, url, created
    with admin.connect() as conn:
        for name in created:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, pg_server):
    admin, url, created = pg_server
    name = f"hpgeo_test_alerts_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    created.append(name)
    s = Settings(data_dir=tmp_path, database_url=make_url(url).set(database=name).render_as_string(hide_password=False))
    with override_settings(s):
        yield s


def test_the_alert_tables_are_in_postgres(world, settings):
    cat, store, rules, add_pass = world
    assert store.engine.dialect.name == "postgresql"
    with store.engine.connect() as conn:
        tables = {r[0] for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'alert_%'"))}
        version = conn.execute(text("SELECT version_num FROM alembic_version_alerts")).scalar_one()
    assert tables == {"alert_events", "alert_messages", "alert_evaluations", "alert_subscriptions", "alert_outbox", "alert_rule_versions"}
    assert version == "a0003"


# --- the SQLite tests, unchanged, on PostgreSQL ------------------------------------------------------
test_rising_peak_receding_gives_alert_update_cancel = _seq.test_rising_peak_receding_gives_alert_update_cancel
test_reevaluating_changes_nothing_and_identifiers_are_stable = _seq.test_reevaluating_changes_nothing_and_identifiers_are_stable
test_growth_rule_compares_with_the_previous_observation = _seq.test_growth_rule_compares_with_the_previous_observation
test_json_cap_and_feed_list_exactly_the_active_alerts = _feed.test_json_cap_and_feed_list_exactly_the_active_alerts
test_subscriptions_need_the_coordinator_key_and_are_audited = _feed.test_subscriptions_need_the_coordinator_key_and_are_audited
client = _rules.client  # _feed.client with an admin key (client.admin) for the rules tests
test_a_stale_version_is_a_conflict = _rules.test_a_stale_version_is_a_conflict
test_a_raised_threshold_changes_the_next_evaluation = _rules.test_a_raised_threshold_changes_the_next_evaluation
test_stateless_workers_agree_on_the_current_rules = _rules.test_stateless_workers_agree_on_the_current_rules
test_yaml_round_trip_keeps_vietnamese_text_and_comments = _rules.test_yaml_round_trip_keeps_vietnamese_text_and_comments
schema = _seq.schema
test_receiver_failing_three_times_gets_each_message_exactly_once = _hooks_web.test_receiver_failing_three_times_gets_each_message_exactly_once
test_a_receiver_that_never_recovers_ends_in_dead_letter = _hooks_web.test_a_receiver_that_never_recovers_ends_in_dead_letter
test_two_concurrent_deliverers_on_one_database_send_each_message_once = _hooks_web.test_two_concurrent_deliverers_on_one_database_send_each_message_once
test_kill_9_of_serve_mid_post_then_restart_processes_each_message_exactly_once = (
    _hooks_web.test_kill_9_of_serve_mid_post_then_restart_processes_each_message_exactly_once
)
app_client = _hooks.app_client
test_the_api_delivers_in_process_during_its_lifespan = _hooks.test_the_api_delivers_in_process_during_its_lifespan
