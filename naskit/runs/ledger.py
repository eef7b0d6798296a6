"""A SQLite ledger of evaluations: every result is on disk the moment it is known.

One file holds many runs (a run = one strategy, seed, evaluator and budget). Each
evaluation is a row keyed by ``(run_id, n)``, where ``n`` is the order in which the
strategy proposed it; a row is written as ``running`` when submitted and completed when its
result arrives. Writes are idempotent (the same key twice changes nothing once complete),
the database runs in WAL mode with a busy timeout, so several processes can write runs into
one file at once, and a crash loses at most the evaluations in flight.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from pathlib import Path

from naskit.core.space import parse
from naskit.core.types import Proposal, Result

SCHEMA_VERSION = 1
_RESULT_COLUMNS = ("valid_acc", "test_acc", "status", "error", "flops", "sim_seconds", "wall_seconds",
                   "cpu_seconds", "estimate")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, settings TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS evaluations (
    run_id TEXT NOT NULL, n INTEGER NOT NULL, arch TEXT NOT NULL, fidelity INTEGER,
    status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',
    valid_acc REAL, test_acc REAL, flops INTEGER, sim_seconds REAL, wall_seconds REAL, cpu_seconds REAL,
    estimate REAL, elapsed REAL, extra TEXT, finished TEXT,
    PRIMARY KEY (run_id, n)
);
"""


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class Ledger:
    """The evaluations of one or more runs, in a SQLite file (``":memory:"`` for none).

    Example:
        >>> ledger = Ledger(":memory:")
        >>> ledger.open_run("demo", {"strategy": "random"})
        []
    """

    def __init__(self, path: str | Path, timeout: float = 60.0):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            self._check_schema(timeout)
        except BaseException:
            self.db.close()
            raise

    def _check_schema(self, timeout: float) -> None:
        try:
            self.db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = FULL")  # a completed row survives a power cut
            with self.db:
                self.db.executescript(_SCHEMA)
                self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                version = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{self.path} is not a naskit ledger (or it is corrupted): {exc}") from None
        if version != str(SCHEMA_VERSION):
            raise ValueError(f"{self.path} is a naskit ledger of schema version {version}; this naskit "
                             f"reads version {SCHEMA_VERSION}. Use a new ledger file or the matching naskit.")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- runs ----------------------------------------------------------------------------
    def open_run(self, run_id: str, settings: dict) -> list[tuple[Proposal, Result, float]]:
        """Register ``run_id`` (or check its settings when it exists) and return its completed
        evaluations in proposal order as ``(proposal, result, elapsed)``.

        Raises ``ValueError`` when the run exists with different settings: resuming it with
        another strategy, seed, evaluator or budget would mix two experiments.
        """
        text = json.dumps(settings, sort_keys=True, default=str)
        self.db.execute("INSERT OR IGNORE INTO runs VALUES (?, ?, ?)", (run_id, text, _now()))
        stored = self.db.execute("SELECT settings FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]
        if stored != text:
            diff = _diff(json.loads(stored), json.loads(text))
            raise ValueError(f"run {run_id!r} in {self.path} was started with other settings ({diff}); "
                             "resume it with the same settings or give the run another name")
        return self.completed(run_id)

    def runs(self) -> dict[str, dict]:
        return {r: json.loads(s) for r, s in self.db.execute("SELECT run_id, settings FROM runs")}

    # ---- evaluations ---------------------------------------------------------------------
    def mark_running(self, run_id: str, n: int, proposal: Proposal) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO evaluations (run_id, n, arch, fidelity, status) VALUES (?, ?, ?, ?, 'running')",
            (run_id, n, str(proposal.arch), proposal.fidelity))

    def record(self, run_id: str, n: int, result: Result, elapsed: float) -> None:
        """Store a completed evaluation; a completed row is never overwritten."""
        values = [getattr(result, c) for c in _RESULT_COLUMNS]
        values = [None if isinstance(v, float) and v != v else v for v in values]  # NaN -> NULL
        self.db.execute(
            "INSERT INTO evaluations (run_id, n, arch, fidelity, valid_acc, test_acc, status, error, flops,"
            " sim_seconds, wall_seconds, cpu_seconds, estimate, elapsed, extra, finished)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (run_id, n) DO UPDATE SET valid_acc = excluded.valid_acc, test_acc = excluded.test_acc,"
            " status = excluded.status, error = excluded.error, flops = excluded.flops,"
            " sim_seconds = excluded.sim_seconds, wall_seconds = excluded.wall_seconds,"
            " cpu_seconds = excluded.cpu_seconds, estimate = excluded.estimate, elapsed = excluded.elapsed,"
            " extra = excluded.extra,"
            " finished = excluded.finished WHERE evaluations.status IN ('running', 'interrupted')",
            (run_id, n, str(result.arch), result.fidelity, *values, elapsed,
             json.dumps(result.extra, default=str), _now()))

    def mark_interrupted(self, run_id: str) -> None:
        """Flag the run's evaluations in flight when it stopped; a resume re-runs them."""
        self.db.execute("UPDATE evaluations SET status = 'interrupted' WHERE run_id = ? AND status = 'running'",
                        (run_id,))

    def discard_unfinished(self, run_id: str) -> None:
        self.db.execute("DELETE FROM evaluations WHERE run_id = ? AND status IN ('running', 'interrupted')",
                        (run_id,))

    def completed(self, run_id: str) -> list[tuple[Proposal, Result, float]]:
        """The run's evaluations that finished, in order, up to the first gap (the rest re-run)."""
        rows = self.db.execute(
            "SELECT n, arch, fidelity, elapsed, extra, " + ", ".join(_RESULT_COLUMNS) +
            " FROM evaluations WHERE run_id = ? AND status NOT IN ('running', 'interrupted') ORDER BY n",
            (run_id,)).fetchall()
        out = []
        for expected, (n, arch, fidelity, elapsed, extra, *values) in enumerate(rows):
            if n != expected:
                break
            fields = dict(zip(_RESULT_COLUMNS, values))
            for k in ("valid_acc", "test_acc"):
                fields[k] = float("nan") if fields[k] is None else fields[k]
            a = parse(arch)
            out.append((Proposal(a, fidelity), Result(a, fidelity, extra=json.loads(extra or "{}"), **fields),
                        elapsed or 0.0))
        return out

    def count(self, run_id: str | None = None, status: str | None = None) -> int:
        query, args = "SELECT COUNT(*) FROM evaluations WHERE 1=1", []
        if run_id is not None:
            query, args = query + " AND run_id = ?", args + [run_id]
        if status is not None:
            query, args = query + " AND status = ?", args + [status]
        return self.db.execute(query, args).fetchone()[0]


def _diff(old: dict, new: dict, prefix: str = "") -> str:
    changes = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            inner = _diff(a, b, f"{prefix}{k}.")
            if inner:
                changes.append(inner)
        elif a != b:
            changes.append(f"{prefix}{k}: {a!r} -> {b!r}")
    return "; ".join(changes)
