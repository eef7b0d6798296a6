"""The evaluator protocol: what the search loop, experiments and plots need of any evaluator.

An evaluator turns a cell into a ``Result`` with its cost, whatever it does inside: look the
cell up in a table, train it, score it with a zero-cost proxy, extrapolate its learning curve
or ask a surrogate model. Every evaluator in ``naskit.evaluators`` follows this protocol, and
``tests/test_evaluators.py`` runs one conformance suite over all of them: a ``Result`` with a
cost for every fidelity, a failure recorded in the result rather than raised, the same result
for the same cell and seed, settings that describe it, a copy that pickles (for workers).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from naskit.core.space import Arch
from naskit.core.types import Result


@runtime_checkable
class Evaluator(Protocol):
    """Anything with ``evaluate(arch, fidelity=None) -> Result``, ``max_fidelity`` and ``describe()``.

    ``fidelity`` counts training epochs (1..``max_fidelity``; None: the evaluator's default);
    evaluators without epochs (proxies, surrogates) have ``max_fidelity == 1``. ``describe()``
    returns plain JSON values that identify the evaluator and everything its results depend on
    (the ledger records it, and a resumed run is refused when it differs).
    """

    name: str
    max_fidelity: int

    def evaluate(self, arch: Arch | str, fidelity: int | None = None) -> Result: ...

    def describe(self) -> dict: ...
