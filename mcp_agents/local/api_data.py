"""Handlers of what a run exposes: artifacts, internals, details, children, telemetry, search, analytics."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mcp_agents.local import analytics, records, search
from mcp_agents.local.api_runs import caller_and_run, read_json, services_of
from mcp_agents.local.artifacts import UPLOAD, check_path, guess_type, serving_headers
from mcp_agents.local.config import SIGNED_URL_TTL_SECONDS
from mcp_agents.local.errors import ServiceError
from mcp_agents.local.limits import read_body
from mcp_agents.local.telemetry import event_row, insert_events
from mcp_agents.local.wire import hosted_child, hosted_history, hosted_hit
from mcp_agents.models import REPORTS, AnalyticsQuery, IngestEventsRequest

REPORT_BY_PATH = {path: name for name, path in REPORTS.items()}


async def list_artifacts(request: Request) -> JSONResponse:
    services, _, row = await caller_and_run(request)
    return JSONResponse(await services.store.read(lambda conn: records.list_artifacts(conn, row["id"])))


async def get_artifact(request: Request) -> Response:
    services = services_of(request)
    run_id, path = request.path_params["run_id"], check_path(request.path_params["path"])
    query = request.query_params
    disposition = query.get("disposition") or "inline"
    if disposition not in ("inline", "attachment"):
        raise ServiceError(400, "disposition must be inline or attachment")
    if "signature" in query:  # a signed URL: no bearer needed
        services.files.check_signature(run_id, path, query.get("expires", ""), disposition, query["signature"])
        row = await services.store.read(lambda conn: records.get_run(conn, run_id))
        if row is None:
            raise ServiceError(404, f"agent run {run_id!r} not found")
    else:
        _, _, row = await caller_and_run(request)
    meta = await services.store.read(lambda conn: records.artifact_meta(conn, run_id, path))
    if meta is None:
        raise ServiceError(404, f"artifact {path!r} not found in run {run_id}; list them with GET .../artifacts")
    if query.get("url") in ("1", "true") and "signature" not in query:
        url = services.files.signed_url(services.base_url, run_id, path, disposition)
        answer: dict[str, Any] = {"url": url, "path": path}
        if not services.wire.hosted:
            answer["expires_in"] = SIGNED_URL_TTL_SECONDS
        return JSONResponse(answer)
    content = await anyio.to_thread.run_sync(services.files.read, run_id, path)
    headers = serving_headers(meta["content_type"], disposition, path.rsplit("/", 1)[-1])
    return Response(content, media_type=meta["content_type"], headers=headers)


async def put_artifact(request: Request) -> Response:
    """Seed: the PUT body is the artifact. Hosted: the API's PUT answers a signed URL, and the bytes are
    then PUT to that URL (no credential; the signature allows this one path only)."""
    services = services_of(request)
    query = request.query_params
    path = check_path(request.path_params["path"])
    if "signature" in query:
        run_id = request.path_params["run_id"]
        services.files.check_signature(run_id, path, query.get("expires", ""), UPLOAD, query["signature"])
        if await services.store.read(lambda conn: records.get_run(conn, run_id)) is None:
            raise ServiceError(404, f"agent run {run_id!r} not found")
    else:
        _, _, row = await caller_and_run(request)
        run_id = row["id"]
        if services.wire.hosted:
            url = services.files.signed_upload_url(services.base_url, run_id, path)
            return JSONResponse({"url": url, "path": path})
    content = await read_body(request, services.limits.artifact_bytes, "the artifact")
    content_type = request.headers.get("content-type") or guess_type(path)
    await services.runtime.put_artifact(run_id, path, content, content_type)
    if "signature" in query:
        return Response(status_code=200)
    return JSONResponse({"path": path, "size": len(content), "content_type": content_type}, status_code=201)


async def get_internals(request: Request) -> JSONResponse:
    _, _, row = await caller_and_run(request)
    return JSONResponse({
        "id": row["id"], "workflow_id": f"AgentRun:{row['id']}", "first_workflow_run_id": row["first_workflow_run_id"],
        "workflow_run_id": row["workflow_run_id"], "artifacts_path": f"agent-runs/{row['id']}",
        "status": row["status"], "interaction": row["interaction"], "interactive": bool(row["interactive"]),
        "started_at": records.iso(row["started_at"]), "started_by": row["started_by"],
        "parent_id": row["parent_id"], "forked_from": row["forked_from"],
    })


async def get_details(request: Request) -> JSONResponse:
    services, _, row = await caller_and_run(request)
    with_history = request.query_params.get("include_history", "").lower() in ("true", "1", "yes")
    end = row["completed_at"]
    out: dict[str, Any] = {
        "status": records.TEMPORAL_STATUS.get(row["status"], "RUNNING"), "started_at": records.iso(row["started_at"]),
        "closed_at": records.iso(end), "execution_duration": (end - row["started_at"]) / 1000 if end else None,
        "run_id": row["workflow_run_id"], "workflow_id": f"AgentRun:{row['id']}", "type": records.WORKFLOW_TYPE,
        "input": json.loads(row["params"]).get("data") or {}, "result": json.loads(row["result"] or "null"),
        "pendingActivities": [], "error": row["error"],
    }
    if with_history and services.wire.hosted:
        messages = await services.store.read(lambda conn: records.list_messages(conn, row["id"]))
        out["history"] = hosted_history(messages)
    elif with_history:
        messages = await services.store.read(lambda conn: records.list_messages(conn, row["id"]))
        out["history"] = [{"event_id": index + 1, "type": item.get("t"), "message": item.get("m", ""),
                           "workstream_id": item.get("w", "main"), "timestamp": records.iso(item["ts"]),
                           "workflow_run_id": item.get("wri"), "details": item.get("d")}
                          for index, item in enumerate(messages)]
    if services.wire.hosted:  # the published WorkflowRunWithDetails has no nulls for these
        out = {key: value for key, value in out.items() if value is not None or key in ("closed_at", "started_at")}
    return JSONResponse(out)


async def get_children(request: Request) -> JSONResponse:
    services, principal, row = await caller_and_run(request)

    def job(conn: sqlite3.Connection) -> list[sqlite3.Row]:
        return conn.execute("SELECT * FROM runs WHERE parent_id = ? ORDER BY started_at, seq", (row["id"],)).fetchall()

    children = [child for child in await services.store.read(job)
                if principal.can_see(child["started_by"], child["visibility"])]
    runs = [{
        "run_id": child["id"], "agent_run_id": child["id"], "workflow_run_id": child["workflow_run_id"],
        "workflow_id": f"AgentRun:{child['id']}", "status": records.TEMPORAL_STATUS.get(child["status"], "RUNNING"),
        "started_at": records.iso(child["started_at"]), "closed_at": records.iso(child["completed_at"]),
        "type": records.WORKFLOW_TYPE, "interaction": child["interaction"],
    } for child in children]
    if services.wire.hosted:  # all children in one page: nothing more to fetch
        return JSONResponse({"runs": [hosted_child(run) for run in runs], "has_more": False})
    return JSONResponse({"runs": runs})


async def ingest_events(request: Request) -> JSONResponse:
    """Events are posted by whoever may write to the run's stream (as for `POST /updates`), and record
    that principal, never the run's owner: nobody's usage is charged to someone else."""
    services, principal, row = await caller_and_run(request)
    body = IngestEventsRequest.model_validate(await read_json(request))
    owner = row["started_by"] if row["visibility"] == "private" else None
    rows = [event_row(event, row["id"], owner, principal.id) for event in body.events]
    count = await services.store.write(lambda conn: insert_events(conn, rows))
    return JSONResponse({"ingested": count})


async def search_runs(request: Request) -> JSONResponse:
    services = services_of(request)
    principal = services.tokens.authenticate(request)
    found = await search.search(services.store, request, principal, services.wire.hosted)
    if services.wire.hosted:
        found["hits"] = [hosted_hit(hit) for hit in found["hits"]]
    return JSONResponse(found)


async def analytics_report(request: Request) -> JSONResponse:
    services = services_of(request)
    principal = services.tokens.authenticate(request)
    name = REPORT_BY_PATH.get(request.path_params["report"])
    if name is None:
        raise ServiceError(404, f"unknown analytics report; available: {', '.join(REPORTS.values())}")
    query = AnalyticsQuery.model_validate(await read_json(request))
    if name == "tool_parameters" and not query.toolName:
        raise ServiceError(400, "tools/parameters needs `toolName` in the body")
    return JSONResponse(await services.store.read(lambda conn: analytics.report(conn, name, query, principal)))
