"""`mcp-agents doctor` on TLS: an untrusted certificate fails with the SSL_CERT_FILE fix, and that fix works.

The API is a tiny HTTPS stub on 127.0.0.1 with a throw-away self-signed certificate (made with the
`openssl` command), answering the token exchange and the run list.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mcp_agents.settings import Settings
from mcp_agents.setup.clients import Platform
from mcp_agents.setup.doctor import diagnose


class _StubAPI(BaseHTTPRequestHandler):
    def _json(self, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # the token exchange
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._json({"token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0In0.", "expires_in": 600})

    def do_GET(self) -> None:  # the run list
        self._json([])

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def https_api(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubAPI)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


async def test_untrusted_certificate_fails_with_the_ssl_cert_file_hint(
        https_api: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = https_api
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    settings = Settings(api_key="sk-tls-0123456789ab", api_url=f"{url}/api/v1", sts_url=url)
    checks = {c.name: c for c in await diagnose(settings, Platform(tmp_path, tmp_path, "linux", {}), 10.0)}
    assert checks["token service"].status == "fail"
    assert checks["TLS trust"].status == "fail" and "SSL_CERT_FILE" in checks["TLS trust"].detail


async def test_ssl_cert_file_makes_the_certificate_trusted(
        https_api: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, cert = https_api
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    settings = Settings(api_key="sk-tls-0123456789ab", api_url=f"{url}/api/v1", sts_url=url)
    checks = {c.name: c for c in await diagnose(settings, Platform(tmp_path, tmp_path, "linux", {}), 10.0)}
    assert [checks[name].status for name in ("token service", "API", "TLS trust")] == ["ok", "ok", "ok"]
    assert str(cert) in checks["TLS trust"].detail
