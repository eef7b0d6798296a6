"""A bridge to Optuna: any of its samplers searches NB201 cells through Optuna's ask/tell interface.

Akiba, Sano, Yanase, Ohta & Koyama (KDD 2019), "Optuna: A Next-generation Hyperparameter
Optimization Framework". A cell is six categorical parameters, one per edge, named by the edge
(``edge_1_0`` is the edge from node 0 to node 1, in ``EDGES`` order), each choosing one of the 5
``OPS``. Optuna is an optional extra (``pip install "naskit[optuna]"``), imported only when an
``OptunaStrategy`` is built.
"""

from __future__ import annotations

import copyreg
import io
import logging
import pickle
import threading
from contextlib import contextmanager

from naskit.core.space import EDGES, OPS, Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies.base import Strategy
from naskit.strategies.random_search import sample_new

PARAMS: tuple[str, ...] = tuple(f"edge_{to}_{src}" for to, src in EDGES)  # one Optuna parameter per edge
SAMPLERS = ("tpe", "random", "nsgaii", "gp")
MAX_REPEATS = 100  # duplicates in a row before the bridge enqueues a fresh random cell instead


def import_optuna():
    """Optuna, or an ``ImportError`` that says which extra installs it."""
    try:
        import optuna
    except ModuleNotFoundError as exc:
        raise ImportError('OptunaStrategy needs Optuna, an optional extra of naskit: pip install "naskit[optuna]" '
                          '(or pip install "optuna>=4")') from exc
    return optuna


def make_sampler(name: str, seed: int, options: dict):
    """Optuna's sampler called ``name`` (one of ``SAMPLERS``), seeded, with its keyword ``options``."""
    optuna = import_optuna()
    classes = {"tpe": optuna.samplers.TPESampler, "random": optuna.samplers.RandomSampler,
               "nsgaii": optuna.samplers.NSGAIISampler, "gp": getattr(optuna.samplers, "GPSampler", None)}
    if classes[name] is None:
        raise ValueError(f"sampler 'gp' needs Optuna's GPSampler (optuna >= 3.6); this optuna is {optuna.__version__}")
    return classes[name](seed=seed, **options)


@contextmanager
def quiet_optuna():
    """Optuna logs every finished trial at INFO; the search loop reports progress itself."""
    logger = logging.getLogger("optuna")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


class OptunaStrategy(Strategy):
    """Run an Optuna sampler (TPE by default) on the NB201 cells, maximising the validation accuracy.

    ``ask`` is ``study.ask`` with the six edge parameters, ``tell`` is ``study.tell`` with the
    result's score (its ``valid_acc``, or the evaluator's estimate), or, for a failed result, the
    trial's state ``TrialState.FAIL`` (Optuna's samplers learn nothing from a failed trial).

    A sampler may propose a cell again. One already told is told its known value (or failed
    again) at once, as a cache would, and Optuna is asked again; one still being evaluated is
    told as failed (its real result comes with the first trial), with the user attribute
    ``duplicate_of`` naming that trial. After ``MAX_REPEATS`` repeats in a row, a random cell
    never asked is enqueued (``study.enqueue_trial``) and asked. So the strategy never proposes
    a cell twice, and ``study`` holds more trials than the search has evaluations.

    Args:
        space: the search space (a fresh ``NB201Space`` by default).
        seed: seeds the sampler (and the strategy's own ``random.Random``, for the fallback cells).
        sampler: ``"tpe"`` (Bergstra et al. 2011; Optuna's default), ``"random"``, ``"nsgaii"``
            (Deb et al. 2002; here with one objective) or ``"gp"`` (Gaussian-process BO).
        sampler_options: keyword arguments for the sampler's class, e.g. ``{"n_startup_trials": 10}``.

    ``study`` is the Optuna ``Study`` (in memory); ``scores`` maps each told cell to its score.

    Example (with the extra installed):
        >>> strategy = OptunaStrategy(seed=0, sampler="tpe")
        >>> proposal = strategy.ask()
        >>> strategy.study.trials[0].params["edge_1_0"] == proposal.arch.ops[0]
        True
        >>> strategy.tell(proposal, Result(proposal.arch, None, 0.9))
        >>> strategy.study.best_value
        0.9
    """

    name = "optuna"

    def __init__(self, space: NB201Space | None = None, seed: int = 0, *, sampler: str = "tpe",
                 sampler_options: dict | None = None):
        super().__init__(space, seed)
        if sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {sampler!r}; the Optuna samplers are: {', '.join(SAMPLERS)}")
        optuna = import_optuna()
        self.sampler, self.sampler_options = sampler, sampler_options
        with quiet_optuna():
            self.study = optuna.create_study(direction="maximize",
                                             sampler=make_sampler(sampler, seed, dict(sampler_options or {})))
        self.distributions = {p: optuna.distributions.CategoricalDistribution(OPS) for p in PARAMS}
        self.scores: dict[Arch, float] = {}   # every cell told: its score, -inf for a failure
        self.pending: dict[Arch, int] = {}    # cells asked and not told: their trial number

    def ask(self) -> Proposal:
        with quiet_optuna():
            for _ in range(MAX_REPEATS):
                trial = self.study.ask(self.distributions)
                arch = Arch(tuple(trial.params[p] for p in PARAMS))
                if arch not in self.scores and arch not in self.pending:
                    break
                self.tell_repeat(trial, arch)
            else:  # the sampler keeps repeating itself: give it a new cell to try
                arch = sample_new(self.space, self.rng, self.scores.keys() | self.pending.keys())
                self.study.enqueue_trial(dict(zip(PARAMS, arch.ops)))
                trial = self.study.ask(self.distributions)
        self.pending[arch] = trial.number
        return Proposal(arch)

    def tell(self, proposal: Proposal, result: Result) -> None:
        if proposal.arch not in self.pending:
            raise ValueError(f"{proposal} was not asked by this OptunaStrategy, or was told already")
        self.scores[proposal.arch] = result.score
        with quiet_optuna():
            self.tell_trial(self.pending.pop(proposal.arch), result.score)

    def tell_repeat(self, trial, arch: Arch) -> None:
        """Finish a trial that repeats a cell: its known score, or failed while the first is running."""
        if arch in self.scores:
            self.tell_trial(trial.number, self.scores[arch])
        else:
            trial.set_user_attr("duplicate_of", self.pending[arch])
            self.tell_trial(trial.number, float("-inf"))

    def tell_trial(self, number: int, score: float) -> None:
        """``study.tell``: the score, or ``TrialState.FAIL`` for -inf (a failure)."""
        if score == float("-inf"):
            self.study.tell(number, state=import_optuna().trial.TrialState.FAIL)
        else:
            self.study.tell(number, score)

    def settings(self) -> dict:
        return {**super().settings(), "sampler": self.sampler, "sampler_options": self.sampler_options}

    def __getstate__(self) -> dict:
        """Copies and pickles carry the study as it is, sampler included. Some samplers hold a
        thread lock (Optuna 5.1's genetic samplers, NSGA-II among them), which neither ``pickle``
        nor ``copy.deepcopy`` can copy: the state goes through a pickler that gives a copy fresh,
        unlocked locks of its own instead."""
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = {**copyreg.dispatch_table, type(threading.Lock()): _fresh_lock,
                                  type(threading.RLock()): _fresh_rlock}
        pickler.dump(self.__dict__)
        return {"pickled": buffer.getvalue()}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(pickle.loads(state["pickled"]))


def _fresh_lock(lock):
    return threading.Lock, ()


def _fresh_rlock(lock):
    return threading.RLock, ()
