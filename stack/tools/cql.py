"""Small CQL helper for the launcher: check that Cassandra answers, apply a .cql file.

Used by `sluice up` through the Python cassandra-driver until the project's own CQL
client (src/cql) serves the launcher.
"""

import argparse
import sys
from pathlib import Path

from cassandra.cluster import Cluster, Session


def split_statements(text: str) -> list[str]:
    """Splits CQL text on semicolons outside quotes, dropping -- and // comments."""
    statements: list[str] = []
    current: list[str] = []
    quote: str | None = None
    for line in text.splitlines():
        i = 0
        while i < len(line):
            ch = line[i]
            if quote:
                current.append(ch)
                if ch == quote:
                    quote = None
            elif ch in ("'", '"'):
                quote = ch
                current.append(ch)
            elif line.startswith("--", i) or line.startswith("//", i):
                break
            elif ch == ";":
                statement = "".join(current).strip()
                if statement:
                    statements.append(statement)
                current = []
            else:
                current.append(ch)
            i += 1
        current.append("\n")
    tail = "".join(current).strip()
    if tail:
        statements.append(tail)
    return statements


def connect(host: str, port: int) -> Session:
    cluster = Cluster([host], port=port, connect_timeout=5, protocol_version=5)
    return cluster.connect()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["check", "apply"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9042)
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    try:
        session = connect(args.host, args.port)
        if args.command == "check":
            row = session.execute("SELECT release_version FROM system.local").one()
            print(f"cassandra {row.release_version}")
            return 0
        if args.file is None:
            print("apply needs --file", file=sys.stderr)
            return 2
        for statement in split_statements(args.file.read_text()):
            session.execute(statement, timeout=60)
        print(f"applied {args.file}")
        return 0
    except Exception as exc:  # noqa: BLE001 - one clear line for the launcher's log
        print(f"cql {args.command} on {args.host}:{args.port} failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
