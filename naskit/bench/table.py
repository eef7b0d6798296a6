"""``TabularBenchmark``: look up any NB201 cell's training curves in microseconds.

A tabular benchmark trades one big up-front computation (training every network once) for
free evaluations afterwards: a search strategy "trains" a cell by reading its row. naskit's
table holds, for every canonical class of the NB201 space, per-epoch validation and test
accuracy and losses for one or more seeds, with parameters, FLOPs and measured seconds.

Queries charge a **simulated clock**: evaluating a cell at ``epoch`` e costs the FLOPs of e
epochs of training and evaluation, divided by a fixed FLOP rate. That makes budgets in
seconds reproducible on any machine; the measured seconds are kept alongside.

Example:
    >>> import pandas as pd
    >>> table = pd.DataFrame({"arch": ["|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"],
    ...                       "valid_acc": [0.9], "test_acc": [0.89]})
    >>> bench = TabularBenchmark.from_table(table)
    >>> bench.query("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|").test_acc
    0.89
"""

from __future__ import annotations

import hashlib
from dataclasses import InitVar, dataclass, field

import numpy as np
import pandas as pd

from naskit.core.checks import as_arch
from naskit.core.space import Arch, NB201Space, parse

CURVES = ("valid_acc", "test_acc", "train_loss", "valid_loss")
# The columns of a user's table (``from_table``) that are costs: positive and finite when given.
TABLE_COSTS = ("params", "flops", "train_flops", "train_seconds")
# Per-entry costs: naskit's (2 FLOPs per multiply-add, the network as built) and NB201's
# (1 per multiply-add, every edge's op counted; ``naskit.cost.nb201``).
COSTS = ("params", "forward_flops", "train_flops", "eval_flops", "flops_nb201", "params_nb201")
# Measured inference latency of each class's network (``naskit.bench.latency``): the median
# over measurement rounds of the median forward time (ms) at batch 1 and 256, and its spread
# (interquartile range over the timed repeats, ms). NaN for a class not measured.
LATENCY = ("latency_ms_b1", "latency_iqr_ms_b1", "latency_ms_b256", "latency_iqr_ms_b256")
# FLOP rate of the simulated clock: a round figure near what the benchmark build achieved
# per core (see data/README.md), so simulated seconds read like CPU-seconds on this machine.
DEFAULT_FLOPS_PER_SECOND = 7e9


@dataclass(frozen=True, slots=True)
class Query:
    """One lookup: metrics at ``epoch`` (mean over seeds when ``seed`` is None) and its cost.

    Accuracies are fractions in [0, 1]. ``train_flops`` and ``sim_seconds`` are what training
    to ``epoch`` and evaluating after each epoch costs (2 FLOPs per multiply-add).
    ``flops_nb201`` (multiply-adds of one forward pass of one example) and ``params_nb201`` are
    the class's network counted as NAS-Bench-201 counts it (``naskit.cost.nb201``); None when
    the table lacks them. ``latency_ms_b1`` and ``latency_ms_b256``: the class's measured
    inference latency (ms, ``LATENCY``), None when the table has none, NaN when not measured.
    """

    arch: Arch
    epoch: int
    seed: int | None
    valid_acc: float
    test_acc: float
    train_loss: float
    valid_loss: float
    params: int
    forward_flops: int
    train_flops: int
    sim_seconds: float
    measured_seconds: float
    flops_nb201: int | None = None
    params_nb201: int | None = None
    latency_ms_b1: float | None = None
    latency_ms_b256: float | None = None


