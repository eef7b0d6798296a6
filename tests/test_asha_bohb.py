"""ASHA's and BOHB's rules, pinned against their papers and reference code.

ASHA (Li et al. 2020, Alg. 2): a hand-worked run that reaches every rung, then the strategy
against a line-by-line transcription of get_job on random scores told in random order.
BOHB (Falkner et al. 2018, Alg. 2): HpBandSter's bracket sizes, the statsmodels KDE it fits
(normal-reference bandwidths, Aitchison-Aitken kernel with the observed number of levels), its
good/bad split, and its sampling loop, each against a transcription written here from
HpBandSter's ``config_generators/bohb.py`` and statsmodels' ``kernels.py``/``_kernel_base.py``.
"""

import math
import random

import numpy as np
import pytest

from naskit.core.space import OPS, Arch, NB201Space
from naskit.core.types import Proposal, Result
from naskit.strategies import ASHA, BOHB, make_strategy
from naskit.strategies.bohb import bohb_brackets
from naskit.strategies.categorical_kde import CategoricalKDE, op_codes

SPACE = NB201Space()


def told(strategy, proposal, score):
    acc = score if score > -math.inf else float("nan")
    strategy.tell(proposal, Result(proposal.arch, proposal.fidelity, acc,
                                   status="ok" if score > -math.inf else "failed"))


# --- ASHA ------------------------------------------------------------------------------------
def test_asha_promotes_by_hand_at_every_rung():
    """eta = 2, rungs at 1, 2, 4, 8 epochs; each step worked out by hand from Alg. 2."""
    s = ASHA(seed=0, min_fidelity=1, max_fidelity=8, eta=2)
    a, b = s.ask(), s.ask()
    assert (a.fidelity, b.fidelity) == (1, 1) and a.arch != b.arch   # nothing done: grow rung 0
    told(s, a, 0.5)                                                   # rung 0 {a}: floor(1/2) = 0
    c = s.ask()
    assert c.fidelity == 1 and c.arch not in (a.arch, b.arch)
    told(s, b, 0.7)                                                   # rung 0 {a, b}: top 1 = b
    assert s.ask() == (b2 := Proposal(b.arch, 2))
    told(s, c, 0.9)                                                   # rung 0 {a, b, c}: top 1 = c
    assert s.ask() == (c2 := Proposal(c.arch, 2))
    d = s.ask()                                                       # c promoted already: new cell
    assert d.fidelity == 1
    told(s, b2, 0.6)
    told(s, c2, 0.8)                                                  # rung 1 {b, c}: top 1 = c
    assert s.ask() == (c4 := Proposal(c.arch, 4))                     # the higher rung goes first
    told(s, d, 0.1)                                                   # rung 0 top 2 = c, b: both promoted
    e = s.ask()
    assert e.fidelity == 1
    told(s, c4, 0.85)                                                 # rung 2 {c}: floor(1/2) = 0
    f = s.ask()
    assert f.fidelity == 1
    told(s, e, 0.95)
    told(s, f, 0.2)                                                   # rung 0 top 3 = e, c, b: e is new
    assert s.ask() == (e2 := Proposal(e.arch, 2))
    told(s, e2, 0.99)                                                 # rung 1 {b, c, e}: top 1 = e
    assert s.ask() == (e4 := Proposal(e.arch, 4))
    told(s, e4, 0.9)                                                  # rung 2 {c, e}: top 1 = e
    assert s.ask() == (e8 := Proposal(e.arch, 8))                     # into the top rung
    told(s, e8, 0.97)
    g = s.ask()                                                       # every top-k promoted: grow rung 0
    assert g.fidelity == 1 and g.arch not in {p.arch for p in (a, b, c, d, e, f)}
    assert [r.promoted for r in s.rungs] == [{b.arch, c.arch, e.arch}, {c.arch, e.arch}, {e.arch}, set()]


def test_asha_serves_the_highest_rung_first():
    """Two rungs with a promotable cell at once: the higher one goes first (Alg. 2: k from the top)."""
    s = ASHA(seed=2, min_fidelity=1, max_fidelity=4, eta=2)
    a, b, c, d, e, f = (s.ask() for _ in range(6))      # nothing done: six new cells
    told(s, a, 0.9)
    told(s, b, 0.8)                                     # rung 0 {a, b}: top 1 = a
    assert s.ask() == (a2 := Proposal(a.arch, 2))
    told(s, c, 0.1)
    told(s, d, 0.2)                                     # rung 0 top 2 = a, b
    assert s.ask() == (b2 := Proposal(b.arch, 2))
    told(s, a2, 0.5)
    told(s, b2, 0.6)                                    # rung 1 {a, b}: top 1 = b
    told(s, e, 0.95)
    told(s, f, 0.05)                                    # rung 0 top 3 = e, a, b: e is promotable too
    assert s.ask() == Proposal(b.arch, 4)
    assert s.ask() == Proposal(e.arch, 2)


