"""Handlers of the run endpoints: create, list, get, terminate, restart, fork, signal, query, updates."""

from __future__ import annotations

import base64
import gzip
import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mcp_agents.local import records
from mcp_agents.local.config import LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT
from mcp_agents.local.errors import ServiceError
from mcp_agents.local.keys import Principal
from mcp_agents.local.limits import read_body
from mcp_agents.local.sse import parse_since
from mcp_agents.models import RUN_STATUSES, CreateAgentRunRequest, PostUpdateRequest, parse_type
from mcp_agents.models.runs import RunConfig

if TYPE_CHECKING:
    import sqlite3

    from mcp_agents.local.app import Services


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def read_json(request: Request) -> Any:
    """The JSON body (an empty body is `{}`), bounded while it streams in and checked by `limits`."""
    bounds = services_of(request).limits
    body = await read_body(request, bounds.body_bytes)
    return bounds.parse_json(body) if body.strip() else {}


def accepts_gzip(header: str) -> bool:
    """Whether an `Accept-Encoding` names gzip with a weight above 0 (`gzip;q=0` refuses it)."""
    for item in header.lower().split(","):
        coding, _, params = item.partition(";")
        if coding.strip() != "gzip":
            continue
        weight = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
        try:
            return float(weight) > 0
        except ValueError:
            return False
    return False


def gzipped(request: Request, response: Response) -> Response:
    """The answer gzip-encoded when the caller accepts it, as the hosted service sends `/updates`."""
    if not accepts_gzip(request.headers.get("accept-encoding", "")):
        return response
    body = gzip.compress(bytes(response.body), compresslevel=5)
    headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return Response(body, media_type="application/json", headers=headers)


async def caller_and_run(request: Request) -> tuple[Services, Principal, sqlite3.Row]:
    """Authenticate, then load the run of the path (404 when missing or not visible)."""
    services = services_of(request)
    principal = services.tokens.authenticate(request)
    run_id = request.path_params["run_id"]
    row = await services.store.read(lambda conn: records.visible_run(conn, run_id, principal))
    services.runtime.remember_access(run_id, row["started_by"], row["visibility"])
    return services, principal, row


async def caller_and_run_id(request: Request) -> tuple[Services, Principal, str]:
    """Like `caller_and_run` for handlers that need only the run's id: access is checked from memory."""
    services = services_of(request)
    principal = services.tokens.authenticate(request)
    run_id: str = request.path_params["run_id"]
    known = services.runtime.access.get(run_id)
    if known is None:
        await caller_and_run(request)
    elif not principal.can_see(*known):
        raise ServiceError(404, f"agent run {run_id!r} not found")
    return services, principal, run_id


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ServiceError(400, f"{name} must be an integer between {low} and {high}") from None
    if not low <= value <= high:
        raise ServiceError(400, f"{name} must be between {low} and {high}, not {value}")
    return value


def multi_param(request: Request, name: str) -> list[str]:
    """A multi-valued filter: repeated parameters (the hosted form), each also comma-separated in the seed's."""
    values = request.query_params.getlist(name)
    if not services_of(request).wire.hosted:
        values = [item for value in values for item in value.split(",")]
    return [item.strip() for item in values if item.strip()]


def status_param(request: Request) -> list[str]:
    values = multi_param(request, "status")
    unknown = [item for item in values if item not in RUN_STATUSES]
    if unknown:
        raise ServiceError(400, f"unknown status {', '.join(unknown)}; use {', '.join(RUN_STATUSES)}")
    return values


def run_filters(request: Request, principal: Principal) -> tuple[list[str], list[Any]]:
    """SQL conditions shared by list and search: visibility first, then the query's filters."""
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    if not principal.is_superadmin:
        where.append("(r.visibility != 'private' OR r.started_by = ?)")
        args.append(principal.id)
    statuses = status_param(request)
    if statuses:
        where.append(f"r.status IN ({','.join('?' * len(statuses))})")
        args.extend(statuses)
    query = request.query_params
    if query.get("interaction"):
        where.append("r.interaction = ? COLLATE NOCASE")
        args.append(query["interaction"].partition("@")[0])
    if query.get("started_by"):
        where.append("r.started_by = ?")
        args.append(query["started_by"])
    if query.get("id"):
        where.append("r.id = ?")
        args.append(query["id"])
    if query.get("since"):
        where.append("r.started_at > ?")
        args.append(records.parse_time(query["since"], "since"))
    if query.get("until"):
        where.append("r.started_at <= ?")
        args.append(records.parse_time(query["until"], "until"))
    return where, args


