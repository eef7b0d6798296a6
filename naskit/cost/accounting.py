"""End-to-end cost: what a training run, a search or an experiment cost, phase by phase.

NAS papers often report only the search phase; Lindauer & Hutter (2020) ask for the whole
bill. ``cost_breakdown`` gives it for any naskit result as a DataFrame, one row per phase and
a ``total`` row:

- ``search``: the strategy's own work (proposing, learning, bookkeeping), or a one-shot
  method's supernet and architecture training;
- ``evaluation``: scoring the candidates (training them, looking them up, ranking them on a
  supernet);
- ``final``: training and validating the chosen cell at full fidelity, when it was done.

Columns: ``flops`` (2 per multiply-add), ``sim_seconds`` (the tabular benchmark's simulated
clock: what the evaluations would have taken to train), measured ``wall_seconds`` and
``cpu_seconds``, the estimated ``kwh`` and ``kg_co2e`` (``naskit.cost.energy.estimate_energy``), and
``gpu_hours_estimate`` (``naskit.cost.energy.gpu_hours``: the FLOPs on the reference GPU, an
ESTIMATE). ``attrs["hardware"]`` says where it ran and ``attrs["notes"]`` what each figure is.

Each result says its own phases: ``cost_phases()`` returns ``{phase: {measure: value}}``
(``TrainResult``: all of it is ``final``; ``SearchRun``: the strategy, the candidates, the
incumbent's final evaluation; ``OneShotResult``: the supernet, the ranking), so this module
knows no result class and imports nothing above the cost layer.

Example:
    >>> from naskit.trainer.loop import TrainResult
    >>> run = TrainResult("cell", 0, 1, train_flops=900, eval_flops=100, wall_seconds=2.0, cpu_seconds=2.0)
    >>> table = cost_breakdown(run)
    >>> table.index.tolist(), float(table.loc["total", "flops"]), float(table.loc["final", "wall_seconds"])
    (['search', 'evaluation', 'final', 'total'], 1000.0, 2.0)
"""

from __future__ import annotations

import pandas as pd

from naskit.cost.energy import REFERENCE_GPU, REFERENCE_GPU_UTILIZATION, estimate_energy, gpu_hours

PHASES = ("search", "evaluation", "final")
MEASURES = ("flops", "sim_seconds", "wall_seconds", "cpu_seconds")


def phase_table(phases: dict[str, dict], device: str = "cpu", hardware: dict | None = None) -> pd.DataFrame:
    """The breakdown DataFrame from ``{phase: {flops, sim_seconds, wall_seconds, cpu_seconds}}``.

    Missing phases and measures are 0; energy and GPU-hours are derived from the measures.
    """
    unknown = set(phases) - set(PHASES)
    if unknown:
        raise ValueError(f"unknown phases {sorted(unknown)}; phases are {list(PHASES)}")
    table = pd.DataFrame([[float(phases.get(p, {}).get(m, 0.0) or 0.0) for m in MEASURES] for p in PHASES],
                         index=list(PHASES), columns=list(MEASURES))
    table.loc["total"] = table.sum()
    energy = [estimate_energy(c, w, device) for c, w in zip(table["cpu_seconds"], table["wall_seconds"])]
    table["kwh"] = [e.kwh for e in energy]
    table["kg_co2e"] = [e.kg_co2e for e in energy]
    table["gpu_hours_estimate"] = [gpu_hours(f) for f in table["flops"]]
    table.attrs["hardware"] = hardware or _hardware(device)
    table.attrs["notes"] = (
        "flops: 2 per multiply-add; sim_seconds: the benchmark's simulated training time; wall/cpu: measured "
        f"here; kWh and kg CO2e: estimated ({energy[-1].model}); "
        f"gpu_hours_estimate: flops on a {REFERENCE_GPU} at {REFERENCE_GPU_UTILIZATION:.0%} utilisation, "
        "an estimate, not a measurement")
    return table


