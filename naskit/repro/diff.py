"""Compare two run manifests: the first question when two people get different numbers.

``diff_manifests(a, b)`` lists, field by field, what differs between two environments or
runs: library versions, git commit, platform and CPU, thread counts, the environment
variables that change numerics, seeds and the dataset hash. Fields that differ from run to
run by nature (timestamps, the command line) are left out unless asked for.

Example:
    >>> a = {"versions": {"torch": "2.13.0"}, "torch": {"num_threads": 1}, "seeds": {"train": 0}}
    >>> b = {"versions": {"torch": "2.13.0"}, "torch": {"num_threads": 2}, "seeds": {"train": 1}}
    >>> [d["field"] for d in diff_manifests(a, b)]
    ['seeds.train', 'torch.num_threads']
"""

from __future__ import annotations

from collections.abc import Mapping

VOLATILE = ("timestamp_utc", "argv")

# What a difference in each top-level section usually means for the numbers.
CONSEQUENCES = {
    "versions": "library versions: kernels and defaults may change results",
    "git": "code version: the code itself may differ",
    "platform": "hardware/OS: floating-point results can differ bit by bit across CPUs",
    "torch": "torch settings: thread count and deterministic mode change bit-level results",
    "env": "environment variables that change numerics or threading",
    "seeds": "random seeds: a different run, not only a different environment",
    "dataset": "data: a different dataset or split",
}


def _flatten(d: Mapping, prefix: str = "") -> dict:
    out = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):  # an empty section contributes no field
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def diff_manifests(a: Mapping, b: Mapping, include_volatile: bool = False) -> list[dict]:
    """The fields whose values differ between manifests ``a`` and ``b``, sorted by name.

    Each item: ``field`` (dotted path), ``a``, ``b`` (``None`` when absent) and ``meaning``
    (what a difference in that section usually implies).
    """
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        raise ValueError("diff_manifests compares two manifest dicts (naskit.manifest() or naskit.load_manifest(path))")
    fa, fb = _flatten(a), _flatten(b)
    rows = []
    for field in sorted(set(fa) | set(fb)):
        if not include_volatile and field.split(".")[0] in VOLATILE:
            continue
        va, vb = fa.get(field), fb.get(field)
        if va != vb:
            rows.append({"field": field, "a": va, "b": vb,
                         "meaning": CONSEQUENCES.get(field.split(".")[0], "")})
    return rows


def format_diff(rows: list[dict]) -> str:
    """The differences as a Markdown table (or a sentence when there are none)."""
    if not rows:
        return "The two manifests agree on every recorded field."
    lines = ["| field | a | b | what it can change |", "|---|---|---|---|"]
    lines += [f"| `{r['field']}` | {r['a']!r} | {r['b']!r} | {r['meaning']} |" for r in rows]
    return "\n".join(lines)
