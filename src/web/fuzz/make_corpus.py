#!/usr/bin/env python3
"""Writes the seed corpus of http_request_fuzz: the bytes a client sends on a connection
to a sluice HTTP server. The routes are those of http_request_fuzz.cc (/echo GET and POST,
/api/ prefix for any method, /boom throws, /subjects/ answers 404) plus /health and
/metrics; its limits are a 512-byte body, a 256-byte target and a 2048-byte head.

    python3 src/web/fuzz/make_corpus.py   # rewrites src/web/fuzz/corpus/*.http
"""

from __future__ import annotations

import pathlib

OUT = pathlib.Path(__file__).resolve().parent / "corpus"


def request(
    method: str,
    target: bytes,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    version: str = "HTTP/1.1",
) -> bytes:
    """One request; Host first, Content-Length added for a body unless a header sets it."""
    fields = [("Host", "127.0.0.1"), *(headers or [])]
    names = {name.lower() for name, _ in fields}
    if body and "content-length" not in names and "transfer-encoding" not in names:
        fields.append(("Content-Length", str(len(body))))
    head = f"{method} ".encode() + target + f" {version}\r\n".encode()
    head += b"".join(f"{name}: {value}\r\n".encode() for name, value in fields)
    return head + b"\r\n" + body


def chunked(*parts: bytes, trailer: bytes = b"") -> bytes:
    out = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts)
    return out + b"0\r\n" + trailer + b"\r\n"


SEEDS: dict[str, bytes] = {
    "get_health": request("GET", b"/health"),
    "get_metrics": request("GET", b"/metrics", [("Accept", "text/plain")]),
    "get_query": request("GET", b"/echo?name=Zo%C3%AB+M%C3%BCller&x=1&&flag"),
    "post_body": request("POST", b"/echo", [("Content-Type", "application/json")], b'{"a":1}'),
    "post_chunked": request(
        "POST",
        b"/echo",
        [("Transfer-Encoding", "chunked")],
        chunked(b"hello", b" world;", trailer=b"X-Trailer: 1\r\n"),
    ),
    "percent_escapes": request("GET", b"/api/caf%C3%A9/%2F%zz/a+b?%41=%42&q=%"),
    "bad_utf8_escaped": request("GET", b"/subjects/%FF%FE/versions?v=%C0%AF"),
    "bad_utf8_raw": request("GET", b"/api/\xff\xc0\xaf\xed\xa0\x80"),
    "control_escapes": request("GET", b"/boom%0D%0A[info]%20forged%00%1B[2J"),
    "long_header": request("GET", b"/api/x", [("X-Long", "a" * 2100)]),
    "many_headers": request("GET", b"/api/x", [(f"X-H{i}", str(i)) for i in range(40)]),
    "long_target": request("GET", b"/echo?name=" + b"a" * 300),
    "body_over_limit": request("POST", b"/echo", [("Content-Length", "100000")], b"x" * 64),
    "keep_alive_pipeline": request("GET", b"/echo?name=1") + request("GET", b"/health"),
    "http10": request("GET", b"/api/old", [("Connection", "keep-alive")], version="HTTP/1.0"),
    "invented_method": request("BREW", b"/api/pot", [("Accept-Additions", "milk")]),
    "absolute_form": request("GET", b"http://127.0.0.1:8080/api/x?y=1"),
    "wrong_method": request("DELETE", b"/echo"),
    "truncated_body": request("POST", b"/echo", [("Content-Length", "10")], b"abc"),
    "bad_chunk": request("POST", b"/echo", [("Transfer-Encoding", "chunked")], b"zz\r\nab\r\n"),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in SEEDS.items():
        (OUT / f"{name}.http").write_bytes(data)
    print(f"wrote {len(SEEDS)} seeds to {OUT}")


if __name__ == "__main__":
    main()
