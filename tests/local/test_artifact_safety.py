"""Artifacts: edge cases are clear 4xx (never a 500, never a stray temporary file), concurrent writers of
one path all succeed, uploaded pages never run on the service's origin, and files are private."""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import anyio
import httpx2
import pytest

from mcp_agents.local import LocalServiceConfig, RunningService, run_local_service
from mcp_agents.local.artifacts import ARTIFACT_CSP
from tests.local.helpers import RawConnection, client, issue_token


async def new_run(api: httpx2.AsyncClient, visibility: str = "project") -> str:
    answer = await api.post("/agents", json={"interaction": "Echo", "data": {"task": "x"}, "visibility": visibility})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def leftovers(data_dir: Path) -> list[Path]:
    return [path for path in (data_dir / "artifacts").rglob("*") if path.name.endswith(".tmp")]


async def put(api: httpx2.AsyncClient, run_id: str, path: str, content: bytes, kind: str = "text/plain"
              ) -> httpx2.Response:
    return await api.put(f"/agents/{run_id}/artifacts/{path}", content=content, headers={"Content-Type": kind})


async def test_file_and_folder_collisions_are_conflicts(local_service: RunningService, api: httpx2.AsyncClient
                                                        ) -> None:
    run_id = await new_run(api)
    assert (await put(api, run_id, "a", b"file")).status_code == 201
    assert (await put(api, run_id, "d/inside.txt", b"x")).status_code == 201
    for path in ("a/b", "d"):
        answer = await put(api, run_id, path, b"conflict")
        assert answer.status_code == 409 and "conflicts" in answer.json()["message"], answer.text
    assert leftovers(local_service.data_dir) == []
    assert (await api.get(f"/agents/{run_id}/artifacts/a")).content == b"file"
    assert (await api.get(f"/agents/{run_id}/artifacts/d/inside.txt")).content == b"x"


async def test_names_over_255_bytes_are_refused(local_service: RunningService, api: httpx2.AsyncClient) -> None:
    run_id = await new_run(api)
    for path in ("n" * 256, "é" * 128, f"dir/{'x' * 300}.txt", f"{'y' * 300}/file.txt"):
        answer = await put(api, run_id, path, b"x")
        assert answer.status_code == 400 and "255 bytes" in answer.json()["message"], answer.text
        assert (await api.get(f"/agents/{run_id}/artifacts/{path}")).status_code == 400
    assert (await put(api, run_id, "n" * 255, b"x")).status_code == 201
    assert leftovers(local_service.data_dir) == []


async def test_concurrent_writers_of_one_path_all_succeed_and_the_last_wins(local_service: RunningService,
                                                                           api: httpx2.AsyncClient) -> None:
    run_id = await new_run(api)
    statuses: list[int] = []

    async def writer(index: int) -> None:
        body = f"writer {index} ".encode() * (index + 1) * 1000
        statuses.append((await put(api, run_id, "shared/out.txt", body)).status_code)

    for _ in range(3):
        async with anyio.create_task_group() as group:
            for index in range(8):
                group.start_soon(writer, index)
    assert statuses == [201] * 24
    got = await api.get(f"/agents/{run_id}/artifacts/shared/out.txt")
    index = int(got.content.split()[1])
    assert got.content == f"writer {index} ".encode() * (index + 1) * 1000  # whole, from one writer
    assert leftovers(local_service.data_dir) == []


def signed_with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return parts._replace(query=urlencode(query)).geturl()


async def test_malformed_signed_url_expiries_are_refused(local_service: RunningService, api: httpx2.AsyncClient
                                                         ) -> None:
    run_id = await new_run(api)
    await put(api, run_id, "r.txt", b"report")
    url = (await api.get(f"/agents/{run_id}/artifacts/r.txt", params={"url": "1"})).json()["url"]
    async with httpx2.AsyncClient(timeout=10) as anonymous:
        assert (await anonymous.get(url)).content == b"report"
        for expires in ("²", "1" * 5000, "٣٣٣٣٣٣٣٣٣٣", "-1", "1e20", ""):
            answer = await anonymous.get(signed_with(url, expires=expires))
            assert answer.status_code == 403, (expires[:20], answer.text)


