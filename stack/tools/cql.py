"""Small CQL helper for the launcher: check that Cassandra answers, apply a .cql file.

Used by `sluice up` through the Python cassandra-driver until the project's own CQL
client (src/cql) serves the launcher. With --user (the secured stack) it logs in with
the password in SLUICE_CQL_PASSWORD, creating that role at the first start.
"""

import argparse
import os
import re
import ssl
import sys
from pathlib import Path

from cassandra import AuthenticationFailed
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster, NoHostAvailable, Session


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


def connect(
    host: str,
    port: int,
    user: str | None = None,
    password: str | None = None,
    ca_file: Path | None = None,
) -> Session:
    options: dict = {}
    if user is not None:
        options["auth_provider"] = PlainTextAuthProvider(user, password or "")
    if ca_file is not None:
        context = ssl.create_default_context(cafile=str(ca_file))
        options["ssl_context"] = context
        options["ssl_options"] = {"server_hostname": host}
    cluster = Cluster([host], port=port, connect_timeout=5, protocol_version=5, **options)
    return cluster.connect()


def connect_as_stack_role(args: argparse.Namespace) -> Session:
    """A session as the secured stack's role. At the first start the role does not exist:
    log in as Cassandra's default superuser, create the role (a superuser, with the
    password from SLUICE_CQL_PASSWORD), then take the default role's login away and give
    it the random password in SLUICE_CQL_RETIRED_PASSWORD."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.user):
        raise SystemExit(f"cql: --user '{args.user}' is not a plain role name")
    password = os.environ.get("SLUICE_CQL_PASSWORD", "")
    if not password:
        raise SystemExit("cql: --user needs the password in SLUICE_CQL_PASSWORD")
    try:
        return connect(args.host, args.port, args.user, password, args.tls_ca)
    except NoHostAvailable as exc:
        if not any(isinstance(e, AuthenticationFailed) for e in exc.errors.values()):
            raise
    default = connect(args.host, args.port, "cassandra", "cassandra", args.tls_ca)
    create_role = (
        f"CREATE ROLE IF NOT EXISTS {args.user} "
        "WITH PASSWORD = %s AND SUPERUSER = true AND LOGIN = true"
    )
    default.execute(create_role, (password,))
    default.cluster.shutdown()
    session = connect(args.host, args.port, args.user, password, args.tls_ca)
    retired = os.environ.get("SLUICE_CQL_RETIRED_PASSWORD") or os.urandom(24).hex()
    session.execute(
        "ALTER ROLE cassandra WITH PASSWORD = %s AND SUPERUSER = false AND LOGIN = false",
        (retired,),
    )
    print(f"created role {args.user}; the default role cassandra can no longer log in")
    return session


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["check", "apply"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9042)
    parser.add_argument("--file", type=Path)
    parser.add_argument("--user", help="role to log in as (password in SLUICE_CQL_PASSWORD)")
    parser.add_argument("--tls-ca", type=Path, help="connect with TLS trusting this PEM CA")
    args = parser.parse_args()
    try:
        if args.user:
            session = connect_as_stack_role(args)
        else:
            session = connect(args.host, args.port, ca_file=args.tls_ca)
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
