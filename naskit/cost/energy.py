"""What a run's seconds cost in energy and emissions, estimated offline or measured.

Energy is *estimated* from CPU and wall seconds with a documented model (``estimate_energy``,
the Green Algorithms model), or *measured* with codecarbon when the ``energy`` extra is
installed (``measure_energy``). ``gpu_hours`` converts FLOPs into the GPU-hours a reference GPU
would need, for comparisons with the literature.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass

# --- Energy: an offline estimate, and an optional measurement ---------------------------------
# Defaults of the Green Algorithms model (Lannelongue, Grealey & Inouye 2021, "Green Algorithms:
# Quantifying the Carbon Footprint of Computation", Adv. Sci. 8, 2100707, doi:10.1002/advs.202100707;
# defaults from github.com/GreenAlgorithms/green-algorithms-tool).
WATTS_PER_CORE = 12.0  # W per fully used core: the tool's "Any" CPU (TDP / cores of typical CPUs)


WATTS_PER_GB = 0.3725  # W per GB of memory available to the job (Lannelongue et al. 2021)


MEMORY_GB = 4.0  # a guess at what a small PyTorch job holds; pass your job's memory


PUE = 1.0  # power usage effectiveness: 1.0 for a laptop; data centres are ~1.1-1.7


# A GPU counted at its TDP for the whole wall time: NVIDIA V100 PCIe, 250 W (NVIDIA datasheet).
GPU_WATTS = {"cuda": 250.0}
# World-average grid carbon intensity, 475 g CO2/kWh (IEA, Global Energy & CO2 Status Report 2019).
KG_CO2E_PER_KWH = 0.475


ENERGY_MODEL = (
    "Green Algorithms (Lannelongue et al. 2021): kWh = PUE * (cpu_seconds * watts_per_core"
    " + wall_seconds * (memory_gb * watts_per_gb + gpu_watts)) / 3.6e6; kg CO2e = kWh * intensity"
)


_JOULES_PER_KWH = 3.6e6


@dataclass(frozen=True)
class EnergyAssumptions:
    """The numbers an energy estimate rests on (see ``estimate_energy``)."""

    device: str
    watts_per_core: float
    memory_gb: float
    watts_per_gb: float
    gpu_watts: float
    pue: float
    kg_co2e_per_kwh: float


@dataclass(frozen=True)
class EnergyEstimate:
    """Estimated energy (kWh) and emissions (kg CO2e), split by part, with the model and assumptions.

    The parts ``cpu_kwh + memory_kwh + gpu_kwh == kwh`` include the PUE.
    """

    kwh: float
    kg_co2e: float
    cpu_kwh: float
    memory_kwh: float
    gpu_kwh: float
    model: str
    assumptions: EnergyAssumptions

    def to_dict(self) -> dict:
        return asdict(self)


def _device_type(device) -> str:
    return str(device).split(":")[0]


def _check_non_negative(**values: float) -> None:
    for name, value in values.items():
        if not value >= 0:  # also rejects NaN
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")


def estimate_energy(
    cpu_seconds: float,
    wall_seconds: float,
    device: str = "cpu",
    *,
    watts_per_core: float = WATTS_PER_CORE,
    memory_gb: float = MEMORY_GB,
    watts_per_gb: float = WATTS_PER_GB,
    gpu_watts: float | None = None,
    pue: float = PUE,
    kg_co2e_per_kwh: float = KG_CO2E_PER_KWH,
) -> EnergyEstimate:
    """Estimate, offline, the energy and emissions of a run from its CPU and wall seconds.

    This is an **estimate from a model**, not a measurement: the Green Algorithms model
    (Lannelongue et al. 2021). Its CPU term uses CPU-seconds, which already equal
    cores x usage x runtime (``Stopwatch.cpu_seconds`` counts every thread of the process)::

        kWh    = PUE * (cpu_seconds * watts_per_core
                        + wall_seconds * (memory_gb * watts_per_gb + gpu_watts)) / 3.6e6
        kgCO2e = kWh * kg_co2e_per_kwh

    Defaults: 12 W per core (Green Algorithms' "Any" CPU), 0.3725 W per GB of memory
    (Lannelongue et al. 2021), 4 GB, PUE 1.0 (a laptop), 0.475 kg CO2e/kWh (world average,
    IEA 2019). On a GPU (``device="cuda"``), the GPU draws ``gpu_watts`` (default 250 W, an
    NVIDIA V100's TDP) for the whole wall time, an upper bound; for other accelerators
    (e.g. ``"mps"``) pass ``gpu_watts``. For a measurement, see ``measure_energy``.

    Args:
        cpu_seconds: CPU seconds of the process (user + system, all threads).
        wall_seconds: elapsed seconds.
        device: ``"cpu"``, ``"cuda"`` (or ``"cuda:N"``), or another torch device with ``gpu_watts``.
        watts_per_core, memory_gb, watts_per_gb, gpu_watts, pue, kg_co2e_per_kwh: the assumptions.

    Returns:
        An ``EnergyEstimate`` holding kWh, kg CO2e, the parts, the model and its assumptions.

    Example:
        >>> e = estimate_energy(cpu_seconds=3600, wall_seconds=3600)  # 1 core busy for 1 hour
        >>> round(e.kwh, 4), round(e.kg_co2e, 4)  # 12 Wh of CPU + 1.49 Wh of memory
        (0.0135, 0.0064)
    """
    kind = _device_type(device)
    if gpu_watts is None:
        if kind != "cpu" and kind not in GPU_WATTS:
            raise ValueError(
                f"no default gpu_watts for device {device!r}; pass gpu_watts=..., "
                f"or use one of the devices with a default: {['cpu', *GPU_WATTS]}"
            )
        gpu_watts = GPU_WATTS.get(kind, 0.0)
    _check_non_negative(
        cpu_seconds=cpu_seconds, wall_seconds=wall_seconds, watts_per_core=watts_per_core,
        memory_gb=memory_gb, watts_per_gb=watts_per_gb, gpu_watts=gpu_watts,
        kg_co2e_per_kwh=kg_co2e_per_kwh,
    )
    if not pue >= 1.0:
        raise ValueError(f"pue must be >= 1.0 (1.0 = no overhead), got {pue!r}")
    cpu_kwh = pue * cpu_seconds * watts_per_core / _JOULES_PER_KWH
    memory_kwh = pue * wall_seconds * memory_gb * watts_per_gb / _JOULES_PER_KWH
    gpu_kwh = pue * wall_seconds * gpu_watts / _JOULES_PER_KWH
    kwh = cpu_kwh + memory_kwh + gpu_kwh
    assumptions = EnergyAssumptions(
        kind, watts_per_core, memory_gb, watts_per_gb, gpu_watts, pue, kg_co2e_per_kwh
    )
    return EnergyEstimate(
        kwh, kwh * kg_co2e_per_kwh, cpu_kwh, memory_kwh, gpu_kwh, ENERGY_MODEL, assumptions
    )


@dataclass
class EnergyMeasurement:
    """Energy and emissions of a ``with measure_energy(...)`` block, filled in on exit."""

    kwh: float = 0.0
    kg_co2e: float = 0.0
    seconds: float = 0.0
    country_iso_code: str = ""
    source: str = ""


@contextlib.contextmanager
def measure_energy(country_iso_code: str, **tracker_kwargs) -> Iterator[EnergyMeasurement]:
    """Measure a block's energy with codecarbon's ``OfflineEmissionsTracker`` (no network).

    codecarbon reads hardware counters where it can (Intel RAPL, NVML) and falls back to
    its own TDP model; see its docs. Needs the optional extra: ``pip install 'naskit[energy]'``.

    Args:
        country_iso_code: 3-letter ISO code of the grid's country, e.g. ``"FRA"``, ``"USA"``.
        **tracker_kwargs: passed on to ``OfflineEmissionsTracker`` (e.g. ``measure_power_secs``).

    Yields:
        An ``EnergyMeasurement`` whose fields are set when the block ends.

    Example (needs codecarbon)::

        with measure_energy("FRA") as energy:
            train(arch, data)
        print(energy.kwh, energy.kg_co2e)
    """
    try:
        import codecarbon
        from codecarbon import OfflineEmissionsTracker
    except ImportError as err:
        raise ImportError(
            "measure_energy needs codecarbon: pip install 'naskit[energy]' "
            "(or use estimate_energy, which needs nothing)"
        ) from err
    options = {"save_to_file": False, "log_level": "error", **tracker_kwargs}
    with warnings.catch_warnings():  # codecarbon 3 deprecates save_to_file but still honours it
        warnings.simplefilter("ignore", DeprecationWarning)
        tracker = OfflineEmissionsTracker(country_iso_code=country_iso_code, **options)
    measurement = EnergyMeasurement(
        country_iso_code=country_iso_code, source=f"codecarbon {codecarbon.__version__}"
    )
    tracker.start()
    try:
        yield measurement
    finally:
        measurement.kg_co2e = float(tracker.stop() or 0.0)
        data = tracker.final_emissions_data
        measurement.kwh = float(data.energy_consumed)
        measurement.seconds = float(data.duration)


# The reference GPU for "GPU-hours": an NVIDIA V100, the GPU of most NAS papers' cost tables
# (DARTS, ENAS and NAS-Bench-201 report V100 or similar GPU-days). 15.7 TFLOP/s is its FP32
# peak (NVIDIA's V100 datasheet); small NAS networks reach a fraction of it, so the default
# utilisation is an assumption, stated wherever the figure is shown.
REFERENCE_GPU = "NVIDIA V100 (15.7 TFLOP/s FP32 peak)"


REFERENCE_GPU_FLOPS = 15.7e12


REFERENCE_GPU_UTILIZATION = 0.3


def gpu_hours(flops: float, utilization: float = REFERENCE_GPU_UTILIZATION,
              peak_flops: float = REFERENCE_GPU_FLOPS) -> float:
    """An ESTIMATE of the hours ``flops`` (2 per multiply-add) take on the reference GPU.

    ``hours = flops / (peak_flops * utilization) / 3600``. It converts naskit's measured FLOPs
    into the unit of the NAS literature's cost tables; it is not a measurement, and small
    networks typically use far less than 30 % of a GPU (see ``benchmarks/README.md``).

    Example:
        >>> round(gpu_hours(15.7e12 * 0.3 * 3600), 6)
        1.0
    """
    if not 0 < utilization <= 1:
        raise ValueError(f"utilization must be in (0, 1], got {utilization!r}")
    if flops < 0 or peak_flops <= 0:
        raise ValueError("flops must be >= 0 and peak_flops > 0")
    return flops / (peak_flops * utilization) / 3600.0
