"""The shipped benchmark file: pack build records into one compressed ``.npz``, load it back.

The file sits in ``data/`` with a ``.sha256`` beside it; loading checks the checksum first, so
a truncated or corrupted file is reported, never half-read. Files are written atomically
(temporary file, fsync, rename). Each entry's FLOPs and parameters in NAS-Bench-201's
convention (``flops_nb201``, ``params_nb201``) are stored too; a file packed before they existed
gets them counted at load time from the network and input shape its meta records.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from naskit.bench.table import CURVES, LATENCY, TabularBenchmark
from naskit.runtime.files import atomic_write_bytes, sha256_file


def data_dir() -> Path:
    """The folder of the shipped benchmark files: the repository's ``data/`` in a checkout (and an
    editable install), ``naskit/shipped_data/`` in an installed wheel, which packs ``data/`` there."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "shipped_data"
    return installed if installed.is_dir() else package.parent / "data"


DATA_DIR = data_dir()
# The shipped tables by version: v1 (one seed for most classes, 8 epochs) and v2 (every class
# with three seeds, large evaluation sets; see data/README.md). Each table's build records sit
# in the folder of the same stem, and its datasheet in the .md of that stem.
VERSIONS = {"v1": "nb201_mnist1d.npz", "v2": "nb201_mnist1d_v2.npz"}
DEFAULT_VERSION = "v1"
# The measured latency of each version's network (``naskit.bench.latency``), one JSON line per
# measurement: merged into the table when it is loaded, stored in it when it is packed.
LATENCY_DIRS = {v: f"latency_nb201_mnist1d_{v}" for v in VERSIONS}


def benchmark_path(version: str = DEFAULT_VERSION) -> Path:
    """The packed file of a shipped table version (``"v1"``, ``"v2"``)."""
    if version not in VERSIONS:
        raise ValueError(f"unknown benchmark version {version!r}; naskit ships {', '.join(VERSIONS)}")
    return DATA_DIR / VERSIONS[version]


DEFAULT_PATH = benchmark_path(DEFAULT_VERSION)
FORMAT = "naskit-tabular-1"


NB201_COSTS = ("flops_nb201", "params_nb201")


def nb201_costs(entry_names: list[str], meta: dict) -> dict[str, np.ndarray]:
    """Each entry's ``flops_nb201`` and ``params_nb201`` (``naskit.cost.nb201``), int64 arrays.

    The network is the one ``meta["protocol"]["network"]`` records, the example's shape
    ``meta["dataset"]["input_shape"]``; an empty dict when ``meta`` records either not (a table
    from ``from_table``, or built without a protocol). Analytic: well under a second for 6,466 entries.
    """
    if "network" not in meta.get("protocol", {}) or "input_shape" not in meta.get("dataset", {}):
        return {}
    from naskit.bench.protocol import BenchProtocol
    from naskit.cost.nb201 import costs_nb201

    network = BenchProtocol.from_dict(meta["protocol"]).network
    flops, params = costs_nb201(entry_names, network, meta["dataset"]["input_shape"])
    return {"flops_nb201": np.asarray(flops, np.int64), "params_nb201": np.asarray(params, np.int64)}


def pack(bench: TabularBenchmark, path: str | Path = DEFAULT_PATH) -> Path:
    """Save ``bench`` (built ``from_runs``) as a compressed ``.npz`` plus ``.sha256``."""
    import io

    path = Path(path)
    arrays = {
        "entry_of_cell": bench.entry_of_cell, "entry_names": np.array(bench.entry_names),
        "run_entry": bench.run_entry, "run_seed": bench.run_seed, "run_seconds": bench.run_seconds,
        "params": bench.params, "forward_flops": bench.forward_flops,
        "train_flops": bench.train_flops, "eval_flops": bench.eval_flops,
        **{k: getattr(bench, k) for k in NB201_COSTS if getattr(bench, k) is not None},
        **bench.latency,  # latency_ms_b1, ... (LATENCY), when measured
        **{f"curve_{k}": v for k, v in bench.curves.items()},
        # the clock rate travels with the table, so a loaded table charges what the packed one did
        "meta": np.array(json.dumps(dict(bench.meta, format=FORMAT, flops_per_second=bench.flops_per_second),
                                    sort_keys=True)),
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())
    atomic_write_bytes(path.with_name(path.name + ".sha256"), f"{sha256_file(path)}  {path.name}\n".encode())
    return path


