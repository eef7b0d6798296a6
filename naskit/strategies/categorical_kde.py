"""Kernel density estimates over NB201 cells: the model inside BOHB (Falkner, Klein & Hutter, ICML 2018).

A cell is 6 categorical edges, each one of K = 5 ops. The density of a set of observed cells
c_1..c_n is a mixture with one component per cell, each a product over the edges of an
Aitchison & Aitken (1976) kernel, the categorical kernel that BOHB's reference code uses
(HpBandSter, through statsmodels' ``KDEMultivariate`` with variable type ``'u'``):

    p(x) = 1/n sum_i prod_e k_e(x_e | c_ie),   k_e(x | c) = 1 - lambda_e if x == c, else lambda_e / (K - 1)

``lambda_e`` is the edge's bandwidth, between 0 (all mass on the observed op) and (K - 1) / K
(every op equally likely). Like BOHB's model it is multivariate: ops that were good *together*
stay together, which one density per edge (TPE's) cannot express.
"""

from __future__ import annotations

import random

import numpy as np

from naskit.core.space import NUM_EDGES, OPS, Arch

UNIFORM_BANDWIDTH = (len(OPS) - 1) / len(OPS)  # the widest kernel: every op equally likely


def op_codes(archs: list[Arch]) -> np.ndarray:
    """Each cell's op indices into ``OPS``: shape ``(len(archs), 6)``, int."""
    return np.array([[OPS.index(op) for op in arch.ops] for arch in archs], dtype=int).reshape(-1, NUM_EDGES)


def rule_of_thumb_bandwidths(codes: np.ndarray, min_bandwidth: float) -> np.ndarray:
    """One bandwidth per edge, shape ``(6,)``: the edge's Gini impurity times n**(-1 / (4 + d)).

    BOHB (HpBandSter) takes statsmodels' normal-reference rule, 1.06 * std * n**(-1/(4+d)), and
    applies it to the op's index, which depends on the arbitrary order of the ops and can leave
    the kernel's range. For a categorical edge we take its spread as the Gini impurity
    1 - sum_k p_k**2 (the chance that two observed cells differ on the edge: 0 when all agree,
    (K-1)/K when the ops are uniform), keep the rule's n**(-1/(4+d)) shrinkage (d = 6 edges),
    and clip to [``min_bandwidth``, (K-1)/K]. ``min_bandwidth`` keeps an edge on which every
    observed cell agrees from never trying another op (Falkner et al. 2018, Sec. 4).
    """
    n, d = codes.shape
    shares = np.stack([np.bincount(codes[:, e], minlength=len(OPS)) / n for e in range(d)])  # (6, 5)
    gini = 1.0 - (shares**2).sum(axis=1)
    return np.clip(gini * n ** (-1.0 / (4 + d)), min_bandwidth, UNIFORM_BANDWIDTH)


class CategoricalKDE:
    """A product-kernel density over cells, fitted to ``archs`` (rule-of-thumb bandwidths).

    Example:
        >>> conv = Arch(("nor_conv_3x3",) * 6)
        >>> kde = CategoricalKDE([conv] * 5, min_bandwidth=1e-3)   # every cell agrees on every edge
        >>> kde.bandwidths.tolist() == [1e-3] * 6
        True
        >>> kde.pdf([conv])[0] > 0.99
        True
    """

    def __init__(self, archs: list[Arch], min_bandwidth: float):
        self.data = op_codes(archs)  # (n, 6)
        self.bandwidths = rule_of_thumb_bandwidths(self.data, min_bandwidth)

    def pdf(self, archs: list[Arch]) -> np.ndarray:
        """The density of each cell, shape ``(len(archs),)``."""
        same = op_codes(archs)[:, None, :] == self.data[None, :, :]          # (m, n, 6)
        kernel = np.where(same, 1.0 - self.bandwidths, self.bandwidths / (len(OPS) - 1))
        return kernel.prod(axis=2).mean(axis=1)

    def sample(self, rng: random.Random, bandwidth_factor: float = 1.0) -> Arch:
        """A cell drawn from the density with every bandwidth multiplied by ``bandwidth_factor``
        (capped at uniform): a random observed cell, then each edge keeps its op with probability
        1 - lambda_e, else takes one of the 4 other ops, uniformly."""
        centre = self.data[rng.randrange(len(self.data))]
        widened = np.minimum(self.bandwidths * bandwidth_factor, UNIFORM_BANDWIDTH)
        ops = []
        for code, bandwidth in zip(centre.tolist(), widened.tolist()):
            if rng.random() < bandwidth:
                code = [c for c in range(len(OPS)) if c != code][rng.randrange(len(OPS) - 1)]
            ops.append(OPS[code])
        return Arch(tuple(ops))