@dataclass(eq=False)
class TabularBenchmark:
    """A table of training runs keyed by NB201 cells; see the module docstring.

    Build one with ``naskit.load_benchmark()`` (the shipped table), ``from_runs`` (build
    records) or ``from_table`` (any DataFrame keyed by NB201 arch strings).

    Arrays (E = epochs, R = runs, N = entries: canonical classes or table archs):
        entry_of_cell: (15625,) entry of every cell, -1 when the table lacks it.
        run_entry, run_seed: (R,); curves[name]: (R, E) with NaN after a run stopped.
        run_seconds: (R,) measured training seconds of the whole run.
        params, forward_flops, train_flops, eval_flops: (N,) per entry, whole run.
        flops_nb201, params_nb201: (N,) per entry, the entry's cell counted as NB201 counts it
            (``naskit.cost.nb201``: 1 per multiply-add, dead edges included), or None.
        latency: {name: (N,)} for the names of ``LATENCY`` the table has (measured inference
            latency in ms, NaN for an entry not measured); empty when it has none.
        version: the benchmark version of the table (``"v1"``, ``"v2"``): the one its metadata
            records, else the shipped file it was loaded from; None for any other table.
            ``protocol`` is the training protocol its metadata records.

    ``sha256`` identifies the table's data (see there); ``has_costs`` says whether its queries
    charge anything. ``file_sha256`` is the checksum of the packed file the arrays were read
    from (``load_benchmark`` passes it); leave it out for a table built in memory.
    """

    entry_of_cell: np.ndarray
    entry_names: list[str]
    run_entry: np.ndarray
    run_seed: np.ndarray
    curves: dict[str, np.ndarray]
    run_seconds: np.ndarray
    params: np.ndarray
    forward_flops: np.ndarray
    train_flops: np.ndarray
    eval_flops: np.ndarray
    meta: dict = field(default_factory=dict)
    flops_per_second: float = DEFAULT_FLOPS_PER_SECOND
    flops_nb201: np.ndarray | None = None
    params_nb201: np.ndarray | None = None
    latency: dict = field(default_factory=dict)
    version: str | None = None
    # an init-only value, so that ``dataclasses.replace`` with other arrays never keeps a stale checksum
    file_sha256: InitVar[str | None] = None

    def __post_init__(self, file_sha256: str | None) -> None:
        self._file_sha256, self._content_sha256 = file_sha256, None
        self.version = self.meta.get("version", self.version)
        self.epochs = next(iter(self.curves.values())).shape[1]
        self.seeds = sorted({int(s) for s in self.run_seed})
        self._row = {(int(e), int(s)): r for r, (e, s) in enumerate(zip(self.run_entry, self.run_seed))}
        n = len(self.entry_names)
        self._mean = {k: _mean_by_entry(v, self.run_entry, n) for k, v in self.curves.items()}
        self._mean_seconds = _mean_by_entry(self.run_seconds[:, None], self.run_entry, n)[:, 0]
        # Python lists make single lookups faster than NumPy scalar indexing
        self._lists = {k: v.tolist() for k, v in self._mean.items()}
        self._run_lists = {k: v.tolist() for k, v in self.curves.items()}
        self._cell_list = self.entry_of_cell.tolist()
        nb201 = [None] * n
        self._per_entry = list(zip(self.params.tolist(), self.forward_flops.tolist(),
                                   self.train_flops.tolist(), self.eval_flops.tolist(),
                                   self._mean_seconds.tolist(),
                                   nb201 if self.flops_nb201 is None else self.flops_nb201.tolist(),
                                   nb201 if self.params_nb201 is None else self.params_nb201.tolist()))
        self._run_seconds = self.run_seconds.tolist()
        self._seeds_of_entry: list[list[int]] = [[] for _ in range(n)]
        for e, seed in sorted(self._row, key=lambda k: (k[0], k[1])):
            self._seeds_of_entry[e].append(seed)
        self._space = NB201Space()

    @property
    def sha256(self) -> str:
        """What identifies this table's data, as 64 hex digits: for a table read by
        ``load_benchmark``, the packed file's sha256 (the one its ``.sha256`` records, checked when
        loading); for one built with ``from_table`` or ``from_runs``, a hash of its arrays
        (``content_sha256``). Two tables with other accuracies, costs or cells differ here; the
        clock rate (``flops_per_second``) and ``meta`` are not part of it."""
        if self._file_sha256:
            return self._file_sha256
        if self._content_sha256 is None:
            self._content_sha256 = content_sha256(self)
        return self._content_sha256

    @property
    def has_costs(self) -> bool:
        """Whether every entry has training FLOPs, so that a query charges FLOPs and simulated
        seconds. False for a ``from_table`` table without a ``train_flops`` column: its queries
        cost nothing, so a budget in ``flops`` or ``sim_seconds`` could never be spent."""
        return len(self.train_flops) > 0 and bool(np.all(self.train_flops + self.eval_flops > 0))

    @property
    def protocol(self):
        """The ``BenchProtocol`` the table's metadata records (its data, network and training),
        or None for a table whose metadata records none (``from_table``)."""
        from naskit.bench.protocol import BenchProtocol

        recorded = self.meta.get("protocol")
        return BenchProtocol.from_dict(recorded) if recorded else None

    # ---- lookups -------------------------------------------------------------------------
    def entry(self, arch: Arch | str) -> int:
        """Row of ``arch``'s class (or of the arch itself for a user table)."""
        return self._entry(as_arch(arch))

    def _entry(self, arch: Arch) -> int:
        entry = self._cell_list[arch.index]
        if entry < 0:
            raise ValueError(f"{arch} is not in this table ({len(self.entry_names)} entries)")
        return entry

    def query(self, arch: Arch | str, epoch: int | None = None, seed: int | None = None) -> Query:
        """Metrics of ``arch`` after ``epoch`` epochs (default: the last) for ``seed`` (default:
        the mean over the seeds it was trained with), and what that evaluation costs."""
        arch = as_arch(arch)
        i = self._entry(arch)
        e = self.epochs if epoch is None else self._epoch(epoch)
        params, flops, train_flops, eval_flops, seconds, flops_nb201, params_nb201 = self._per_entry[i]
        if seed is None:
            values, row = self._lists, i
        else:
            row = self._row.get((i, seed))
            if row is None:
                have = sorted(s for (j, s) in self._row if j == i)
                raise ValueError(f"{arch} was not trained with seed {seed}; its seeds are {have}")
            values, seconds = self._run_lists, self._run_seconds[row]
        latency = {k: float(self.latency[k][i]) for k in ("latency_ms_b1", "latency_ms_b256") if k in self.latency}
        frac = e / self.epochs
        train_flops = int(train_flops * frac)
        return Query(
            arch, e, seed, values["valid_acc"][row][e - 1], values["test_acc"][row][e - 1],
            values["train_loss"][row][e - 1], values["valid_loss"][row][e - 1], params, flops, train_flops,
            (train_flops + eval_flops * frac) / self.flops_per_second, seconds * frac, flops_nb201, params_nb201,
            **latency,
        )

    def seeds_of(self, arch: Arch | str) -> list[int]:
        """The training seeds ``arch``'s class was trained with, in increasing order."""
        return list(self._seeds_of_entry[self.entry(arch)])

    def drawn_seed(self, arch: Arch | str, draw: int) -> int:
        """One of ``arch``'s training seeds, chosen reproducibly from ``draw`` and the cell.

        A real search trains each candidate once and sees that one run's noise; a search on the
        table sees the same when every query reads one run, drawn like this (NATS-Bench draws a
        random seed per query; here the draw is a pure function of ``draw`` and the cell, so a
        search replays exactly). Different cells, and different draws, read different runs.
        """
        arch = as_arch(arch)
        seeds = self._seeds_of_entry[self._entry(arch)]
        return seeds[_mix(draw, arch.index) % len(seeds)]

    def class_curves(self, name: str = "valid_acc") -> np.ndarray:
        """Every entry's curve ``name`` (one of ``CURVES``), the mean over its seeds: shape (N, epochs);
        NaN after an epoch no seed reached."""
        if name not in CURVES:
            raise ValueError(f"unknown curve {name!r}; choose one of {', '.join(CURVES)}")
        return self._mean[name].copy()

    def class_values(self, name: str = "test_acc", epoch: int | None = None, seed: int | None = None) -> np.ndarray:
        """One value per entry (canonical class): curve ``name`` after ``epoch`` (default: the last),
        the mean over seeds (or seed ``seed``'s run; NaN where an entry lacks it); shape (N,).

        ``class_values("test_acc")`` is the ground truth that judges searches and estimators.
        """
        if name not in CURVES:
            raise ValueError(f"unknown curve {name!r}; choose one of {', '.join(CURVES)}")
        e = self._epoch(epoch)
        if seed is None:
            return self._mean[name][:, e - 1].copy()
        out = np.full(len(self.entry_names), np.nan)
        mine = self.run_seed == seed
        out[self.run_entry[mine]] = self.curves[name][mine, e - 1]
        return out

    def class_costs(self, name: str = "flops_nb201") -> np.ndarray:
        """One cost per entry (canonical class), shape (N,): one of ``COSTS``.

        ``class_costs("flops_nb201")`` and ``class_costs("params_nb201")`` are the "FLOPs" and
        "params" baselines in NAS-Bench-201's convention (``naskit.cost.nb201``); the names of
        ``LATENCY`` give the measured latency (ms, NaN where a class was not measured).
        """
        if name in LATENCY:
            if name not in self.latency:
                raise ValueError(f"this table has no {name}: no latency was measured for it "
                                 "(`naskit bench latency` measures it on this machine)")
            return self.latency[name].copy()
        if name not in COSTS:
            raise ValueError(f"unknown cost {name!r}; choose one of {', '.join(COSTS + LATENCY)}")
        values = getattr(self, name)
        if values is None:
            raise ValueError(f"this table has no {name}: they are counted from the network and input shape "
                             "its meta records (meta['protocol']['network'], meta['dataset']['input_shape']), "
                             "which it lacks; pack the build with `naskit bench pack` to record them")
        return values.copy()

    def sim_seconds(self, arch: Arch | str, epoch: int | None = None) -> float:
        """Simulated cost of evaluating ``arch`` at ``epoch`` (deterministic, from FLOPs)."""
        return self.query(arch, epoch).sim_seconds

    def _epoch(self, epoch: int | None) -> int:
        if epoch is None:
            return self.epochs
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or not 1 <= epoch <= self.epochs:
            raise ValueError(f"epoch must be an integer in 1..{self.epochs} for this table, got {epoch!r}")
        return int(epoch)

    def __contains__(self, arch: Arch | str) -> bool:
        try:
            self.entry(arch)
        except ValueError:
            return False
        return True

    def __len__(self) -> int:
        return int((self.entry_of_cell >= 0).sum())

    # ---- whole-table access --------------------------------------------------------------
    def to_frame(self, epoch: int | None = None) -> pd.DataFrame:
        """One row per cell in the table: its class, metrics at ``epoch`` (mean over seeds),
        parameters, FLOPs and simulated cost, and its class's ``flops_nb201``, ``params_nb201``
        and measured latency (``LATENCY``) when the table has them. Vectorised: no per-cell queries."""
        e = self._epoch(epoch)
        cells = np.flatnonzero(self.entry_of_cell >= 0)
        entry = self.entry_of_cell[cells]
        frac = e / self.epochs
        frame = pd.DataFrame({
            "arch": [str(self._space[int(c)]) for c in cells],
            "entry": entry,
            **{k: self._mean[k][entry, e - 1] for k in CURVES},
            "params": self.params[entry],
            "forward_flops": self.forward_flops[entry],
            "train_flops": (self.train_flops[entry] * frac).astype(np.int64),
            "sim_seconds": (self.train_flops[entry] + self.eval_flops[entry]) * frac / self.flops_per_second,
            "n_seeds": np.bincount(self.run_entry, minlength=len(self.entry_names))[entry],
        }, index=pd.Index(cells, name="cell"))
        for name in ("flops_nb201", "params_nb201"):  # columns only where the table has them
            if getattr(self, name) is not None:
                frame[name] = getattr(self, name)[entry]
        for name, values in self.latency.items():
            frame[name] = values[entry]
        return frame

    def runs_frame(self) -> pd.DataFrame:
        """One row per training run (entry, seed) with its final-epoch metrics."""
        last = {k: np.array([_last_finite(row) for row in v]) for k, v in self.curves.items()}
        return pd.DataFrame({
            "entry": self.run_entry, "name": [self.entry_names[i] for i in self.run_entry],
            "seed": self.run_seed, **last, "seconds": self.run_seconds,
        })

    def curve(self, arch: Arch | str, name: str = "valid_acc", seed: int | None = None) -> np.ndarray:
        """The per-epoch curve ``name`` (one of CURVES) of ``arch``, shape (epochs,)."""
        if name not in CURVES:
            raise ValueError(f"unknown curve {name!r}; choose one of {', '.join(CURVES)}")
        if seed is None:
            return self._mean[name][self.entry(arch)].copy()
        self.query(arch, seed=seed)  # raises the explanatory error for an untrained seed
        return self.curves[name][self._row[(self.entry(arch), seed)]].copy()

    # ---- constructors --------------------------------------------------------------------
    @classmethod
    def from_runs(cls, records: list[dict], meta: dict | None = None, **kwargs) -> TabularBenchmark:
        """From build records (``naskit.bench.build``): entries are canonical classes, and every
        member cell of a trained class maps to it."""
        from naskit.bench.protocol import class_representatives

        space = NB201Space()
        keys = sorted({r["key"] for r in records})
        index = {k: i for i, k in enumerate(keys)}
        entry_of_cell = np.full(len(space), -1, np.int32)
        for cell in space:
            entry_of_cell[cell.index] = index.get(space.canonical(cell), -1)
        reps = class_representatives(space)
        table = _runs_to_arrays(records, [index[r["key"]] for r in records], len(keys))
        names = [str(reps[k]) for k in keys]
        return cls(entry_of_cell=entry_of_cell, entry_names=names, meta=dict(meta or {}, keys=keys),
                   **table, **kwargs)

    @classmethod
    def from_table(cls, df: pd.DataFrame, **kwargs) -> TabularBenchmark:
        """Wrap a user's table keyed by NB201 arch strings (e.g. an export of NATS-Bench).

        Required columns: ``arch``, ``valid_acc``, ``test_acc`` (fractions in [0, 1], every
        value finite: a table in percent is refused, with how to convert it).
        Optional: ``seed`` (default 0), ``epoch`` (long format, 1..E; default: one fidelity),
        ``train_loss``, ``valid_loss``, and the costs (each positive and finite when given):
        ``params``, ``flops`` (forward FLOPs of one example), ``train_flops`` and ``train_seconds``
        (of the whole run). Without ``train_flops`` queries cost nothing (``has_costs`` is False).
        Each arch is its own entry: no isomorphism merging is assumed.

        Raises:
            ValueError: a required column missing, an accuracy outside [0, 1] (or NaN, inf, text),
                a cost not positive and finite, a bad arch string, or a duplicate row.
        """
        missing = [c for c in ("arch", "valid_acc", "test_acc") if c not in df.columns]
        if missing:
            raise ValueError(f"table is missing required column(s) {missing}; it has {list(df.columns)}")
        for name in ("valid_acc", "test_acc"):
            _check_fractions(df[name], name)
        for name in TABLE_COSTS:
            if name in df.columns:
                _check_costs(df[name], name)
        df = df.copy()
        df["seed"] = _whole_numbers(df["seed"] if "seed" in df else pd.Series(0, df.index), "seed")
        df["epoch"] = _whole_numbers(df["epoch"] if "epoch" in df else pd.Series(1, df.index), "epoch", 1)
        arch_of_text = {}
        for text in df["arch"].unique():
            try:
                arch_of_text[text] = parse(text)
            except ValueError as exc:
                raise ValueError(f"table row with arch {text!r}: {exc}") from None
        # entries are keyed by the cell, so two spellings of one cell share an entry
        archs = list(dict.fromkeys(arch_of_text.values()))
        index = {a: i for i, a in enumerate(archs)}
        df["_entry"] = df["arch"].map(lambda text: index[arch_of_text[text]])
        dup = df.duplicated(["_entry", "seed", "epoch"])
        if dup.any():
            arch, seed, epoch = df.loc[dup, ["arch", "seed", "epoch"]].iloc[0]
            raise ValueError(f"table has {int(dup.sum())} duplicate (arch, seed, epoch) row(s), "
                             f"e.g. {arch!r} seed {seed} epoch {epoch}; keep one row per run and epoch")
        names = [str(a) for a in archs]
        entry_of_cell = np.full(len(NB201Space()), -1, np.int32)
        for arch, i in index.items():
            entry_of_cell[arch.index] = i
        epochs = int(df["epoch"].max())
        records = []
        for (entry, seed), group in df.groupby(["_entry", "seed"], sort=False):
            rec = {"seed": int(seed)}
            for name in CURVES:
                curve = np.full(epochs, np.nan)
                if name in group:
                    curve[group["epoch"].to_numpy() - 1] = group[name].to_numpy(float)
                rec[name] = curve
            first = group.iloc[0]
            rec["params"] = int(first.get("params", 0))
            rec["forward_flops"] = int(first.get("flops", 0))
            rec["train_flops"] = int(first.get("train_flops", 0))
            rec["eval_flops"] = 0
            rec["wall_seconds"] = float(first.get("train_seconds", np.nan))
            records.append((entry, rec))
        table = _runs_to_arrays([r for _, r in records], [i for i, _ in records], len(names), epochs)
        return cls(entry_of_cell=entry_of_cell, entry_names=names, meta={"source": "from_table"},
                   **table, **kwargs)


