"""Many objectives at once: which points are not beaten, how they rank, how much space they cover.

A network found by NAS has an accuracy *and* a cost (latency, parameters, FLOPs). Point ``a``
dominates ``b`` when it is at least as good in every objective and better in one; the points no
other point dominates form the **Pareto front**. Non-dominated sorting peels the fronts off one
after another (Deb et al. 2002, NSGA-II, Sec. III-A); the crowding distance measures how alone a
point is on its front (Sec. III-B); the **hypervolume** is the volume of objective space the
points dominate up to a reference point (Zitzler & Thiele 1998): one number that grows when a
front moves out or fills in, so searches can be compared by it.

Every function takes ``points`` of shape (N, M) and ``maximize``: one bool per objective (True to
maximise it, e.g. accuracy; False to minimise, e.g. latency). Plain NumPy.

Example:
    >>> import numpy as np
    >>> acc_and_latency = np.array([[0.9, 5.0], [0.8, 2.0], [0.7, 3.0], [0.95, 9.0]])
    >>> pareto_front(acc_and_latency, maximize=[True, False]).tolist()
    [True, True, False, True]
    >>> non_dominated_ranks(acc_and_latency, maximize=[True, False]).tolist()
    [0, 0, 1, 0]
    >>> round(hypervolume(acc_and_latency, reference=[0.5, 10.0], maximize=[True, False]), 6)
    2.95
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _as_minimised(points, maximize: Sequence[bool]) -> np.ndarray:
    """(N, M) float array in which every objective is to be minimised (maximised ones negated)."""
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2:
        raise ValueError(f"points must be an (N, M) array of N points with M objectives, got shape {pts.shape}")
    maximize = list(maximize)
    if len(maximize) != pts.shape[1]:
        raise ValueError(f"maximize needs one True/False per objective: {pts.shape[1]} objectives, "
                         f"got {len(maximize)}")
    if not np.isfinite(pts).all():
        raise ValueError("points must be finite: drop failed evaluations (NaN) before comparing fronts")
    return np.where(np.asarray(maximize, dtype=bool), -pts, pts)


def dominates(a, b, maximize: Sequence[bool]) -> bool:
    """True when point ``a`` is at least as good as ``b`` in every objective and better in one."""
    pa, pb = _as_minimised(np.atleast_2d(a), maximize)[0], _as_minimised(np.atleast_2d(b), maximize)[0]
    return bool((pa <= pb).all() and (pa < pb).any())


def _dominance_matrix(pts: np.ndarray) -> np.ndarray:
    """``d[i, j]``: point i dominates point j (all objectives minimised)."""
    le = (pts[:, None, :] <= pts[None, :, :]).all(axis=2)
    lt = (pts[:, None, :] < pts[None, :, :]).any(axis=2)
    return le & lt


def pareto_front(points, maximize: Sequence[bool]) -> np.ndarray:
    """Boolean mask (N,) of the points no other point dominates (equal points are all kept).

    Each point still standing removes the points it dominates, best first in the sum of the
    objectives (a dominated point cannot dominate one its dominator spares, so skipping removed
    points loses nothing): a whole space of 6,466 classes in milliseconds, not an N x N matrix.
    """
    pts = _as_minimised(points, maximize)
    standing = np.ones(len(pts), dtype=bool)
    for i in np.argsort(pts.sum(axis=1), kind="stable"):
        if standing[i]:
            beaten = (pts[i] <= pts).all(axis=1) & (pts[i] < pts).any(axis=1)
            standing &= ~beaten
    return standing


def non_dominated_ranks(points, maximize: Sequence[bool]) -> np.ndarray:
    """Each point's front, counting from 0 (the Pareto front), by Deb et al.'s fast non-dominated sort.

    Front k holds the points dominated only by points of fronts 0..k-1.
    """
    pts = _as_minimised(points, maximize)
    n = len(pts)
    ranks = np.full(n, -1, dtype=int)
    if n == 0:
        return ranks
    dom = _dominance_matrix(pts)
    count = dom.sum(axis=0)  # how many points dominate each point
    front = np.flatnonzero(count == 0)
    k = 0
    while len(front):
        ranks[front] = k
        count = count - dom[front].sum(axis=0)
        count[ranks >= 0] = -1  # placed already
        front = np.flatnonzero(count == 0)
        k += 1
    return ranks


def crowding_distance(points, maximize: Sequence[bool]) -> np.ndarray:
    """NSGA-II's crowding distance of each point among ``points`` (one front): the sum over
    objectives of the gap between its neighbours, normalised by the objective's range; the
    extremes of each objective get infinity, so they are always kept."""
    pts = _as_minimised(points, maximize)
    n, m = pts.shape
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(m):
        order = np.argsort(pts[:, j], kind="stable")
        values = pts[order, j]
        span = values[-1] - values[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span > 0:
            distance[order[1:-1]] += (values[2:] - values[:-2]) / span
    return distance


def hypervolume(points, reference, maximize: Sequence[bool]) -> float:
    """The volume of objective space the points dominate, bounded by ``reference``.

    ``reference`` must be worse than every point that should count in every objective (a point
    not better than it in all objectives adds nothing). Exact: in 2-D a sweep over the front
    sorted by the first objective (the sum of the rectangles each point adds); in more dimensions
    by slicing the last objective (Hypervolume by Slicing Objectives, While et al. 2006), which
    is fine for the fronts of a search (tens to hundreds of points, 2-4 objectives).
    """
    pts = _as_minimised(points, maximize)
    ref = _as_minimised(np.atleast_2d(np.asarray(reference, dtype=float)), maximize)[0]
    inside = (pts < ref).all(axis=1)
    pts = pts[inside]
    if len(pts) == 0:
        return 0.0
    pts = pts[~_dominance_matrix(pts).any(axis=0)]  # only the front adds volume
    return float(_hv(np.unique(pts, axis=0), ref))


def _hv(pts: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume of minimised, mutually non-dominated points below ``ref``."""
    if pts.shape[1] == 1:
        return float(ref[0] - pts[:, 0].min())
    if pts.shape[1] == 2:
        order = np.argsort(pts[:, 0])
        x, y = pts[order, 0], pts[order, 1]  # on a 2-D front, y falls as x rises
        widths = np.diff(np.append(x, ref[0]))
        return float(np.sum(widths * (ref[1] - np.minimum.accumulate(y))))
    # slice along the last objective: between consecutive values, the points below the slice
    # form a front in the remaining objectives
    order = np.argsort(pts[:, -1])
    levels = np.append(pts[order, -1], ref[-1])
    volume = 0.0
    for i in range(len(order)):
        height = levels[i + 1] - levels[i]
        if height <= 0:
            continue
        below = pts[order[: i + 1], :-1]
        below = below[~_dominance_matrix(below).any(axis=0)]
        volume += height * _hv(below, ref[:-1])
    return volume


