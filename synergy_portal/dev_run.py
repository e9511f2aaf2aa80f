"""``make run``: the whole portal on one machine.

Starts (or reuses) PostgreSQL and Redis, migrates both database aliases, loads the demo data,
then runs the web server, a Celery worker and Celery beat until interrupted, and stops
everything it started on the way out.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from synergy_portal.devservices import BASE_DIR, ensure_services


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
    parser.add_argument("--opportunities", default=os.environ.get("DEMO_OPPORTUNITIES", "300"))
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synergy_portal.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("SYNERGY_DEV_LOGIN", "1")
    os.environ.setdefault("SECURE_COOKIES", "0")
    os.environ.setdefault("PORTAL_BASE_URL", f"http://{args.host}:{args.port}")
    exported = ensure_services()
    for key, value in exported.items():
        print(f"  {key}={value}  (private server under .data/)")

    _manage("migrate", "--noinput", "-v", "0")
    _manage("migrate", "--database", "reporting", "--noinput", "-v", "0")
    _manage("seed_demo", "--opportunities", str(args.opportunities))
    # Load the DDI schema once so the dashboards have figures at once; beat refreshes it
    # every 15 minutes and publishes the nightly batch with its files.
    _manage("run_extract", "--full")

    celery = [sys.executable, "-m", "celery", "-A", "synergy_portal.celery"]
    children = [
        subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"{args.host}:{args.port}", "--noreload"],
            cwd=BASE_DIR,
        ),
        subprocess.Popen([*celery, "worker", "-l", "INFO", "--concurrency", "2"], cwd=BASE_DIR),
        subprocess.Popen(
            [
                *celery,
                "beat",
                "-l",
                "INFO",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
            ],
            cwd=BASE_DIR,
        ),
    ]
    url = f"http://{args.host}:{args.port}/"
    print(
        "\n"
        f"Synergy Portal is running at {url}\n"
        f"Sign in at {url}accounts/login/ as a demo user (no password):\n"
        "  staff    – an officer who submits and supports opportunities\n"
        "  ci       – the Continuous Improvement team (triage, scoring, board)\n"
        "  owner    – a journey owner\n"
        "  manager  – a senior leader (MI dashboards)\n"
        "  admin    – a portal administrator (also /admin/)\n"
        "Press Ctrl-C to stop the web server, worker, beat and the private servers.\n",
        flush=True,
    )

    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for child in children:
            if child.poll() is not None:
                print(f"A process exited ({' '.join(map(str, child.args[:4]))}): stopping.")
                exit_code = child.returncode or 1
                stopping = True
        time.sleep(0.5)
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