def test_asha_never_promotes_a_failure():
    s = ASHA(seed=1, min_fidelity=1, max_fidelity=4, eta=2)
    a, b = s.ask(), s.ask()
    told(s, a, -math.inf)
    told(s, b, -math.inf)          # top 1 of 2 is a failure: not promotable
    assert s.ask().fidelity == 1
    c = s.ask()
    told(s, c, 0.3)                # rung 0 {a, b, c}: top 1 = c
    assert s.ask() == Proposal(c.arch, 2)


def reference_get_job(rungs: list[list[tuple[Arch, float]]], promoted: list[set], eta: int):
    """Li et al. 2020, Alg. 2, get_job, transcribed: for k = top - 1 .. 0, candidates =
    top_k(rung k, |rung k| / eta); promotable = candidates not promoted; return promotable[0], k + 1."""
    for k in range(len(rungs) - 2, -1, -1):
        candidates = sorted(rungs[k], key=lambda pair: -pair[1])[: len(rungs[k]) // eta]  # stable: first told first
        promotable = [arch for arch, score in candidates if arch not in promoted[k] and score > -math.inf]
        if promotable:
            return promotable[0], k + 1
    return None, 0


@pytest.mark.parametrize("eta, max_fidelity, workers", [(2, 8, 1), (2, 8, 5), (3, 9, 4), (3, 8, 7)])
def test_asha_matches_a_transcription_of_get_job(eta, max_fidelity, workers):
    s = ASHA(seed=3, min_fidelity=1, max_fidelity=max_fidelity, eta=eta)
    order = random.Random(eta * 100 + workers)   # which pending result arrives next
    scores = np.random.default_rng(workers).random(len(SPACE))
    rungs = [[] for _ in s.fidelities]
    promoted = [set() for _ in s.fidelities]
    pending = []
    for _ in range(400):
        while len(pending) < workers:
            arch, k = reference_get_job(rungs, promoted, eta)
            proposal = s.ask()
            if arch is None:
                assert proposal.fidelity == s.fidelities[0]   # a new cell (drawn by the strategy's RNG)
            else:
                promoted[k - 1].add(arch)
                assert proposal == Proposal(arch, s.fidelities[k])
            pending.append(proposal)
        for _ in range(order.randint(1, len(pending))):   # several results may arrive between asks
            done = pending.pop(order.randrange(len(pending)))
            score = -math.inf if done.arch.index % 7 == 0 else scores[done.arch.index] + 0.01 * done.fidelity
            rungs[s.fidelities.index(done.fidelity)].append((done.arch, score))
            told(s, done, score)
    assert all(rungs), "the run never reached the top rung"


# --- BOHB: brackets --------------------------------------------------------------------------
def reference_brackets(min_budget, max_budget, eta):
    """HpBandSter ``optimizers/bohb.py``: max_SH_iter, budgets and get_next_iteration, transcribed."""
    max_sh_iter = -int(np.log(min_budget / max_budget) / np.log(eta)) + 1
    budgets = max_budget * np.power(eta, -np.linspace(max_sh_iter - 1, 0, max_sh_iter))
    brackets = []
    for iteration in range(max_sh_iter):
        s = max_sh_iter - 1 - (iteration % max_sh_iter)
        n0 = np.ceil(np.floor(max_sh_iter / (s + 1)) * eta**s)
        ns = [max(int(n0 * (eta ** (-i))), 1) for i in range(s + 1)]
        brackets.append([(n, int(round(b))) for n, b in zip(ns, budgets[(-s - 1):])])
    return brackets


@pytest.mark.parametrize("min_fidelity, max_fidelity, eta", [(1, 8, 2), (1, 9, 3), (1, 27, 3), (2, 16, 2), (1, 81, 3)])
def test_bohb_brackets_are_hpbandsters(min_fidelity, max_fidelity, eta):
    assert bohb_brackets(min_fidelity, max_fidelity, eta) == reference_brackets(min_fidelity, max_fidelity, eta)
    assert BOHB(min_fidelity=min_fidelity, max_fidelity=max_fidelity, eta=eta).plan == \
        reference_brackets(min_fidelity, max_fidelity, eta)


# --- BOHB: the KDE ---------------------------------------------------------------------------
def reference_kde(data: np.ndarray, min_bandwidth: float):
    """statsmodels KDEMultivariate(var_type='u' * d, bw='normal_reference') then HpBandSter's
    clip: bw = max(1.06 * std * n**(-1/(4+d)), min_bw); pdf(x) = gpke(...) / nobs, with
    aitchison_aitken(h, Xi, x): h / (num_levels - 1), num_levels = np.unique(Xi).size, and
    1 - h where Xi == x. Returns (bw, pdf)."""
    n, d = data.shape
    bw = np.clip(1.06 * np.std(data, axis=0) * n ** (-1.0 / (4 + d)), min_bandwidth, None)

    def pdf(x):
        kval = np.empty(data.shape)
        for ii in range(d):
            xi = data[:, ii]
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.ones(xi.size) * bw[ii] / (np.asarray(np.unique(xi).size) - 1)
            idx = xi == x[ii]
            value[idx] = (idx * (1 - bw[ii]))[idx]
            kval[:, ii] = value
        with np.errstate(invalid="ignore"):
            return kval.prod(axis=1).sum(axis=0) / n

    return bw, pdf


def random_cells(rng, n, ops=len(OPS)):
    return [Arch(tuple(OPS[rng.randrange(ops)] for _ in range(6))) for _ in range(n)]


@pytest.mark.parametrize("n, ops, seed", [(7, 5, 0), (12, 5, 1), (9, 2, 2), (30, 3, 3)])
def test_bohb_kde_matches_statsmodels_transcription(n, ops, seed):
    rng = random.Random(seed)
    cells = random_cells(rng, n, ops)
    cells[0] = Arch((cells[1].ops[0],) + cells[0].ops[1:])   # keep at least two cells sharing an op
    kde = CategoricalKDE(cells, min_bandwidth=1e-3)
    bw, pdf = reference_kde(op_codes(cells).astype(float), 1e-3)
    np.testing.assert_allclose(kde.bandwidths, bw, rtol=1e-12)
    queries = cells[:3] + random_cells(rng, 20)
    expected = np.array([pdf(op_codes([q])[0].astype(float)) for q in queries])
    np.testing.assert_allclose(kde.pdf(queries), expected, rtol=1e-12)


def test_bohb_kde_on_an_edge_with_one_observed_op_is_infinite_off_it_like_statsmodels():
    conv, pool = Arch(("nor_conv_3x3",) * 6), Arch(("nor_conv_3x3",) * 5 + ("avg_pool_3x3",))
    kde = CategoricalKDE([conv, conv, pool], min_bandwidth=1e-3)
    assert kde.bandwidths[0] == 1e-3 and kde.levels.tolist() == [1, 1, 1, 1, 1, 2]
    _, pdf = reference_kde(op_codes([conv, conv, pool]).astype(float), 1e-3)
    other = Arch(("skip_connect",) + ("nor_conv_3x3",) * 5)
    assert np.isinf(kde.pdf([other])[0]) and np.isinf(pdf(op_codes([other])[0].astype(float)))
    assert kde.pdf([conv])[0] == pytest.approx(pdf(op_codes([conv])[0].astype(float)))


def test_statsmodels_itself_agrees_when_installed():
    sm = pytest.importorskip("statsmodels.api")
    cells = random_cells(random.Random(5), 15)
    data = op_codes(cells).astype(float)
    reference = sm.nonparametric.KDEMultivariate(data=data, var_type="u" * 6, bw="normal_reference")
    reference.bw = np.clip(reference.bw, 1e-3, None)
    kde = CategoricalKDE(cells, 1e-3)
    np.testing.assert_allclose(kde.bandwidths, reference.bw)
    queries = random_cells(random.Random(6), 10)
    np.testing.assert_allclose(kde.pdf(queries), reference.pdf(op_codes(queries).astype(float)))


def test_gini_rule_is_a_proper_density_and_an_explicit_option():
    cells = random_cells(random.Random(7), 10)
    kde = CategoricalKDE(cells, 1e-3, bandwidth_rule="gini")
    every = list(SPACE)
    assert kde.pdf(every).sum() == pytest.approx(1.0)
    assert make_strategy("bohb", bandwidth_rule="gini").settings()["bandwidth_rule"] == "gini"
    with pytest.raises(ValueError, match="bandwidth_rule"):
        make_strategy("bohb", bandwidth_rule="scott")


# --- BOHB: split, model fidelity and the sampling loop ---------------------------------------
def reference_split(configs, losses, min_points, top_n_percent, d=6):
    """HpBandSter ``new_result``: n_good, n_bad, argsort of the losses; None when no model is built."""
    if len(configs) <= min_points - 1:
        return None
    train_configs, train_losses = np.array(configs), np.array(losses)
    n_good = max(min_points, (top_n_percent * train_configs.shape[0]) // 100)
    n_bad = max(min_points, ((100 - top_n_percent) * train_configs.shape[0]) // 100)
    idx = np.argsort(train_losses, kind="stable")
    good, bad = train_configs[idx[:n_good]], train_configs[idx[n_good:n_good + n_bad]]
    if good.shape[0] <= d or bad.shape[0] <= d:
        return None
    return good, bad


@pytest.mark.parametrize("top_n_percent", [15, 30, 50])
def test_bohb_split_and_model_fidelity_match_hpbandster(top_n_percent):
    rng = random.Random(top_n_percent)
    s = BOHB(seed=0, top_n_percent=top_n_percent)
    for n in range(1, 60):
        observed = [(arch, rng.random()) for arch in random_cells(rng, n)]
        s.observations = {2: observed}
        ref = reference_split([op_codes([a])[0] for a, _ in observed], [-v for _, v in observed], 7, top_n_percent)
        assert (s.model_fidelity() == 2) == (ref is not None), n
        if ref is not None:
            good, bad = s.split(observed)
            np.testing.assert_array_equal(op_codes(good), ref[0])
            np.testing.assert_array_equal(op_codes(bad), ref[1])
    assert s.model_fidelity() == 2
    s.observations[8] = s.observations[2][:13]        # 13 at the top fidelity: good 7, bad 6: no model
    assert s.model_fidelity() == 2
    s.observations[8] = s.observations[2][:14]        # 14: good 7, bad 7: the top fidelity's model
    assert s.model_fidelity() == 8


def reference_get_config(rng: random.Random, good, bad, asked, random_fraction=1 / 3, num_samples=64):
    """HpBandSter ``get_config`` for categorical parameters, transcribed on naskit's RNG (the
    strategy draws from one ``random.Random`` in the same order): the random-fraction draw, then
    per sample a centre from the good data and per parameter keep-with-(1 - bw) else randint(t)."""
    if rng.random() < random_fraction:
        return "random"
    good_bw, l_pdf = reference_kde(good.astype(float), 1e-3)
    _, g_pdf = reference_kde(bad.astype(float), 1e-3)
    best, best_vector = np.inf, None
    for _ in range(num_samples):
        datum = good[rng.randrange(len(good))]
        vector = []
        for m, bw in zip(datum, good_bw):
            bw = max(bw, 1e-3)
            vector.append(int(m) if rng.random() < (1 - bw) else rng.randrange(len(OPS)))
        if Arch(tuple(OPS[c] for c in vector)) in asked:     # naskit's one deviation: no repeats
            continue
        lx, gx = l_pdf(np.array(vector, float)), g_pdf(np.array(vector, float))
        val = max(1e-32, gx) / max(lx, 1e-32)
        if not np.isfinite(val) and np.isfinite(lx):
            best_vector = vector
            break
        if val < best:
            best, best_vector = val, vector
    return None if best_vector is None else Arch(tuple(OPS[c] for c in best_vector))


@pytest.mark.parametrize("n, seed", [(14, 0), (25, 1), (60, 2)])
def test_bohb_proposals_match_hpbandsters_sampling_loop(n, seed):
    rng = random.Random(seed)
    observed = [(arch, rng.random()) for arch in random_cells(rng, n, ops=3)]   # 3 ops: repeats on edges
    s = BOHB(seed=seed)
    s.observations = {4: observed}
    s.started = {arch for arch, _ in observed}
    good, bad = reference_split([op_codes([a])[0] for a, _ in observed], [-v for _, v in observed], 7, 15)
    model_picks = 0
    for _ in range(12):
        mirror = random.Random()
        mirror.setstate(s.rng.getstate())
        expected = reference_get_config(mirror, good, bad, set(s.started))
        cell = s.propose_cell()
        if expected == "random" or expected is None:
            assert s.picks[-1] == "random"
        else:
            model_picks += 1
            assert s.picks[-1] == "model" and cell == expected
    assert model_picks >= 4