# What every local run is, as the hosted wire describes it (`wire.hosted_run`): a filter for anything else
# matches nothing, and local runs have no schedule
_HOSTED_KINDS = {"run_kind": {"agent"}, "type": {"api"}, "run_type": {"autonomous"}}


def hosted_filters(request: Request) -> list[str]:
    """The published list filters on what the local service runs (all autonomous agent runs started by API)."""
    query = request.query_params
    excluded = bool(query.get("schedule_id")) or any(
        (wanted := set(query.getlist(name))) and not wanted & kinds for name, kinds in _HOSTED_KINDS.items())
    return ["0 = 1"] if excluded else []


def _fields_we_act_on(payload: Any) -> Any:
    """A create body the published schema accepted, without what the local service has no use for (model
    options, skills, denylists, a `started_by`): the request model refuses unknown fields, the schema does not."""
    if not isinstance(payload, dict):
        return payload
    out = {name: value for name, value in payload.items() if name in CreateAgentRunRequest.model_fields}
    if isinstance(out.get("config"), dict):
        out["config"] = {name: value for name, value in out["config"].items() if name in RunConfig.model_fields}
    return out


async def create_run(request: Request) -> JSONResponse:
    services = services_of(request)
    principal = services.tokens.authenticate(request)
    payload = await read_json(request)
    body = CreateAgentRunRequest.model_validate(_fields_we_act_on(payload) if services.wire.hosted else payload)
    run = await services.runtime.create(principal.id, body)
    return JSONResponse(services.wire.run(run))


async def list_runs(request: Request) -> JSONResponse:
    services = services_of(request)
    principal = services.tokens.authenticate(request)
    limit = int_param(request, "limit", LIST_DEFAULT_LIMIT, 1, LIST_MAX_LIMIT)
    offset = int_param(request, "offset", 0, 0, 10_000_000)
    sort = request.query_params.get("sort") or "started_at"
    order = (request.query_params.get("order") or "desc").lower()
    if sort not in ("started_at", "updated_at"):
        raise ServiceError(400, "sort must be started_at or updated_at")
    if order not in ("asc", "desc"):
        raise ServiceError(400, "order must be asc or desc")
    where, args = run_filters(request, principal)
    if services.wire.hosted:
        where += hosted_filters(request)
        return JSONResponse(await _keyset_page(services, request, where, args, sort, order, limit, offset))
    clause = " AND ".join(where)

    def job(conn: sqlite3.Connection) -> tuple[list[dict[str, Any]], int]:
        total = int(conn.execute(f"SELECT count(*) FROM runs r WHERE {clause}", args).fetchone()[0])
        rows = conn.execute(f"SELECT * FROM runs r WHERE {clause} ORDER BY r.{sort} {order}, r.seq {order} "
                            "LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return [records.run_to_wire(row) for row in rows], total

    runs, total = await services.store.read(job)
    return JSONResponse(runs, headers={"X-Total-Count": str(total)})


async def _keyset_page(services: Services, request: Request, where: list[str], args: list[Any], sort: str,
                       order: str, limit: int, offset: int) -> dict[str, Any]:
    """The hosted envelope `{items, total_count, next_cursor}`: the cursor holds the last row's sort key,
    so a page is stable while runs are added (an offset would shift)."""
    clause = " AND ".join(where)
    page_where, page_args = list(where), list(args)
    cursor = request.query_params.get("cursor")
    if cursor:
        value, seq = decode_cursor(cursor)
        page_where.append(f"(r.{sort}, r.seq) {'<' if order == 'desc' else '>'} (?, ?)")
        page_args.extend([value, seq])
        offset = 0
    page_clause = " AND ".join(page_where)

    def job(conn: sqlite3.Connection) -> tuple[list[sqlite3.Row], int]:
        total = int(conn.execute(f"SELECT count(*) FROM runs r WHERE {clause}", args).fetchone()[0])
        rows = conn.execute(f"SELECT * FROM runs r WHERE {page_clause} ORDER BY r.{sort} {order}, r.seq {order} "
                            "LIMIT ? OFFSET ?", [*page_args, limit + 1, offset]).fetchall()
        return rows, total

    rows, total = await services.store.read(job)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1][sort], rows[-1]["seq"]) if more and rows else None
    return {"items": [services.wire.run(records.run_to_wire(row)) for row in rows], "total_count": total,
            "next_cursor": next_cursor}


