"""Property-based fuzzing of the live service from its own OpenAPI document: no input produces a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from fengkong.store import ROLES, open_store

from .conftest import deploy_shipped
from .live import Live

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live_api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    db = f"sqlite:///{tmp / 'fengkong.db'}"
    st = open_store(db)
    deploy_shipped(st)
    key = st.users.create_key("fuzz", list(ROLES), "test")
    st.close()
    env = {"FENGKONG_PII_KEY": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}
    with Live(tmp, ["--db", db, "--no-four-eyes", "--log-level", "warning"], env=env) as live:
        yield live, key


def test_no_server_errors(live_api):
    live, key = live_api
    schema = schemathesis.openapi.from_url(live.url + "/v1/openapi.json")
    headers = {"Authorization": f"Bearer {key}"}
    ops = [r.ok() for r in schema.get_all_operations()]
    assert len(ops) >= 25
    for op in ops:
        @given(case=op.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            case.call_and_validate(base_url=live.url, headers=headers, checks=[not_a_server_error], timeout=30)

        try:
            run()
        except BaseException:
            print("server log tail:\n" + live.log()[-6000:])  # the traceback behind a 500, for the report
            raise