def load_benchmark(path: str | Path | None = None, flops_per_second: float | None = None) -> TabularBenchmark:
    """Load one of naskit's shipped tabular benchmarks (or another packed file), checksum checked.

    The NB201-convention counts (``flops_nb201``, ``params_nb201``) are read from the file, or,
    for a file packed before they existed, counted from its meta (``nb201_costs``); they stay
    None when the meta records no network and input shape (``class_costs`` then says so). The
    table's ``sha256`` is the file's checksum, the one its ``.sha256`` records.

    Args:
        path: a shipped version (``"v1"``, ``"v2"``) or the path of a packed ``.npz`` file
            (default: the default version, ``DEFAULT_VERSION``).
        flops_per_second: rate of the simulated clock (default: the one stored in the file).

    Raises:
        FileNotFoundError: the file or its ``.sha256`` is missing.
        ValueError: the checksum does not match (a corrupted or truncated file) or the file
            is not a naskit table.
    """
    if path is None or (isinstance(path, str) and path in VERSIONS):
        path = benchmark_path(path or DEFAULT_VERSION)
    path = Path(path)
    version = next((v for v in VERSIONS if benchmark_path(v).resolve() == path.resolve()), None)
    if not path.exists():
        raise FileNotFoundError(f"no benchmark file at {path}; build it with `naskit bench build` and "
                                "`naskit bench pack`, or pass the path of a packed table")
    checksum = path.with_name(path.name + ".sha256")
    if not checksum.exists():
        raise FileNotFoundError(f"missing checksum file {checksum}: cannot tell whether {path.name} is intact")
    recorded = checksum.read_text().split()
    if not recorded:
        raise ValueError(f"checksum file {checksum} is empty: cannot tell whether {path.name} is intact")
    expected = recorded[0]
    actual = sha256_file(path)
    if actual != expected:
        raise ValueError(f"{path} is corrupted or truncated: sha256 {actual[:16]}… but {checksum.name} "
                         f"records {expected[:16]}…; restore it from git (`git checkout -- {path.name}`)")
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a {FORMAT} table (format {meta.get('format')!r})")
        fields = {k: z[k] for k in ("entry_of_cell", "run_entry", "run_seed", "run_seconds", "params",
                                    "forward_flops", "train_flops", "eval_flops")}
        curves = {k: z[f"curve_{k}"] for k in CURVES}
        names = z["entry_names"].tolist()
        stored = {k: z[k] for k in NB201_COSTS if k in z.files}
        latency = {k: z[k] for k in LATENCY if k in z.files}
    # a file packed before the NB201 counts existed: count them now (analytic, milliseconds)
    fields.update(stored if len(stored) == len(NB201_COSTS) else nb201_costs(names, meta))
    rate = flops_per_second or meta.get("flops_per_second")
    extra = {"flops_per_second": rate} if rate else {}
    if not latency and version is not None:  # a shipped table packed before its latency was measured
        latency = shipped_latency(version, meta)
    # the checksum just verified identifies the table's data (``TabularBenchmark.sha256``)
    return TabularBenchmark(entry_names=names, curves=curves, meta=meta, **fields, **extra, latency=latency,
                            version=version, file_sha256=actual)


def shipped_latency(version: str, meta: dict) -> dict[str, np.ndarray]:
    """The latency columns of a shipped version from its measurement records (``LATENCY_DIRS``),
    in the table's entry order (``meta["keys"]``), with how they were measured added to
    ``meta["latency"]``; empty when none were measured."""
    from naskit.bench.latency import latency_arrays, latency_summary, read_latencies

    folder = DATA_DIR / LATENCY_DIRS[version]
    records = read_latencies(folder) if folder.is_dir() and "keys" in meta else []
    if not records:
        return {}
    meta["latency"] = latency_summary(records)
    return latency_arrays(records, meta["keys"])
