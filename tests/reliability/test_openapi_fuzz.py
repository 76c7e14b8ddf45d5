"""The local service under schemathesis, driven by the OpenAPI document it serves: no 500, and every answer
matches the schema (status codes, content types, headers, bodies), authenticated with an issued JWT."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
import requests  # noqa: E402 - schemathesis brings it
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.support.processes import START_TIMEOUT, LocalServiceProcess, free_port  # noqa: E402

pytestmark = pytest.mark.timeout(240)
EXAMPLES = 12
CALL_TIMEOUT = 10.0
# A schema-valid value the service still refuses with a documented 400 (e.g. `since` that is no date) is
# correct behaviour, not a defect: only that strictness check is left out; every other check runs.
LENIENT = [schemathesis.checks.positive_data_acceptance]
# Operations that would turn the finished run back into a running one (its stream would then not end).
KEEP_RANDOM_ID = ("/agents/{run_id}/restart", "/agents/{run_id}/signal/{name}")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`mcp-agents local` as a subprocess, with one finished run and one artifact to aim at."""
    root = tmp_path_factory.mktemp("fuzz")
    key = f"sk-fuzz-{secrets.token_hex(12)}"
    local = LocalServiceProcess(root / "data", key, port=free_port(), heartbeat=0.1)
    try:
        local.start()
        deadline = time.monotonic() + START_TIMEOUT
        base = local.sts_url
        token = requests.post(f"{base}/token/issue", json={"type": "apikey", "key": key}, timeout=10).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        run = requests.post(f"{base}/api/v1/agents", json={"interaction": "Echo", "interactive": False,
                                                           "data": {"task": "fuzz"}}, headers=auth, timeout=10).json()
        while requests.get(f"{base}/api/v1/agents/{run['id']}", headers=auth, timeout=10).json()["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        requests.put(f"{base}/api/v1/agents/{run['id']}/artifacts/a.txt", data=b"a", headers=auth, timeout=10)
        yield {"base": base, "token": token, "run_id": run["id"], "log": str(local.log)}
    finally:
        local.stop(timeout=15)


def test_the_served_openapi_document_holds_under_fuzzing(service: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_url(f"{service['base']}/api/v1/openapi.json")
    auth = {"Authorization": f"Bearer {service['token']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    tried: list[str] = []
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        try:
            fuzzer(operation, service, auth)()
        except Exception as exc:
            log = Path(service["log"]).read_text(errors="replace")[-3000:]
            raise AssertionError(f"{label}: {exc}\n--- service log ---\n{log}") from exc
        tried.append(label)
    assert len(tried) == len(operations)


def fuzzer(operation: Any, service: dict[str, str], auth: dict[str, str]) -> Any:
    """A hypothesis test of one operation: half its cases aim at the real (finished) run."""

    @seed(3)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(), aim=st.booleans())
    def fuzz(case: Any, aim: bool) -> None:
        parameters = case.path_parameters or {}
        if aim and "run_id" in parameters and operation.path not in KEEP_RANDOM_ID:
            parameters["run_id"] = service["run_id"]
        case.call_and_validate(headers=auth, timeout=CALL_TIMEOUT, excluded_checks=LENIENT)

    return fuzz
