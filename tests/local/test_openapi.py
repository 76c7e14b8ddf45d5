"""Every answer of a Demo run's endpoints matches the schema the service's own OpenAPI document declares."""

from __future__ import annotations

from typing import Any

import httpx2
from jsonschema import Draft202012Validator

from mcp_agents.models import REPORTS
from tests.local.helpers import wait_status


def _check(document: dict[str, Any], method: str, template: str, answer: httpx2.Response) -> None:
    operation = document["paths"][template][method]
    declared = operation["responses"][str(answer.status_code)]["content"]
    media = "application/json" if "application/json" in declared else next(iter(declared))
    schema = {**declared[media]["schema"], "components": document["components"]}
    errors = list(Draft202012Validator(schema).iter_errors(answer.json()))
    assert not errors, (method, template, answer.status_code, [error.message for error in errors[:3]])


async def test_answers_match_the_openapi_document(api: httpx2.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    created = await api.post("/agents", json={"interaction": "Demo", "interactive": False, "data": {
        "steps": 2, "step_delay_ms": 0, "spawn_child": True}})
    _check(document, "post", "/agents", created)
    run_id = created.json()["id"]
    await wait_status(api, run_id, {"completed"})
    run = f"/agents/{run_id}"
    gets = {
        "/agents": "/agents", "/agents/search": "/agents/search?query=demo", "/agents/{run_id}": run,
        "/agents/{run_id}/updates": f"{run}/updates", "/agents/{run_id}/artifacts": f"{run}/artifacts",
        "/agents/{run_id}/internals": f"{run}/internals",
        "/agents/{run_id}/details": f"{run}/details?include_history=true",
        "/agents/{run_id}/children": f"{run}/children", "/agents/{run_id}/query/{name}": f"{run}/query/AgentPlan",
        "/agents/{run_id}/artifacts/{path}": f"{run}/artifacts/report.md?url=1",
    }
    for template, url in gets.items():
        _check(document, "get", template, await api.get(url))
    for template, url in (("/agents/{run_id}", "/agents/000000000000000000000000"),
                          ("/agents/{run_id}/query/{name}", f"{run}/query/Nope")):
        _check(document, "get", template, await api.get(url))  # error answers too
    _check(document, "post", "/agents/{run_id}/updates", await api.post(f"{run}/updates", json={"message": "x"}))
    _check(document, "post", "/agents/{run_id}/restart", await api.post(f"{run}/restart"))
    _check(document, "post", "/agents/{run_id}/signal/{name}",
           await api.post(f"{run}/signal/Ping", json={}))
    _check(document, "delete", "/agents/{run_id}", await api.delete(f"{run}?reason=done"))
    _check(document, "post", "/agents/{run_id}/fork", await api.post(f"{run}/fork"))
    _check(document, "put", "/agents/{run_id}/artifacts/{path}",
           await api.put(f"{run}/artifacts/notes/a.txt", content=b"hello"))
    for sub in REPORTS.values():
        body: dict[str, Any] = {"resolution": "hour", "groupBy": "model"} if sub != "tools/parameters" else {
            "toolName": "search_documents"}
        _check(document, "post", f"/agents/analytics/{sub}", await api.post(f"/agents/analytics/{sub}", json=body))
