"""Mutation rules: how a child cell is made from its parent, as each reference implementation does it.

"Mutate one edge" is not one rule. The NB201 literature uses three, with different distributions:

* ``NB201Space.mutate``: one edge, uniformly among the 6, gets a different op. Every edge
  changes with probability 1/6.
* ``mutate_node_then_edge``: NAS-Bench-201's own ``mutate_topology_func`` (Dong & Yang 2020;
  D-X-Y/AutoDL-Projects, ``exps/NAS-Bench-201-algos/R_EA.py`` and
  ``exps/NATS-algos/regularized_ea.py``), the one NB201's regularized evolution runs: a node,
  uniformly among the 3 computed nodes, then one of its incoming edges, uniformly, then a
  different op, uniformly. Node 1 has one incoming edge and node 3 has three, so the edge 0->1
  changes with probability 1/3, each edge into node 2 with 1/6, each edge into node 3 with 1/9.
* ``mutate_each_edge``: naszilla's ``Cell201.mutate`` (naszilla/naszilla,
  ``naszilla/nas_bench_201/cell_201.py``), BANANAS's candidate generator: every edge,
  independently, with probability ``EACH_EDGE_PROBABILITY`` = 1/4, gets a different op. The
  child may differ on several edges, or on none (then it is its parent).

Example:
    >>> import random
    >>> from naskit.core.space import NB201Space
    >>> parent = NB201Space().sample(random.Random(0))
    >>> child = mutate_node_then_edge(parent, random.Random(1))
    >>> sum(a != b for a, b in zip(parent.ops, child.ops))
    1
"""

from __future__ import annotations

import random

from naskit.core.space import EDGES, NUM_NODES, OPS, Arch

# naszilla's Cell201.mutate: mutation_rate / (OP_SPOTS - 2), with BANANAS's mutation_rate 1 and NB201's
# OP_SPOTS = 6 edges; its comment says the "- 2" keeps the rate consistent with its NAS-Bench-101 code.
EACH_EDGE_PROBABILITY = 1 / 4


def with_op(arch: Arch, edge: int, op: str) -> Arch:
    """``arch`` with the op on ``EDGES[edge]`` replaced by ``op``."""
    ops = list(arch.ops)
    ops[edge] = op
    return Arch(tuple(ops))


def other_op(op: str, rng: random.Random) -> str:
    """An op other than ``op``, uniformly among the 4 others."""
    return rng.choice([other for other in OPS if other != op])


def mutate_node_then_edge(arch: Arch, rng: random.Random) -> Arch:
    """NB201's ``mutate_topology_func``: a random node (1..3), a random edge into it, a different op.

    The op is drawn as NB201 draws it, uniformly among all 5 until it differs (the same
    distribution as ``other_op``): so with the same ``random.Random`` state, this makes the
    same child as NB201's code, call for call.
    """
    node = 1 + rng.randrange(NUM_NODES - 1)
    edge = EDGES.index((node, rng.randrange(node)))  # node i has i incoming edges, from 0..i-1
    op = rng.choice(OPS)
    while op == arch.ops[edge]:
        op = rng.choice(OPS)
    return with_op(arch, edge, op)


def mutate_each_edge(arch: Arch, rng: random.Random, probability: float = EACH_EDGE_PROBABILITY) -> Arch:
    """naszilla's ``Cell201.mutate``: each edge independently gets a different op with ``probability``."""
    ops = tuple(other_op(op, rng) if rng.random() < probability else op for op in arch.ops)
    return Arch(ops)