def _mix(draw: int, index: int) -> int:
    """A cheap, well-mixed integer hash of (draw, cell index) (splitmix64's finaliser)."""
    z = (draw * 0x9E3779B97F4A7C15 + index + 1) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


def content_sha256(bench: TabularBenchmark) -> str:
    """sha256 of a table's arrays (name, dtype, shape and bytes of each, in a fixed order): what
    ``TabularBenchmark.sha256`` is for a table that was not read from a packed file."""
    arrays = {"entry_of_cell": bench.entry_of_cell, "entry_names": np.array(bench.entry_names, dtype=str),
              "run_entry": bench.run_entry, "run_seed": bench.run_seed, "run_seconds": bench.run_seconds,
              **{f"curve_{k}": bench.curves[k] for k in sorted(bench.curves)},
              **{k: getattr(bench, k) for k in COSTS if getattr(bench, k, None) is not None}}
    h = hashlib.sha256()
    for name, values in arrays.items():
        values = np.ascontiguousarray(values)
        h.update(f"{name} {values.dtype.str} {values.shape}".encode())
        h.update(values.tobytes())
    return h.hexdigest()


def _bad_rows(column: pd.Series, bad: pd.Series) -> str:
    """``"3 row(s) are not, e.g. [95.5, 99.9]"``: how many values are bad, and a few of them."""
    return f"{int(bad.sum())} row(s) are not, e.g. {column[bad].unique()[:3].tolist()}"


