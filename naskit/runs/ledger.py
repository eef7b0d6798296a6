"""A SQLite ledger of evaluations: every result is on disk the moment it is known.

One file holds many runs (a run = one strategy, seed, evaluator and budget), each under its
own name: a name never holds two runs (``open_run`` refuses other settings, naming each
difference). Each evaluation is a row keyed by ``(run_id, n)``, where ``n`` is the order in which the
strategy proposed it; a row is written as ``running`` when submitted and completed when its
result arrives. Writes are idempotent (the same key twice changes nothing once complete),
the database runs in WAL mode with a busy timeout, so several processes can write runs into
one file at once, and a crash loses at most the evaluations in flight. What is read back is
checked (accuracies are fractions in [0, 1], costs finite and non-negative): a row changed by
hand is refused, naming it, never replayed.
"""

from __future__ import annotations

import datetime
import json
import math
import sqlite3
import time
from pathlib import Path

from naskit.core.space import Arch, parse
from naskit.core.types import Proposal, Result
from naskit.runs.outputs import check_output_file

SCHEMA_VERSION = 1
_RESULT_COLUMNS = ("valid_acc", "test_acc", "status", "error", "flops", "sim_seconds", "wall_seconds",
                   "cpu_seconds", "estimate")
STATUSES = ("ok", "failed", "diverged")  # a completed evaluation's status (``Result.status``)