def epsilon_net_order(points, maximize: Sequence[bool], first: int = 0) -> np.ndarray:
    """The points in a well-spread order (a greedy epsilon-net; Clarkson 2006, as Salinas et al.
    2021 and Schmucker et al. 2021 order a front for MO-ASHA): start from the best point in
    objective ``first``, then repeatedly take the point farthest (Euclidean, in the objectives'
    own units) from every point taken so far. Returns the indices in that order."""
    pts = _as_minimised(points, maximize)
    if len(pts) == 0:
        return np.zeros(0, dtype=int)
    order = [int(np.argmin(pts[:, first]))]
    nearest = np.linalg.norm(pts - pts[order[0]], axis=1)  # distance to the nearest point taken
    nearest[order[0]] = -np.inf
    for _ in range(len(pts) - 1):
        nxt = int(np.argmax(nearest))
        order.append(nxt)
        nearest = np.minimum(nearest, np.linalg.norm(pts - pts[nxt], axis=1))
        nearest[order] = -np.inf
    return np.asarray(order)


def non_dominated_order(points, maximize: Sequence[bool], within: str = "crowding") -> np.ndarray:
    """Indices of ``points`` best first: by non-dominated front, and within a front by NSGA-II's
    crowding distance, largest first (``within="crowding"``, Deb et al. 2002's crowded-comparison
    operator), or in epsilon-net order (``within="epsilon_net"``, syne-tune's MO-ASHA). Equal
    keys keep their input order."""
    if within not in ("crowding", "epsilon_net"):
        raise ValueError(f"within must be 'crowding' or 'epsilon_net', got {within!r}")
    pts = np.asarray(points, dtype=float)
    ranks = non_dominated_ranks(pts, maximize)
    out = []
    for k in range(ranks.max() + 1 if len(ranks) else 0):
        members = np.flatnonzero(ranks == k)
        if within == "crowding":
            distance = crowding_distance(pts[members], maximize)
            out += members[np.argsort(-distance, kind="stable")].tolist()
        else:
            out += members[epsilon_net_order(pts[members], maximize)].tolist()
    return np.asarray(out, dtype=int)