def encode_cursor(value: int, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{int(value)}.{int(seq)}".encode()).decode().rstrip("=")


_CURSOR = re.compile(r"(-?[0-9]{1,15})\.([0-9]{1,18})")  # a time in ms and a row id, both SQLite integers


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        found = _CURSOR.fullmatch(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        found = None
    if found is None:
        raise ServiceError(400, "cursor is not one this service returned; omit it to start from the first page")
    return int(found[1]), int(found[2])


async def get_run(request: Request) -> JSONResponse:
    services, _, row = await caller_and_run(request)
    return JSONResponse(services.wire.run(records.run_to_wire(row)))


async def terminate_run(request: Request) -> JSONResponse:
    services, _, row = await caller_and_run(request)
    reason = request.query_params.get("reason") or None
    await services.runtime.terminate(row, reason)
    answer = {"message": "Agent run terminated"}
    if reason:
        answer["reason"] = reason
    return JSONResponse(answer)


async def restart_run(request: Request) -> JSONResponse:
    services, _, row = await caller_and_run(request)
    return JSONResponse(services.wire.run(await services.runtime.restart(row["id"])))


async def fork_run(request: Request) -> JSONResponse:
    services, principal, row = await caller_and_run(request)
    return JSONResponse(services.wire.run(await services.runtime.fork(row, principal.id)))


async def send_signal(request: Request) -> JSONResponse:
    services, _, row = await caller_and_run(request)
    name = request.path_params["name"]
    payload = await read_json(request)
    if not isinstance(payload, dict):
        raise ServiceError(400, "the signal payload must be a JSON object")
    if name == "UserInput" and not isinstance(payload.get("message"), str):
        raise ServiceError(400, "UserInput needs {\"message\": \"<text>\"}")
    if name == "FileUploaded" and not (isinstance(payload.get("id"), str) and isinstance(payload.get("name"), str)):
        raise ServiceError(400, "FileUploaded needs {\"id\": \"<file id>\", \"name\": \"<file name>\"}")
    services.runtime.signal(row, name, payload)
    return JSONResponse({"status": "success", "message": f"Signal {name} sent"})


async def query_run(request: Request) -> JSONResponse:
    services, _, row = await caller_and_run(request)
    return JSONResponse(services.runtime.query(row, request.path_params["name"]))


async def get_updates(request: Request) -> Response:
    services, _, row = await caller_and_run(request)
    since = parse_since(request.query_params.get("since"))
    messages = await services.store.read(lambda conn: records.list_messages(conn, row["id"], since))
    answer = JSONResponse({"messages": services.wire.messages(messages)})
    if services.wire.hosted:
        return gzipped(request, answer)
    return answer


async def post_update(request: Request) -> JSONResponse:
    services, _, run_id = await caller_and_run_id(request)
    body = PostUpdateRequest.model_validate(await read_json(request))
    kind = parse_type(body.type)
    item: dict[str, Any] = {"t": kind.value if kind else "UPDATE"}
    if kind is None:
        item["raw_type"] = body.type
    if body.message:
        item["m"] = body.message
    if body.details is not None:
        item["d"] = body.details
    if body.workstream_id and body.workstream_id != "main":
        item["w"] = body.workstream_id
    if body.timestamp is not None:
        item["ts"] = int(body.timestamp)  # the producer's clock, as the hosted service keeps it
    await services.runtime.post(run_id, [item])
    return JSONResponse({"success": True}, status_code=201 if services.wire.hosted else 200)