# One statement each, run in one transaction: a ledger is created whole or not at all. ``meta``
# holds the schema marker, ``('schema', SCHEMA_VERSION)``, by which a file is known as a ledger;
# ``finished`` says why a run stopped (added within version 1: a file without it gets it).
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, settings TEXT NOT NULL, created TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS evaluations (
    run_id TEXT NOT NULL, n INTEGER NOT NULL, arch TEXT NOT NULL, fidelity INTEGER,
    status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',
    valid_acc REAL, test_acc REAL, flops INTEGER, sim_seconds REAL, wall_seconds REAL, cpu_seconds REAL,
    estimate REAL, elapsed REAL, extra TEXT, finished TEXT,
    PRIMARY KEY (run_id, n)
)""",
    "CREATE TABLE IF NOT EXISTS finished (run_id TEXT PRIMARY KEY, stop_reason TEXT NOT NULL, at TEXT NOT NULL)",
)
_TABLES = ("meta", "runs", "evaluations", "finished")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class Ledger:
    """The evaluations of one or more runs, in a SQLite file (``":memory:"`` for none).

    Opening checks the file before writing anything: a folder, a path under a file or a
    read-only file is refused with the reason; so is a file that is not a naskit ledger (not
    SQLite, or an SQLite database without naskit's schema marker), which is left untouched.
    ``read_only=True`` opens an existing ledger only to read it (``naskit search --list``).

    Example:
        >>> ledger = Ledger(":memory:")
        >>> ledger.open_run("demo", {"strategy": "random"})
        []
    """

    def __init__(self, path: str | Path, timeout: float = 60.0, read_only: bool = False):
        self.path = str(path)
        if self.path == ":memory:":
            self.db = sqlite3.connect(self.path, isolation_level=None)
        elif read_only:
            if not Path(path).is_file():
                why = "it is a folder" if Path(path).is_dir() else "the file does not exist"
                raise ValueError(f"no ledger at {path}: {why}")
            self.db = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, timeout=timeout,
                                      isolation_level=None)
        else:
            check_output_file(path, "ledger", example="naskit-search.db")
            self.db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            self._open(timeout, read_only)
        except BaseException:
            self.db.close()
            raise

    def _open(self, timeout: float, read_only: bool) -> None:
        try:
            self.db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables:  # an existing database: naskit's, of this version, or refused untouched
                self._check_marker(tables)
            if read_only:
                return
            # Switching to WAL needs a lock SQLite does not wait for through busy_timeout when another
            # process opens the same new file at this moment: retry it for up to ``timeout`` seconds.
            _while_locked(lambda: self.db.execute("PRAGMA journal_mode = WAL"), timeout)
            self.db.execute("PRAGMA synchronous = FULL")  # a completed row survives a power cut
            if not set(_TABLES) <= tables:
                _while_locked(self._create, timeout)
        except sqlite3.OperationalError as exc:
            if "readonly" in str(exc) or "read-only" in str(exc):
                raise ValueError(f"ledger {self.path} is read-only ({exc}); a search writes every evaluation "
                                 "to it: make the file and its folder writable, or give another file") from None
            raise ValueError(f"cannot open ledger {self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{self.path} is not a naskit ledger: it is not an SQLite database, or a corrupted "
                             f"one ({exc}); it was left untouched. Give a new file for the ledger") from None

    def _check_marker(self, tables: set[str]) -> None:
        """Refuse, before any write, a database without naskit's schema marker or of another version."""
        marker = None
        if "meta" in tables:
            try:
                marker = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            except sqlite3.OperationalError:  # a table called meta, but not naskit's
                pass
        if marker is None:
            raise ValueError(f"{self.path} is an SQLite database but not a naskit ledger: it has the table(s) "
                             f"{', '.join(sorted(tables))} and no naskit schema marker; it was left untouched. "
                             "Give a new file for the ledger")
        if marker[0] != str(SCHEMA_VERSION):
            raise ValueError(f"{self.path} is a naskit ledger of schema version {marker[0]}; this naskit "
                             f"reads version {SCHEMA_VERSION}. Use a new ledger file or the matching naskit.")

    def _create(self) -> None:
        """The tables and the schema marker, in one transaction (another process may create them at once)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                self.db.execute(statement)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

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
            diff = "; ".join(settings_diff(json.loads(stored), json.loads(text)))
            raise ValueError(f"run {run_id!r} in {self.path} was started with other settings ({diff}); "
                             "resume it with the same settings, or start a new run under another name "
                             "(search(name=...), naskit search --name)")
        return self.completed(run_id)

    def runs(self) -> dict[str, dict]:
        """Every run in the file: its name -> its settings, in the order they were started."""
        return {r: json.loads(s) for r, s in self.db.execute("SELECT run_id, settings FROM runs ORDER BY rowid")}

    def mark_finished(self, run_id: str, stop_reason: str) -> None:
        """Note that the run stopped by itself (a budget reached, the strategy done) and why."""
        self.db.execute("INSERT OR REPLACE INTO finished VALUES (?, ?, ?)", (run_id, stop_reason, _now()))

    def summaries(self) -> list[dict]:
        """One dict per run: ``run``, ``strategy``, ``seed``, ``evaluator``, ``evaluations`` (completed)
        and ``status`` (``"finished: <why>"``, ``"interrupted"``, or ``"unfinished"``: killed, or running now)."""
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finished = dict(self.db.execute("SELECT run_id, stop_reason FROM finished")) if "finished" in tables else {}
        counts = {(r, st): c for r, st, c in self.db.execute(
            "SELECT run_id, status, COUNT(*) FROM evaluations GROUP BY run_id, status")}
        out = []
        for run_id, settings in self.runs().items():
            done = sum(c for (r, st), c in counts.items() if r == run_id and st in STATUSES)
            if run_id in finished:
                status = f"finished: {finished[run_id]}"
            else:
                status = "interrupted" if counts.get((run_id, "interrupted")) else "unfinished"
            strategy = settings.get("strategy", {})
            out.append({"run": run_id, "strategy": strategy.get("name"), "seed": strategy.get("seed"),
                        "evaluator": settings.get("evaluator", {}).get("name"), "evaluations": done,
                        "status": status})
        return out

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
            a = self._checked_row(run_id, n, arch, fields)
            for k in ("valid_acc", "test_acc"):
                fields[k] = float("nan") if fields[k] is None else fields[k]
            out.append((Proposal(a, fidelity), Result(a, fidelity, extra=json.loads(extra or "{}"), **fields),
                        elapsed or 0.0))
        return out

    def _checked_row(self, run_id: str, n: int, arch: str, fields: dict) -> Arch:
        """The row's cell, once its values are possible; else a ``ValueError`` naming the row."""
        where = f"ledger {self.path}, run {run_id!r}, evaluation {n}"
        try:
            cell = parse(arch)
        except ValueError as exc:
            raise ValueError(f"{where}: its arch {arch!r} is not a cell ({exc})") from None
        if (problem := out_of_range(fields)) is not None:
            raise ValueError(f"{where} ({arch}): {problem}. The file was changed outside naskit; delete the run's "
                             "rows or start a new ledger file") from None
        return cell

    def count(self, run_id: str | None = None, status: str | None = None) -> int:
        query, args = "SELECT COUNT(*) FROM evaluations WHERE 1=1", []
        if run_id is not None:
            query, args = query + " AND run_id = ?", args + [run_id]
        if status is not None:
            query, args = query + " AND status = ?", args + [status]
        return self.db.execute(query, args).fetchone()[0]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def out_of_range(values: dict) -> str | None:
    """Why an evaluation's recorded values cannot be right, or None when they can: accuracies are
    fractions in [0, 1] (or missing: None, NaN), costs (``flops``, ``sim_seconds``, ``wall_seconds``,
    ``cpu_seconds``) finite and non-negative (or missing), the status one of ``STATUSES``.

    >>> out_of_range({"valid_acc": 0.9, "test_acc": 1.934, "status": "ok"})
    'test_acc is 1.934, outside [0, 1] (accuracies are fractions, not percent)'
    """
    for k in ("valid_acc", "test_acc"):
        v = values.get(k)
        if v is not None and v == v and not (_is_number(v) and 0 <= v <= 1):
            return f"{k} is {v!r}, outside [0, 1] (accuracies are fractions, not percent)"
    for k in ("flops", "sim_seconds", "wall_seconds", "cpu_seconds"):
        v = values.get(k)
        if v is not None and not (_is_number(v) and math.isfinite(v) and v >= 0):
            return f"{k} is {v!r}; a cost is a finite number of at least 0"
    if values.get("status") not in STATUSES:
        return f"status is {values.get('status')!r}; a completed evaluation's status is one of {', '.join(STATUSES)}"
    return None


def settings_diff(old: dict, new: dict, prefix: str = "") -> list[str]:
    """Each setting that differs, as ``"strategy.seed: 0 -> 7"`` (nested keys joined by dots).

    >>> settings_diff({"strategy": {"name": "random", "seed": 0}}, {"strategy": {"name": "random", "seed": 7}})
    ['strategy.seed: 0 -> 7']
    """
    changes = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k, _ABSENT), new.get(k, _ABSENT)
        if isinstance(a, dict) and isinstance(b, dict):
            changes += settings_diff(a, b, f"{prefix}{k}.")
        elif a != b:
            changes.append(f"{prefix}{k}: {a!r} -> {b!r}")
    return changes


class _Absent:
    """A setting one of two runs lacks (e.g. an option only one strategy has)."""

    def __repr__(self) -> str:
        return "(absent)"


_ABSENT = _Absent()


def _while_locked(step, timeout: float):
    """``step()``, tried again while SQLite says the database is locked or busy, for up to ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if not ("locked" in str(exc) or "busy" in str(exc)) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
