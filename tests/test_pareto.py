"""Pareto fronts, non-dominated sorting, crowding and hypervolume, against brute force and pymoo."""

import itertools

import numpy as np
import pytest

from naskit.core.pareto import crowding_distance, dominates, hypervolume, non_dominated_ranks, pareto_front

DIRECTIONS = {2: [True, False], 3: [True, False, False]}


def brute_front(points, maximize):
    """The points that no other point dominates, checked pair by pair."""
    return np.array([not any(dominates(q, p, maximize) for q in points) for p in points])


def brute_ranks(points, maximize):
    ranks, left, k = np.full(len(points), -1), set(range(len(points))), 0
    while left:
        front = {i for i in left if not any(dominates(points[j], points[i], maximize) for j in left)}
        for i in front:
            ranks[i] = k
        left -= front
        k += 1
    return ranks


def grid_hypervolume(points, reference, maximize):
    """Exact by the grid of all coordinates: count the cells any point dominates."""
    sign = np.where(maximize, -1.0, 1.0)
    pts, ref = points * sign, np.asarray(reference) * sign
    axes = [np.unique(np.append(pts[:, j], ref[j])) for j in range(pts.shape[1])]
    volume = 0.0
    for cell in itertools.product(*[range(len(a) - 1) for a in axes]):
        low = np.array([axes[j][c] for j, c in enumerate(cell)])
        high = np.array([axes[j][c + 1] for j, c in enumerate(cell)])
        if ((pts <= low).all(axis=1)).any() and (high <= ref).all():
            volume += float(np.prod(high - low))
    return volume


def sample(rng, n, m):
    points = rng.uniform(0, 1, (n, m))
    points[: n // 5] = np.round(points[: n // 5], 1)  # some ties
    return points


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("seed", range(5))
def test_front_and_ranks_equal_brute_force(m, seed):
    points = sample(np.random.default_rng(seed), 30, m)
    maximize = DIRECTIONS[m]
    assert (pareto_front(points, maximize) == brute_front(points, maximize)).all()
    assert (non_dominated_ranks(points, maximize) == brute_ranks(points, maximize)).all()


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("seed", range(5))
def test_hypervolume_equals_the_exact_grid_count_and_pymoo(m, seed):
    from pymoo.indicators.hv import HV

    rng = np.random.default_rng(seed)
    points = sample(rng, 12 if m == 3 else 25, m)
    maximize = DIRECTIONS[m]
    reference = np.where(maximize, -0.1, 1.1)  # worse than every point in every objective
    ours = hypervolume(points, reference, maximize)
    assert ours == pytest.approx(grid_hypervolume(points, reference, maximize), rel=1e-12)
    sign = np.where(maximize, -1.0, 1.0)  # pymoo minimises
    assert ours == pytest.approx(float(HV(ref_point=reference * sign)(points * sign)), rel=1e-9)


def test_hypervolume_ignores_points_beyond_the_reference_and_dominated_points():
    maximize = [True, False]
    front = np.array([[0.9, 5.0], [0.8, 2.0]])
    hv = hypervolume(front, [0.5, 10.0], maximize)
    more = np.vstack([front, [[0.7, 3.0], [0.4, 1.0], [0.95, 11.0]]])  # dominated, and two outside
    assert hypervolume(more, [0.5, 10.0], maximize) == pytest.approx(hv)
    assert hypervolume(np.empty((0, 2)), [0.5, 10.0], maximize) == 0.0


def test_crowding_keeps_the_extremes_and_measures_the_gaps():
    points = np.array([[0.0, 4.0], [1.0, 3.0], [3.0, 1.0], [4.0, 0.0]])
    d = crowding_distance(points, [False, False])
    assert np.isinf(d[[0, 3]]).all()
    # point 1: neighbours 0 and 2, gaps 3/4 in both objectives; point 2: neighbours 1 and 3
    assert d[1] == pytest.approx(3 / 4 + 3 / 4) and d[2] == pytest.approx(3 / 4 + 3 / 4)


@pytest.mark.parametrize("bad, message", [
    (np.zeros(3), r"\(N, M\)"), (np.array([[np.nan, 1.0]]), "finite"), (np.zeros((2, 3)), "one True/False"),
])
def test_bad_input_is_refused_with_what_is_wrong(bad, message):
    with pytest.raises(ValueError, match=message):
        pareto_front(bad, [True, False])
