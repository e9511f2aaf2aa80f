"""Benchmark harness: seed the demo data at each scale, run every bench module, save results.

    python bench/run.py [--scales 10000,100000] [--only NAME] [--fresh] [--seed S]

It uses the servers named by DATABASE_URL / REDIS_URL (``make bench`` starts private ones
when they are unset) but always its own database: the name in DATABASE_URL with ``_bench``
appended, created and migrated (both aliases) when missing, so dev data is never touched.
Scales accumulate: each one tops the demo data up (``seed_demo`` logic), so 10,000 then
100,000 seeds 10,000 and then 90,000 more.

Bench modules are ``bench/bench_*.py``, each with ``NAME`` and ``run(scale) -> dict`` (the
re-scoring benchmark, ``bench/rescore.py``, runs on its own: it needs a throw-away database); the
figures of every scale go to ``bench/results/<NAME>.json`` with the machine's details.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
DEFAULT_SCALES = "10000,100000"
SUFFIX = "_bench"
SEED = 42


def bench_database_url(url: str) -> str:
    """The same server and user, database name + ``_bench`` (kept if it already ends so)."""
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/")) or "postgres"
    if not name.endswith(SUFFIX):
        name += SUFFIX
    return urlunsplit(parts._replace(path="/" + name))


def _connect_params(url: str) -> dict[str, Any]:
    """psycopg connection parameters for the server in ``url``, on its ``postgres`` database."""
    parts = urlsplit(url)
    # Not parts.hostname: it lower-cases, and a socket directory arrives percent-encoded here.
    host = parts.netloc.rsplit("@", 1)[-1]
    if host.startswith("["):
        host = host[1 : host.index("]")]
    elif parts.port is not None:
        host = host.rsplit(":", 1)[0]
    params: dict[str, Any] = {"dbname": "postgres", "autocommit": True}
    if host:
        params["host"] = unquote(host)
    if parts.port:
        params["port"] = parts.port
    if parts.username:
        params["user"] = unquote(parts.username)
    if parts.password:
        params["password"] = unquote(parts.password)
    return params


def _database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def _database_ensure(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = _database_name(url)
    with psycopg.connect(**_connect_params(url)) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created database {name}.")


def _database_drop(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = _database_name(url)
    if not name.endswith(SUFFIX):
        raise SystemExit(f"Refusing to drop {name}: not a bench database.")
    with psycopg.connect(**_connect_params(url)) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        print(f"Dropped database {name}.")


def environment_prepare(*, fresh: bool) -> str:
    """Point this process at the bench database (before Django reads its settings)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synergy_portal.settings")
    os.environ.setdefault("DEBUG", "1")
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit(
            "DATABASE_URL is not set: run `make bench`, or point DATABASE_URL (and REDIS_URL) "
            "at a PostgreSQL (and Redis) server."
        )
    bench_url = bench_database_url(url)
    reporting = os.environ.get("REPORTING_DATABASE_URL", "")
    if fresh:
        _database_drop(bench_url)
    _database_ensure(bench_url)
    os.environ["DATABASE_URL"] = bench_url
    if reporting and reporting != url:
        reporting_bench = bench_database_url(reporting)
        if fresh and reporting_bench != bench_url:
            _database_drop(reporting_bench)
        _database_ensure(reporting_bench)
        os.environ["REPORTING_DATABASE_URL"] = reporting_bench
    elif reporting:
        os.environ["REPORTING_DATABASE_URL"] = bench_url
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return bench_url


def django_setup() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("migrate", database="reporting", verbosity=0, interactive=False)
    print(f"Bench database migrated ({time.perf_counter() - started:.1f} s).")


def modules_discover(only: str | None) -> list[ModuleType]:
    found = []
    for path in sorted(BENCH_DIR.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found.append(module)
    # Seeding first: it is what every other module measures against.
    found.sort(key=lambda module: (module.NAME != "seed", module.NAME))
    if only:
        found = [module for module in found if only == module.NAME]
        if not found:
            names = ", ".join(m.NAME for m in modules_discover(None))
            raise SystemExit(f"No bench module named {only!r} (have: {names}).")
    return found


def machine_info() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        postgres = cursor.fetchone()[0]
    memory_kb = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_mb": memory_kb // 1024 if memory_kb else None,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "postgres": postgres,
    }


def scale_ensure(scale: int, seed: int) -> None:
    """Top the bench data up to ``scale`` opportunities (no-op when already there)."""
    from synergy_portal.demo_seed import demo_seed

    summary = demo_seed(opportunities=scale, seed=seed)
    if summary.created:
        print(f"  seeded {summary.created:,} more ({summary.seconds:.1f} s)")


def results_write(name: str, machine: dict[str, Any], runs: list[dict[str, Any]]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    body = {
        "name": name,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "results": runs,
    }
    path.write_text(json.dumps(body, indent=2, default=str) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default=DEFAULT_SCALES, help="comma-separated, ascending")
    parser.add_argument("--only", default=None, help="run one bench module (its NAME)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--fresh", action="store_true", help="drop the bench database first")
    args = parser.parse_args(argv)
    scales = sorted(int(scale) for scale in args.scales.split(",") if scale.strip())

    url = environment_prepare(fresh=args.fresh)
    print(f"Bench database: {urlsplit(url).path.lstrip('/')}")
    django_setup()
    os.environ["SYNERGY_BENCH_SEED"] = str(args.seed)
    modules = modules_discover(args.only)
    machine = machine_info()
    collected: dict[str, list[dict[str, Any]]] = {module.NAME: [] for module in modules}
    for scale in scales:
        print(f"Scale {scale:,}:")
        for module in modules:
            if module.NAME != "seed":
                scale_ensure(scale, args.seed)
            run: Callable[[int], dict[str, Any]] = module.run
            started = time.perf_counter()
            figures = run(scale)
            figures = {
                "scale": scale,
                "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
                **figures,
            }
            collected[module.NAME].append(figures)
            print(f"  {module.NAME}: done in {time.perf_counter() - started:.1f} s")
            for line in figures.get("summary", []):
                print(f"    {line}")
    for name, runs in collected.items():
        print(f"Wrote {results_write(name, machine, runs).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