@pytest.mark.parametrize(("kind", "name"), [("text/html", "page.html"), ("TEXT/HTML; charset=utf-8", "p.htm"),
                                            ("image/svg+xml", "chart.svg"), ("application/xml", "d.xml"),
                                            ("application/xhtml+xml", "x.xhtml"), ("text/xml", "t.xml")])
async def test_active_types_are_attachments_with_nosniff_and_a_sandbox(api: httpx2.AsyncClient, kind: str,
                                                                        name: str) -> None:
    run_id = await new_run(api)
    assert (await put(api, run_id, name, b"<script>alert(1)</script>", kind)).status_code == 201
    url = (await api.get(f"/agents/{run_id}/artifacts/{name}", params={"url": "1", "disposition": "inline"})).json()
    async with httpx2.AsyncClient(timeout=10) as anonymous:
        for answer in (await anonymous.get(url["url"]), await api.get(f"/agents/{run_id}/artifacts/{name}")):
            assert answer.status_code == 200
            assert answer.headers["content-disposition"].startswith("attachment;")
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["content-security-policy"] == ARTIFACT_CSP
            assert "sandbox" in answer.headers["content-security-policy"]


async def test_passive_types_stay_inline_with_nosniff_and_a_sandbox(api: httpx2.AsyncClient) -> None:
    run_id = await new_run(api)
    await put(api, run_id, "notes.txt", b"<html>not run</html>", "text/plain")
    answer = await api.get(f"/agents/{run_id}/artifacts/notes.txt")
    assert answer.headers["content-disposition"].startswith("inline;")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in answer.headers["content-security-policy"]


async def test_the_connection_stays_usable_after_artifact_errors(local_service: RunningService,
                                                                 api: httpx2.AsyncClient) -> None:
    run_id = await new_run(api)
    auth = {"Authorization": api.headers["Authorization"]}
    base = f"/api/v1/agents/{run_id}/artifacts"
    connection = await RawConnection.open(local_service.port)
    try:
        assert (await connection.request("PUT", f"{base}/a", b"file", auth))[0] == 201
        for method, path in (("PUT", f"{base}/a/b"), ("PUT", f"{base}/{'n' * 300}"), ("GET", f"{base}/missing.txt"),
                             ("GET", f"{base}/a?signature=x&expires=%C2%B2")):
            status, _, body = await connection.request(method, path, b"some body" if method == "PUT" else b"", auth)
            assert 400 <= status < 500, (path[:60], status, body)
        status, _, body = await connection.request("GET", f"{base}/a", headers=auth)
        assert (status, body) == (200, b"file")
    finally:
        await connection.close()


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
async def service_under_umask(tmp_path: Path, anyio_backend: str, umask_022: None) -> AsyncIterator[RunningService]:
    async with run_local_service(LocalServiceConfig(data_dir=tmp_path / "fresh" / "data")) as service:
        yield service


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_files_are_private_whatever_the_umask(service_under_umask: RunningService) -> None:
    service = service_under_umask
    async with client(service, await issue_token(service, service.api_key)) as api:
        run_id = await new_run(api, "private")
        assert (await put(api, run_id, "secret/plan.md", b"private")).status_code == 201
        await api.post(f"/agents/{run_id}/updates", json={"message": "private text"})
        data = service.data_dir
        assert mode(data) == 0o700 and mode(data.parent) == 0o700
        files = [path for path in data.rglob("*") if path.is_file()]
        folders = [path for path in data.rglob("*") if path.is_dir()]
        names = {path.name for path in files}
        assert {"agent-runs.sqlite3", "agent-runs.sqlite3-wal", "plan.md", "jwt_secret", "dev_api_key"} <= names
        assert {str(path.relative_to(data)): oct(mode(path)) for path in files if mode(path) != 0o600} == {}
        assert {str(path.relative_to(data)): oct(mode(path)) for path in folders if mode(path) != 0o700} == {}