def _check_fractions(column: pd.Series, name: str) -> None:
    """A ValueError unless every value of ``column`` is a finite fraction in [0, 1]; a column that
    looks like percent (most values above 1, none above 100) is told how to convert."""
    values = pd.to_numeric(column, errors="coerce")  # text becomes NaN, and is refused with it
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if not bad.any():
        return
    finite = values[np.isfinite(values)]
    percent = len(finite) and finite.min() >= 0 and finite.max() <= 100 and (finite > 1).mean() > 0.5
    hint = (f"; they look like percent: divide by 100 (df[{name!r}] = df[{name!r}] / 100)" if percent
            else "; accuracies are fractions of correct examples, never NaN or inf")
    raise ValueError(f"{name} values must be fractions in [0, 1]; {_bad_rows(column, bad)}{hint}")


def _check_costs(column: pd.Series, name: str) -> None:
    """A ValueError unless every value of the cost column ``column`` is positive and finite."""
    values = pd.to_numeric(column, errors="coerce")
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        raise ValueError(f"{name} values must be positive and finite when the column is given; "
                         f"{_bad_rows(column, bad)}; drop the column if the table does not know them")


def _whole_numbers(column: pd.Series, name: str, minimum: int | None = None) -> pd.Series:
    """``column`` as int64, or a ValueError naming the values that are not whole numbers >= minimum."""
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna() | (values != values.round())
    if minimum is not None:
        bad |= values < minimum
    if bad.any():
        need = "whole numbers" + (f" >= {minimum}" if minimum is not None else "")
        raise ValueError(f"{name} values must be {need}, got {column[bad].unique()[:5].tolist()}")
    return values.astype(np.int64)


