"""Kernel density estimates over NB201 cells: the model inside BOHB (Falkner, Klein & Hutter, ICML 2018).

A cell is 6 categorical edges, each one of K = 5 ops, coded as its index into ``OPS`` (as
ConfigSpace codes a categorical). The density of a set of observed cells c_1..c_n is a mixture
with one component per cell, each a product over the edges of an Aitchison & Aitken (1976)
kernel, as BOHB's reference code computes it (HpBandSter's ``config_generators/bohb.py``, through
statsmodels' ``KDEMultivariate`` with variable type ``'u'`` and ``bw='normal_reference'``):

    p(x) = 1/n sum_i prod_e k_e(x_e | c_ie),   k_e(x | c) = 1 - lambda_e if x == c, else lambda_e / (L_e - 1)

``L_e`` is statsmodels' number of levels: the distinct ops *observed* on edge e, not K. The
bandwidth is statsmodels' normal-reference rule on the op codes, 1.06 * std * n**(-1/(4 + d)),
which HpBandSter clips from below at ``min_bandwidth`` (and not from above). Like BOHB's model it
is multivariate: ops that were good *together* stay together, which one density per edge (TPE's)
cannot express.

That rule is what the reference does, quirks included: the std of op codes depends on the
arbitrary order of ``OPS``; lambda_e can exceed 1 (then 1 - lambda_e < 0 and the "density" can
be negative); and an edge on which every observed cell agrees has L_e = 1, so a cell that differs
there gets an infinite density. BOHB handles the last two as HpBandSter does (``bohb.BOHB``).
``bandwidth_rule="gini"`` is naskit's variant with a proper density instead (see
``gini_bandwidths``).
"""

from __future__ import annotations

import random

import numpy as np

from naskit.core.space import NUM_EDGES, OPS, Arch

UNIFORM_BANDWIDTH = (len(OPS) - 1) / len(OPS)  # the widest proper kernel: every op equally likely
BANDWIDTH_RULES = ("normal_reference", "gini")


def op_codes(archs: list[Arch]) -> np.ndarray:
    """Each cell's op indices into ``OPS``: shape ``(len(archs), 6)``, int."""
    return np.array([[OPS.index(op) for op in arch.ops] for arch in archs], dtype=int).reshape(-1, NUM_EDGES)


def normal_reference_bandwidths(codes: np.ndarray, min_bandwidth: float) -> np.ndarray:
    """statsmodels' normal-reference rule on the op codes, clipped below at ``min_bandwidth``
    as HpBandSter does: max(1.06 * std_e * n**(-1 / (4 + d)), min_bandwidth), shape ``(6,)``
    (std with ddof 0, d = 6 edges). ``min_bandwidth`` keeps an edge on which every observed cell
    agrees from never trying another op (Falkner et al. 2018, Sec. 4)."""
    n, d = codes.shape
    return np.maximum(1.06 * codes.std(axis=0) * n ** (-1.0 / (4 + d)), min_bandwidth)


def gini_bandwidths(codes: np.ndarray, min_bandwidth: float) -> np.ndarray:
    """naskit's variant (``bandwidth_rule="gini"``): the edge's Gini impurity times n**(-1 / (4 + d)),
    clipped to [``min_bandwidth``, (K-1)/K], shape ``(6,)``.

    What it changes from the reference: the spread of an edge is 1 - sum_k p_k**2 (the chance that
    two observed cells differ there: 0 when all agree, (K-1)/K when the ops are uniform) instead of
    the std of arbitrary op codes, and it never leaves the kernel's range. With this rule the
    kernel divides by K - 1 = 4 (not by the observed levels), so the density is a proper
    distribution, and ``sample`` widens it by ``bandwidth_factor`` and changes an op to one of the
    4 others.
    """
    n, d = codes.shape
    shares = np.stack([np.bincount(codes[:, e], minlength=len(OPS)) / n for e in range(d)])  # (6, 5)
    gini = 1.0 - (shares**2).sum(axis=1)
    return np.clip(gini * n ** (-1.0 / (4 + d)), min_bandwidth, UNIFORM_BANDWIDTH)


class CategoricalKDE:
    """A product-kernel density over cells, fitted to ``archs``.

    ``bandwidth_rule`` is ``"normal_reference"`` (HpBandSter's, the default) or ``"gini"``
    (naskit's proper-density variant, ``gini_bandwidths``). ``levels`` is each edge's L_e.

    Example:
        >>> conv, skip = Arch(("nor_conv_3x3",) * 6), Arch(("skip_connect",) * 6)
        >>> kde = CategoricalKDE([conv] * 4 + [skip] * 4, min_bandwidth=1e-3)
        >>> round(float(kde.bandwidths[0]), 3)   # 1.06 * std([3,3,3,3,1,1,1,1]) * 8**-0.1
        0.861
        >>> kde.levels.tolist()                    # two ops observed on every edge
        [2, 2, 2, 2, 2, 2]
    """

    def __init__(self, archs: list[Arch], min_bandwidth: float, bandwidth_rule: str = "normal_reference"):
        if bandwidth_rule not in BANDWIDTH_RULES:
            raise ValueError(f"bandwidth_rule must be one of {', '.join(BANDWIDTH_RULES)}, got {bandwidth_rule!r}")
        self.rule = bandwidth_rule
        self.data = op_codes(archs)  # (n, 6)
        if bandwidth_rule == "gini":
            self.bandwidths = gini_bandwidths(self.data, min_bandwidth)
            self.levels = np.full(NUM_EDGES, len(OPS))
        else:
            self.bandwidths = normal_reference_bandwidths(self.data, min_bandwidth)
            self.levels = np.array([len(np.unique(self.data[:, e])) for e in range(NUM_EDGES)])

    def pdf(self, archs: list[Arch]) -> np.ndarray:
        """The density of each cell, shape ``(len(archs),)``; inf (or NaN) where an edge has one
        observed level and the cell differs there (statsmodels divides by L_e - 1 = 0)."""
        same = op_codes(archs)[:, None, :] == self.data[None, :, :]          # (m, n, 6)
        with np.errstate(divide="ignore", invalid="ignore"):
            other = self.bandwidths / (self.levels - 1)
            kernel = np.where(same, 1.0 - self.bandwidths, other)
            return kernel.prod(axis=2).mean(axis=1)

    def sample(self, rng: random.Random, bandwidth_factor: float = 1.0) -> Arch:
        """A cell drawn around a random observed cell (the centre), edge by edge.

        Reference (HpBandSter's ``get_config``): an edge keeps the centre's op with probability
        1 - lambda_e, else takes an op drawn uniformly among *all* K (the centre's included);
        ``bandwidth_factor`` widens only continuous parameters there, so it is ignored. With the
        ``"gini"`` rule: the bandwidths are multiplied by ``bandwidth_factor`` (capped at uniform)
        and a changed op is one of the K - 1 others.
        """
        centre = self.data[rng.randrange(len(self.data))]
        ops = []
        if self.rule == "gini":
            widened = np.minimum(self.bandwidths * bandwidth_factor, UNIFORM_BANDWIDTH)
            for code, bandwidth in zip(centre.tolist(), widened.tolist()):
                if rng.random() < bandwidth:
                    code = [c for c in range(len(OPS)) if c != code][rng.randrange(len(OPS) - 1)]
                ops.append(OPS[code])
            return Arch(tuple(ops))
        for code, bandwidth in zip(centre.tolist(), self.bandwidths.tolist()):
            if not rng.random() < 1.0 - bandwidth:
                code = rng.randrange(len(OPS))
            ops.append(OPS[code])
        return Arch(tuple(ops))
