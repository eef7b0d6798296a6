"""The evaluator protocol: what the search loop, experiments and plots need of any evaluator.

An evaluator turns a cell into a ``Result`` with its cost, whatever it does inside: look the
cell up in a table, train it, score it with a zero-cost proxy, extrapolate its learning curve
or ask a surrogate model. Every evaluator in ``naskit.evaluators`` follows this protocol, and
``tests/test_evaluators.py`` runs one conformance suite over all of them: a ``Result`` with a
cost for every fidelity, a mistaken request refused before any work, a failure recorded in the
result rather than raised, the same result for the same cell and seed, settings that describe
it, a copy that pickles (for workers).

Example: the smallest evaluator, which scores a cell by its number of convolutions.
    >>> from naskit.core.checks import as_arch, check_fidelity
    >>> class CountConvs:
    ...     name, max_fidelity = "count_convs", 1
    ...     def evaluate(self, arch, fidelity=None):
    ...         arch, _ = as_arch(arch), check_fidelity(fidelity, self.max_fidelity)  # mistakes raise first
    ...         convs = sum(op.startswith("nor_conv") for op in arch.ops)
    ...         return Result(arch, fidelity, float("nan"), estimate=float(convs))
    ...     def describe(self):
    ...         return {"name": self.name}
    >>> isinstance(CountConvs(), Evaluator)
    True
    >>> CountConvs().evaluate("|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|").score
    2.0
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from naskit.core.space import Arch
from naskit.core.types import Result


@runtime_checkable
class Evaluator(Protocol):
    """Anything with ``evaluate(arch, fidelity=None) -> Result``, ``max_fidelity``, ``name`` and ``describe()``.

    ``evaluate`` takes an ``Arch`` or an NB201 string and a ``fidelity``: training epochs,
    1..``max_fidelity`` (None: the evaluator's default); evaluators without epochs (proxies,
    surrogates, curve extrapolation) have ``max_fidelity == 1``. Its contract:

    * **A mistaken request raises** a ``ValueError`` before any work: an arch string that does
      not parse (the message names the bad token) or a fidelity outside 1..``max_fidelity``
      (the message gives the range). Mistaken settings raise in the constructor.
    * **A failed evaluation is a result, never an exception**: the cell cannot be evaluated
      (the table lacks it, its recorded run stopped early, training diverged or crashed, a
      proxy ran out of memory). The ``Result`` has ``status`` ``"failed"`` (``"diverged"``: a
      non-finite training loss), NaN accuracies, the reason in ``error`` and the cost spent
      (``failed_result``); strategies rank it worst and the search goes on.
    * **The search loop is the safety net**: ``naskit.runs.loop.search`` records anything
      ``evaluate`` raises all the same (a strategy asking for a fidelity the evaluator lacks,
      a bug) as a failed result with no cost, and retries once an evaluation whose worker died.
    * **Deterministic**: the same cell, fidelity and settings (seed included) give the same
      ``Result``, apart from measured seconds: ``wall_seconds``, ``cpu_seconds``, and
      ``sim_seconds`` where the evaluator measures it (training, live proxies, predictions).
    * **Cost**: ``flops`` (2 per multiply-add; 0 where the evaluator counts none) and
      ``sim_seconds`` are finite and non-negative. Accuracies are fractions in [0, 1], or NaN
      when the evaluator predicts none; then ``estimate`` holds its score.
    * **Pickles**, and the copy gives the same results: process pools and Dask run copies.

    ``describe()`` returns plain JSON values (``"name"`` first) that identify the evaluator and
    everything its results depend on: the ledger records it, and a resumed run is refused when
    it differs. Optionally, ``for_run(seed)`` returns the same evaluator for search run ``seed``
    (``TabularEvaluator``: which recorded training run each query reads);
    ``naskit.runs.experiment`` calls it so that each run sees its own noise.
    """

    name: str
    max_fidelity: int

    def evaluate(self, arch: Arch | str, fidelity: int | None = None) -> Result: ...

    def describe(self) -> dict: ...


def failed_result(arch: Arch, fidelity: int | None, error: str, status: str = "failed", **cost) -> Result:
    """The ``Result`` of an evaluation that failed: NaN accuracies, ``error`` saying why, and
    ``cost`` (``flops``, ``sim_seconds``, ...) what it spent before failing (default: nothing)."""
    if status not in ("failed", "diverged"):
        raise ValueError(f"a failed evaluation's status is 'failed' or 'diverged', got {status!r}")
    nan = float("nan")
    return Result(arch, fidelity, nan, nan, status=status, error=error, **cost)