def _runs_to_arrays(records, entries, n_entries, epochs=None) -> dict:
    epochs = epochs or max(len(r["valid_acc"]) for r in records)
    curves = {k: np.full((len(records), epochs), np.nan) for k in CURVES}
    for row, rec in enumerate(records):
        for k in CURVES:
            values = np.asarray(rec.get(k, []), np.float64)[:epochs]
            curves[k][row, :len(values)] = values
    per_entry = {k: np.zeros(n_entries, np.int64) for k in ("params", "forward_flops", "train_flops", "eval_flops")}
    for entry, rec in zip(entries, records):
        for k in per_entry:
            per_entry[k][entry] = max(per_entry[k][entry], int(rec.get(k, 0)))
    return dict(
        run_entry=np.asarray(entries, np.int32), run_seed=np.asarray([r["seed"] for r in records], np.int32),
        curves=curves, run_seconds=np.asarray([r.get("wall_seconds", np.nan) for r in records], np.float64),
        **per_entry,
    )


def _mean_by_entry(values: np.ndarray, entries: np.ndarray, n: int) -> np.ndarray:
    """Mean over the runs of each entry, ignoring NaN (a diverged seed); NaN where none."""
    total = np.zeros((n, values.shape[1]))
    count = np.zeros((n, values.shape[1]))
    finite = np.isfinite(values)
    np.add.at(total, entries, np.where(finite, values, 0.0))
    np.add.at(count, entries, finite)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def _last_finite(row: np.ndarray) -> float:
    finite = row[np.isfinite(row)]
    return float(finite[-1]) if len(finite) else float("nan")
