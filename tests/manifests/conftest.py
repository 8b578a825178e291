"""A local HTTP server on 127.0.0.1 (random port) for the download tests.

Routes (``<name>`` is a key of ``server.files``):

- ``/files/<name>``: ranges honoured (``206``), ``ETag`` sent, ``If-Range`` checked;
- ``/norange/<name>``: ``Range`` ignored, always the whole file (``200``);
- ``/flaky/<name>``: the first request announces the full length, sends half, and drops
  the connection; later requests behave like ``/files``;
- ``/redirect/<name>``: ``302`` to ``/files/<name>``;
- ``/busy/<name>``: ``503`` once, then like ``/files``;
- ``/raw/<key>``: ``server.raw[key]`` as is (JSON records, checksum lists);
- anything else: ``404``.

Every request is logged in ``server.log`` as ``(path, range header)``.
"""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        srv = self.server
        srv.log.append((self.path, self.headers.get("Range")))
        parts = self.path.strip("/").split("/", 1)
        if len(parts) != 2:
            return self._send(404, b"not found")
        route, name = parts
        if route == "raw" and name in srv.raw:
            return self._send(200, srv.raw[name])
        if name not in srv.files:
            return self._send(404, b"not found")
        data = srv.files[name]
        etag = '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'
        if route == "redirect":
            self.send_response(302)
            self.send_header("Location", f"/files/{name}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if route == "norange":
            return self._send(200, data, {"ETag": etag})
        if route == "busy":
            key = ("busy", name)
            if key not in srv.seen:
                srv.seen.add(key)
                return self._send(503, b"busy")
        if route == "flaky":
            key = ("flaky", name)
            if key not in srv.seen:
                srv.seen.add(key)
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return None
        if route not in ("files", "flaky", "busy"):
            return self._send(404, b"not found")
        rng = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if rng and rng.startswith("bytes=") and (if_range is None or if_range == etag):
            start = int(rng[6:].split("-", 1)[0])
            if start >= len(data):
                return self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
            body = data[start:]
            headers = {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}", "ETag": etag}
            return self._send(206, body, headers)
        return self._send(200, data, {"ETag": etag, "Accept-Ranges": "bytes"})


class LocalServer:
    """Handle on the running server: its base URL, served files and request log."""

    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.files = {}
        self.httpd.raw = {}
        self.httpd.log = []
        self.httpd.seen = set()
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def files(self) -> dict[str, bytes]:
        return self.httpd.files

    @property
    def raw(self) -> dict[str, bytes]:
        return self.httpd.raw

    @property
    def log(self) -> list[tuple[str, str | None]]:
        return self.httpd.log


@pytest.fixture
def server():
    """Start a threaded HTTP server on 127.0.0.1 (random port); stop it afterwards."""
    srv = LocalServer()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()
        srv.thread.join(timeout=5)


@pytest.fixture
def payload() -> bytes:
    """A few hundred KB of deterministic, non-repeating bytes."""
    chunks = [hashlib.sha256(str(i).encode()).digest() for i in range(12_000)]
    return b"".join(chunks)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Keep every test away from the user's cache and manifest folders."""
    monkeypatch.setenv("VARINTERP_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("VARINTERP_MANIFESTS", raising=False)
