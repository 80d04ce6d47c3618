"""Health checks against small local stand-ins: a registry and a processor over HTTP, a
CQL node answering OPTIONS; and against closed ports, where each message says what to do."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sluice_airflow.config import load_settings
from sluice_airflow.health import (
    CQL_OPTIONS,
    UnhealthyError,
    check_cassandra,
    check_kafka,
    check_processor,
    check_registry,
    require_healthy,
    run_checks,
)

ROUTES: dict[str, tuple[int, Any]] = {
    "/subjects": (200, ["users.raw-value"]),
    "/health": (200, {"status": "ok", "service": "sluice-process", "uptime_seconds": 42}),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body = self.server.routes.get(self.path, (404, {"error": "no"}))  # type: ignore[attr-defined]
        self.send_response(status)
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http() -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.routes = dict(ROUTES)  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def url(server: HTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_port}"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_registry_and_processor_healthy(http: HTTPServer) -> None:
    assert check_registry(url(http), 2).ok
    result = check_processor(url(http), 2)
    assert result.ok and "42" in result.detail


def test_processor_that_is_another_service_is_named(http: HTTPServer) -> None:
    http.routes["/health"] = (200, {"status": "ok", "service": "sluice-api"})  # type: ignore[attr-defined]
    assert "sluice-api, not sluice-process" in check_processor(url(http), 2).detail


def test_registry_error_status_points_at_its_log(http: HTTPServer) -> None:
    http.routes["/subjects"] = (500, {"error_code": 50001})  # type: ignore[attr-defined]
    detail = check_registry(url(http), 2).detail
    assert "answered 500" in detail and "registry.log" in detail


def test_nothing_listening_says_how_to_start_it() -> None:
    port = closed_port()
    assert "`sluice up` starts it" in check_registry(f"http://127.0.0.1:{port}", 2).detail
    assert "sluice process" in check_processor(f"http://127.0.0.1:{port}", 2).detail
    assert "`sluice up` starts it" in check_cassandra("127.0.0.1", port, 2).detail


def serve_once(answer: Callable[[bytes], bytes]) -> int:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def run() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(answer(conn.recv(9)))
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    return int(listener.getsockname()[1])


def test_cassandra_answering_supported_is_healthy() -> None:
    def supported(request: bytes) -> bytes:
        assert request == CQL_OPTIONS
        return struct.pack(">BBhBi", 0x84, 0, 0, 0x06, 0)

    result = check_cassandra("127.0.0.1", serve_once(supported), 2)
    assert result.ok and "v4" in result.detail


def test_a_port_that_does_not_speak_cql_is_named() -> None:
    result = check_cassandra("127.0.0.1", serve_once(lambda r: b"HTTP/1.1 400 Bad\r\n"), 2)
    assert not result.ok and "does not speak the CQL native protocol" in result.detail


def test_kafka_unreachable_is_reported_with_a_hint() -> None:
    result = check_kafka(f"127.0.0.1:{closed_port()}", "users.raw", 1)
    assert not result.ok and "`sluice up` starts it" in result.detail


def test_all_failures_are_named_at_once(http: HTTPServer) -> None:
    port = closed_port()
    settings = load_settings(
        {
            "bootstrap": f"127.0.0.1:{port}",
            "registry_url": url(http),
            "cassandra_port": port,
            "processor_url": url(http),
            "health_timeout_s": 1,
        },
        environ={},
    )
    results = run_checks(settings)
    with pytest.raises(UnhealthyError) as raised:
        require_healthy(results)
    message = str(raised.value)
    assert message.startswith("2 of 4 dependencies are unhealthy")
    assert f"Kafka at 127.0.0.1:{port}" in message and f"Cassandra at 127.0.0.1:{port}" in message
