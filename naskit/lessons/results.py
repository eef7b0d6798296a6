"""A lesson's key numbers, machine-readable: written as recorded, compared between runs."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any


# --- Key numbers, machine-readable -------------------------------------------------------------
def results_path(output: str | Path) -> Path:
    """``out/NN_name.ipynb`` -> ``out/NN_name.results.json``."""
    output = Path(output)
    return output.with_name(f"{output.stem}.results.json")


class Results:
    """A lesson's key numbers, written to a JSON file as they are recorded.

    Lessons record what a learner or an instructor would compare between two runs (the best
    cell found, an accuracy, a correlation) with ``record``, and measured times separately with
    ``timing``: two executions of a lesson must give identical ``results``, while ``timings``
    are expected to differ. ``naskit lessons run`` injects the file's path as ``RESULTS``;
    with ``path=None`` (a lesson opened in JupyterLab) the numbers are only kept in memory.
    Accuracies are recorded as fractions in [0, 1], like everywhere else in naskit's machine-readable
    outputs: a number under a key that names an accuracy (``acc`` or ``accuracy`` as a word of
    the key, or of a key around it) outside [0, 1] is refused, so percent never gets in.

    Example:
        >>> results = Results(None)
        >>> results.record("best_test_acc", 0.9712)
        >>> results.timing("search_seconds", 1.5)
        >>> results.data
        {'results': {'best_test_acc': 0.9712}, 'timings': {'search_seconds': 1.5}, 'claims': {}}
    """

    def __init__(self, path: str | Path | None):
        self.path = None if path is None else Path(path)
        self.data: dict[str, dict] = {"results": {}, "timings": {}, "claims": {}}

    def claim(self, key: str, holds: Any, says: str) -> bool:
        """Record whether a sentence of the lesson holds for the numbers this run printed.

        A lesson states a claim in its text ("the vote beats the best single score") and checks it
        next to the numbers with ``results.claim("vote_beats_best", vote > best, "the vote ...")``.
        ``naskit lessons run`` reports every claim that does not hold in full mode, and the test
        suite checks the claims of the committed full-mode results, so a change that breaks a
        sentence fails instead of leaving it false. Returns ``holds`` as a bool.

        Example:
            >>> results = Results(None)
            >>> results.claim("more_seeds_narrow_the_band", 0.3 < 0.5, "10 seeds give a narrower band than 3")
            True
            >>> results.data["claims"]
            {'more_seeds_narrow_the_band': {'holds': True, 'says': '10 seeds give a narrower band than 3'}}
        """
        holds = bool(holds)
        self._set("claims", key, {"holds": holds, "says": str(says)})
        return holds

    def record(self, key: str, value: Any) -> None:
        """Record a result (a number, string, bool, or a list/dict of them); accuracies as fractions."""
        check_fractions(key, _plain(value))
        self._set("results", key, value)

    def timing(self, key: str, seconds: float) -> None:
        """Record a measured duration: kept apart, since it differs between runs."""
        self._set("timings", key, float(seconds))

    def _set(self, section: str, key: str, value: Any) -> None:
        import json

        from naskit.runtime.manifest import json_checked

        self.data[section][str(key)] = json.loads(json.dumps(json_checked(key, _plain(value))))
        if self.path is not None:
            from naskit.runtime.files import atomic_write_bytes

            text = json.dumps(self.data, indent=1, sort_keys=True) + "\n"
            atomic_write_bytes(self.path, text.encode())


def names_an_accuracy(key: Any) -> bool:
    """Whether ``key`` names an accuracy: ``"test_acc"``, ``"test acc (%)"``, ``"accuracy"``, not ``"accumulated"``."""
    return bool({"acc", "accuracy"} & set(re.split(r"[^a-z0-9]+", str(key).lower())))


def check_fractions(key: str, value: Any, accuracy: bool = False) -> None:
    """A ``ValueError`` naming ``key`` when a number recorded as an accuracy (under ``key`` or a key
    inside it) is outside [0, 1]; NaN, a run that gave no accuracy, is allowed."""
    accuracy = accuracy or names_an_accuracy(key)
    if isinstance(value, dict):
        for inner, v in value.items():
            check_fractions(inner, v, accuracy or names_an_accuracy(inner))
    elif isinstance(value, list):
        for v in value:
            check_fractions(key, v, accuracy)
    elif accuracy and isinstance(value, (int, float)) and not isinstance(value, bool) and not (
            math.isnan(value) or 0 <= value <= 1):
        hint = "; it looks like percent: divide by 100" if 1 < value <= 100 else ""
        raise ValueError(f"{key}: accuracies are recorded as fractions in [0, 1], got {value!r}{hint}")


def _plain(value: Any) -> Any:
    """NumPy scalars and arrays, tuples -> plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def broken_claims(data: dict) -> dict[str, str]:
    """The claims of a results file that do not hold: ``{key: what the lesson says}``."""
    return {key: claim["says"] for key, claim in data.get("claims", {}).items() if not claim["holds"]}


def load_results(path: str | Path) -> dict:
    """A results file written by ``Results``."""
    import json

    return json.loads(Path(path).read_text(encoding="utf-8"))


def compare_results(a: dict, b: dict) -> list[str]:
    """The keys whose recorded results differ between two runs (timings are not compared)."""
    import json

    ra, rb = a.get("results", {}), b.get("results", {})
    # compared as JSON text, so that NaN equals NaN and a missing key differs from any value
    text = lambda value: json.dumps(value, sort_keys=True)  # noqa: E731
    return sorted(k for k in set(ra) | set(rb) if k not in ra or k not in rb or text(ra[k]) != text(rb[k]))
