"""Benchmark: `collectbot report` while a long import writes, against the same report at rest.

    .venv/bin/python bench/read_during_import.py [--rows 1000000] [--seed-rows 100000]

On SQLite: a ledger of SEED rows is imported and committed; `collectbot report --json` is run
three times at rest (the floor: process start included), and its work in this process three
times. Then `collectbot import invoices` of ROWS more rows starts in its own process; once it
holds the write lock, both run three times again. Prints the medians, the ratios, whether the
figures during the import were exactly those at rest, and whether the import was still
running at the end (the machine's cores are shared with the import).
Target: the report during the import answers within a second and within 1.5x of the floor.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
assert _spec is not None and _spec.loader is not None
bench_import = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_import)
TODAY = bench_import.TODAY

from bot.db import Database  # noqa: E402 - after the path is set
from bot.importer.lock import import_running  # noqa: E402


def _cli(url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, text=True,
                            env={**os.environ, "DATABASE_URL": url},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _report(url: str) -> tuple[float, str]:
    started = time.perf_counter()
    process = _cli(url, "report", "--json", "--as-of", TODAY.isoformat())
    out, err = process.communicate(timeout=120)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"report failed: {err.strip()}")
    return elapsed, out


def _in_process(url: str) -> float:
    """The report's own work: a fresh engine, the read-only unit of work, the figures."""
    from bot.db import Database
    from bot.services.report import aging_report, report_json

    started = time.perf_counter()
    database = Database(url)
    with database.uow(read_only=True) as uow:
        report_json(aging_report(uow.session, TODAY))
    database.dispose()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed-rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        database = workdir / "ledger.sqlite3"
        url = f"sqlite:///{database}"
        seed, big = workdir / "seed.csv", workdir / "big.csv"
        bench_import.generate(seed, args.seed_rows, max(args.seed_rows // 10, 1))
        bench_import.generate(big, args.rows + args.seed_rows, max(args.rows // 10, 1))
        loaded = _cli(url, "import", "invoices", str(seed), "--today", TODAY.isoformat())
        if loaded.wait() != 0:
            raise SystemExit("seed import failed")
        at_rest = [_report(url) for _ in range(3)]
        rest_inside = statistics.median(_in_process(url) for _ in range(3))
        importing = _cli(url, "import", "invoices", str(big), "--today", TODAY.isoformat())
        ledger = Database(url)
        while not import_running(ledger):
            if importing.poll() is not None:
                raise SystemExit("the import ended before the reports could run")
            time.sleep(0.01)
        during = [_report(url) for _ in range(3)]
        during_inside = statistics.median(_in_process(url) for _ in range(3))
        still_running = importing.poll() is None
        importing.communicate()
        ledger.dispose()
    floor = statistics.median(t for t, _ in at_rest)
    figure = statistics.median(t for t, _ in during)
    same = all(out == at_rest[0][1] for _, out in during)
    print(f"report at rest (floor):      {floor:.2f} s (median of 3, process start included)")
    print(f"report during the import:    {figure:.2f} s  ratio {figure / floor:.2f}")
    print(f"the report's own work:       {during_inside:.2f} s during, {rest_inside:.2f} s at "
          f"rest, ratio {during_inside / rest_inside:.2f}")
    print(f"figures as before the import: {'yes' if same else 'NO'}; import still running "
          f"after the reports: {'yes' if still_running else 'no'}")


if __name__ == "__main__":
    main()
