"""Zero-cost proxies for the whole space: one record per canonical class, resumable, parallel.

``compute_space`` (the command ``naskit estimate proxies``) scores every class representative
of the benchmark with every proxy, seed 0, each on its reference's minibatch unless a
``batch_size`` is given (128 examples for naswot, 64 for the others: ``reference_batch_size``
in ``naskit.estimate.proxies``), and appends one JSON line per class to
``data/proxies_nb201_mnist1d/proxies-*.jsonl``, exactly like the benchmark build: run it again
to resume, spread it with ``--shard``. ``space_scores`` aligns the records with a table.
"""

from __future__ import annotations

import concurrent.futures as cf
import platform
from pathlib import Path

import numpy as np
import pandas as pd

from naskit.bench.protocol import BenchProtocol, Job, class_representatives
from naskit.bench.shards import check_shard, read_records, run_jobs
from naskit.bench.store import DATA_DIR, DEFAULT_VERSION, VERSIONS

FOLDER = DATA_DIR / "proxies_nb201_mnist1d"


def proxies_folder(version: str = DEFAULT_VERSION) -> Path:
    """Where the whole-space proxy records of a benchmark version live (its network and data)."""
    if version not in VERSIONS:
        raise ValueError(f"unknown benchmark version {version!r}; naskit ships {', '.join(VERSIONS)}")
    return FOLDER if version == "v1" else DATA_DIR / f"proxies_{Path(VERSIONS[version]).stem}"


PREFIX = "proxies"


def proxy_job(job: Job, protocol: BenchProtocol, batch_size: int | None) -> dict:
    """All proxies of one class representative, on one thread; returns its record.

    ``batch_size`` None (recorded as null) means each proxy's reference minibatch size."""
    import torch

    from naskit.data import load_dataset
    from naskit.estimate.proxies import compute_proxies

    torch.set_num_threads(1)
    (seed,) = job.seeds
    scores = compute_proxies(job.arch, load_dataset(protocol.dataset), seed=seed, batch_size=batch_size,
                             network=protocol.network)
    return {"key": job.key, "arch": job.arch, "seed": seed, "batch_size": batch_size,
            "host": platform.node(), "torch": torch.__version__, **scores}


def pending(folder=FOLDER, seed: int = 0, shard=(0, 1), limit: int | None = None) -> list[Job]:
    check_shard(shard)
    done = {r["key"] for r in read_records(folder, PREFIX, ("key", "seed")) if r["seed"] == seed}
    reps = class_representatives()
    jobs = [Job(k, str(reps[k]), (seed,)) for n, k in enumerate(sorted(reps)) if n % shard[1] == shard[0]]
    todo = [j for j in jobs if j.key not in done]
    return todo[:limit] if limit is not None else todo


def compute_space(folder=FOLDER, seed: int = 0, batch_size: int | None = None, workers: int | None = None,
                  executor: cf.Executor | None = None, shard=(0, 1), limit: int | None = None,
                  progress: bool = True, protocol: BenchProtocol | None = None) -> int:
    """Score the pending classes with the network and data of ``protocol`` (default: v1's);
    returns how many records were written."""
    todo = pending(folder, seed, shard, limit)
    return run_jobs(folder, PREFIX, todo, proxy_job, (protocol or BenchProtocol(), batch_size), shard=shard,
                    workers=workers, executor=executor, progress=progress, desc="proxies", unit="cell")


def load_space_proxies(folder: str | Path | None = None, seed: int = 0) -> pd.DataFrame:
    """The records as a DataFrame indexed by class key.

    ``folder``: a folder of records, or a shipped benchmark version (``"v1"``, ``"v2"``) for
    the records scored with that version's network and data (default: the default version's,
    ``DEFAULT_VERSION``). Pass a loaded table's ``version`` to get the records that match it::

        bench = naskit.load_benchmark("v1")
        proxies = load_space_proxies(bench.version)
    """
    if folder is None or (isinstance(folder, str) and folder in VERSIONS):
        folder = proxies_folder(folder or DEFAULT_VERSION)
    records = [r for r in read_records(folder, PREFIX, ("key", "seed")) if r["seed"] == seed]
    if not records:
        raise FileNotFoundError(f"no proxy records in {folder}; run `naskit estimate proxies` first")
    return pd.DataFrame(records).set_index("key")


def space_scores(bench, proxies: pd.DataFrame, name: str) -> np.ndarray:
    """Proxy ``name`` for each entry of ``bench`` (NaN where the class was not scored)."""
    keys = bench.meta["keys"]
    return proxies[name].reindex(keys).to_numpy(float)


def sample_proxies(bench, n: int, seed: int = 0, batch_size: int | None = None) -> pd.DataFrame:
    """Proxies for ``n`` random classes of ``bench``, computed here and now (for quick looks
    and smoke runs when the whole-space records are not at hand), with the network and data of
    the protocol the table records (v1's when it records none)."""
    keys = bench.meta["keys"]
    picks = np.random.default_rng(seed).choice(len(keys), size=min(n, len(keys)), replace=False)
    protocol = bench.protocol or BenchProtocol()
    records = [proxy_job(Job(keys[i], bench.entry_names[i], (0,)), protocol, batch_size) for i in sorted(picks)]
    return pd.DataFrame(records).set_index("key")