# Units a person reads, per measure: (column name, [(unit, factor from the base unit)], decimals
# of significance). The unit of each column is the one that puts its largest value in [1, 1000).
READABLE_UNITS = {
    "flops": ("FLOPs", [("FLOPs", 1.0), ("kFLOPs", 1e-3), ("MFLOPs", 1e-6), ("GFLOPs", 1e-9), ("TFLOPs", 1e-12),
                        ("PFLOPs", 1e-15)]),
    "sim_seconds": ("simulated", [("s", 1.0), ("min", 1 / 60), ("h", 1 / 3600)]),
    "wall_seconds": ("wall", [("s", 1.0), ("min", 1 / 60), ("h", 1 / 3600)]),
    "cpu_seconds": ("CPU", [("s", 1.0), ("min", 1 / 60), ("h", 1 / 3600)]),
    "kwh": ("energy", [("µWh", 1e9), ("mWh", 1e6), ("Wh", 1e3), ("kWh", 1.0), ("MWh", 1e-3)]),
    "kg_co2e": ("CO2e", [("µg", 1e9), ("mg", 1e6), ("g", 1e3), ("kg", 1.0), ("t", 1e-3)]),
    "gpu_hours_estimate": ("GPU time (estimate)", [("ms", 3.6e6), ("s", 3600.0), ("min", 60.0), ("h", 1.0)]),
}


def readable_bill(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """A ``cost_breakdown`` table as a person reads it: each column in one unit chosen for its
    largest value (mWh, not ``1.74e-08`` kWh; TFLOPs, not ``3.44e+12`` FLOPs), named in the
    header, every figure to ``digits`` significant digits, as text (it renders the same in a
    notebook, a terminal and an exported HTML page). Columns other than the bill's are dropped.

    Example:
        >>> bill = phase_table({"search": {"flops": 3.4e12, "wall_seconds": 90.0, "cpu_seconds": 170.0}})
        >>> readable_bill(bill)[["FLOPs (TFLOPs)", "wall (min)"]].loc["total"].tolist()
        ['3.40', '1.50']
    """
    columns = {}
    for measure, (name, units) in READABLE_UNITS.items():
        if measure not in table:
            continue
        values = table[measure].astype(float)
        largest = float(values.abs().max()) if len(values) else 0.0
        fitting = [(unit, factor) for unit, factor in units if largest * factor >= 1]
        unit, factor = fitting[-1] if fitting else units[0]
        columns[f"{name} ({unit})"] = [_significant(v * factor, digits) for v in values]
    return pd.DataFrame(columns, index=table.index)


def _significant(value: float, digits: int) -> str:
    """``1234.5`` -> ``"1,230"`` (never ``"1.23e+03"``), ``0.012345`` -> ``"0.0123"``, ``0`` -> ``"0"``."""
    import math

    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    return f"{round(value, decimals):,.{max(decimals, 0)}f}"


def add(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Sum breakdowns (e.g. over an experiment's runs); hardware is taken from the first."""
    if not tables:
        return phase_table({})
    total = sum(t[list(MEASURES)].loc[list(PHASES)] for t in tables)
    return phase_table({p: total.loc[p].to_dict() for p in PHASES}, hardware=tables[0].attrs.get("hardware"))


def cost_breakdown(result, final=None, device: str | None = None) -> pd.DataFrame:
    """The phase-by-phase cost of any result that says its phases: a ``TrainResult``,
    ``SearchRun`` or ``OneShotResult``.

    Args:
        result: anything with ``cost_phases() -> {phase: {measure: value}}``.
        final: the final training of the chosen cell when it was done separately (a
            ``TrainResult`` or a search ``Result``); it replaces the result's own ``final``
            phase (a ``SearchRun`` run with ``final=True`` carries one).
        device: where the phases ran, for the energy estimate and ``attrs["hardware"]``
            (default: the result's ``device`` when it records one, as a one-shot search does;
            else ``"cpu"``).
    """
    if not callable(getattr(result, "cost_phases", None)):
        raise TypeError("cost_breakdown takes a result that says its cost_phases() (a TrainResult, SearchRun or "
                        f"OneShotResult), got {type(result).__name__}")
    phases = dict(result.cost_phases())
    if final is not None:
        phases["final"] = total_cost(final)
    return phase_table(phases, device or getattr(result, "device", None) or "cpu")


def total_cost(result) -> dict[str, float]:
    """All that ``result`` cost, per measure: the sum of its phases when it says them (a
    ``TrainResult``), else its own ``flops``, ``sim_seconds``, ... (a search ``Result``)."""
    if callable(getattr(result, "cost_phases", None)):
        rows = result.cost_phases().values()
        return {m: sum(row.get(m, 0.0) or 0.0 for row in rows) for m in MEASURES}
    return {m: getattr(result, m, 0.0) for m in MEASURES}


def _hardware(device: str) -> dict:
    import os
    import platform

    import torch

    from naskit.runtime.manifest import cpu_model

    info = {"device": str(device), "cpu": cpu_model(), "logical_cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "host": platform.node(), "torch": torch.__version__}
    if str(device).startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info
