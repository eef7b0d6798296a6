"""The NAS-Bench-201 cell search space (Dong & Yang, ICLR 2020).

A cell is a DAG on 4 nodes. Node 0 is the cell input; node ``i`` (1..3) is the sum
of one operation applied to each earlier node ``j < i``. That gives 6 edges, each
carrying one of 5 operations, so 5**6 = 15,625 cells. Many of them compute the same
function (a ``none`` edge or a disconnected node removes ops from the graph), and the
NAS-Bench-201 unique-cell rule groups them into 6,466 classes.

Example:
    >>> import random
    >>> space = NB201Space()
    >>> cell = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    >>> arch = space.parse(cell)
    >>> str(arch) == cell
    True
    >>> len(space), len(space.neighbors(arch))
    (15625, 24)
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

# The op vocabulary, in NAS-Bench-201's order. Defined once; everything indexes into it.
OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NUM_NODES = 4
# Edges in NB201 string order: (to_node, from_node) = (1,0), (2,0), (2,1), (3,0), (3,1), (3,2).
EDGES: tuple[tuple[int, int], ...] = tuple((i, j) for i in range(1, NUM_NODES) for j in range(i))
NUM_EDGES = len(EDGES)
_OP_INDEX = {op: i for i, op in enumerate(OPS)}
# The 4 paths from the input (node 0) to the output (node 3), each as positions in EDGES, shortest
# first: 0->3, 0->1->3, 0->2->3, 0->1->2->3. Used by the path encoding (White et al. 2021).
PATHS: tuple[tuple[int, ...], ...] = tuple(
    tuple(EDGES.index((to, src)) for src, to in zip(nodes, nodes[1:]))
    for hops in range(NUM_NODES - 1)
    for middle in itertools.combinations(range(1, NUM_NODES - 1), hops)
    for nodes in [(0, *middle, NUM_NODES - 1)]
)


@dataclass(frozen=True, order=True)
class Arch:
    """An immutable NB201 cell: one op name per edge, in ``EDGES`` order.

    Equality and hashing are by content. ``str(arch)`` is the NB201 string.
    """

    ops: tuple[str, ...]
    # Position in NB201Space enumeration order (a base-5 number); computed once, for fast lookups.
    index: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.ops, list):
            object.__setattr__(self, "ops", tuple(self.ops))
        if not isinstance(self.ops, tuple):
            raise ValueError(f"ops must be a tuple of {NUM_EDGES} op names, got {type(self.ops).__name__}")
        if len(self.ops) != NUM_EDGES:
            raise ValueError(f"an NB201 cell has {NUM_EDGES} edges, got {len(self.ops)} ops: {self.ops!r}")
        value = 0
        for op in self.ops:
            if op not in _OP_INDEX:
                raise ValueError(f"unknown op {op!r}; allowed ops are {', '.join(OPS)}")
            value = value * len(OPS) + _OP_INDEX[op]
        object.__setattr__(self, "index", value)

    def __str__(self) -> str:
        nodes = []
        for i in range(1, NUM_NODES):
            edges = [f"{self.op(i, j)}~{j}" for j in range(i)]
            nodes.append("|" + "|".join(edges) + "|")
        return "+".join(nodes)

    def __repr__(self) -> str:
        return f"Arch('{self}')"

    def op(self, to_node: int, from_node: int) -> str:
        """The op on the edge ``from_node -> to_node``."""
        return self.ops[EDGES.index((to_node, from_node))]

    def is_connected(self) -> bool:
        """True when some path of non-``none`` edges leads from the input to the output (then
        the edges on such paths are the cell's live edges, ``live_edges``)."""
        return bool(live_edges(self))


def parse(text: str) -> Arch:
    """Parse an NB201 string such as ``|nor_conv_3x3~0|+|skip_connect~0|none~1|+|...|``.

    Raises a ``ValueError`` that names the bad token and the allowed values.
    """
    if not isinstance(text, str):
        raise ValueError(f"an NB201 arch string is expected, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("empty arch string; expected e.g. '|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...|'")
    nodes = text.strip().split("+")
    if len(nodes) != NUM_NODES - 1:
        raise ValueError(
            f"an NB201 cell has {NUM_NODES - 1} '+'-separated nodes, got {len(nodes)} in {text!r}"
        )
    ops: list[str] = []
    for i, node in enumerate(nodes, start=1):
        if not (node.startswith("|") and node.endswith("|")) or len(node) < 2:
            raise ValueError(f"node {i} must look like '|op~0|...|', got {node!r}")
        edges = node[1:-1].split("|")
        if len(edges) != i:
            raise ValueError(
                f"node {i} must have {i} incoming edges (from nodes 0..{i - 1}), got {len(edges)}: {node!r}")
        for j, edge in enumerate(edges):
            op, sep, src = edge.partition("~")
            if not sep:
                raise ValueError(f"edge {edge!r} of node {i} must be 'op~source', e.g. 'nor_conv_3x3~{j}'")
            if op not in OPS:
                raise ValueError(f"unknown op {op!r} in {edge!r}; allowed ops are {', '.join(OPS)}")
            if src != str(j):
                raise ValueError(
                    f"edge {edge!r} of node {i} must come from node {j} (edges are listed in order "
                    f"0..{i - 1}), got source {src!r}"
                )
            ops.append(op)
    return Arch(tuple(ops))


def _unique_str(arch: Arch) -> str:
    """NB201's unique-cell string (``to_unique_str(consider_zero=True)``), re-derived here.

    Each node is described by the expression that computes it: ``none`` edges and edges from
    zero nodes contribute ``#`` (zero), ``skip_connect`` passes its source's expression through,
    any other op wraps it as ``(src)@op``. Summands are sorted because addition commutes.
    """
    nodes = ["0"]
    for i in range(1, NUM_NODES):
        terms = []
        for j in range(i):
            op, src = arch.op(i, j), nodes[j]
            if op == "none" or src == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(src)
            else:
                terms.append(f"({src})@{op}")
        nodes.append("+".join(sorted(terms)))
    return nodes[-1]


class NB201Space:
    """The 15,625-cell NAS-Bench-201 search space.

    All randomness comes from the ``rng`` argument (a ``random.Random`` or a
    ``numpy.random.Generator``); the space holds no random state of its own.

    Example:
        >>> space = NB201Space()
        >>> arch = space.sample(random.Random(0))
        >>> space.parse(str(arch)) == arch
        True
    """

    ops = OPS
    edges = EDGES

    def __len__(self) -> int:
        return len(OPS) ** NUM_EDGES

    def __iter__(self) -> Iterator[Arch]:
        for ops in itertools.product(OPS, repeat=NUM_EDGES):
            yield Arch(ops)

    def __contains__(self, arch: object) -> bool:
        return isinstance(arch, Arch)

    def __getitem__(self, index: int) -> Arch:
        if not 0 <= index < len(self):
            raise IndexError(f"cell index must be in 0..{len(self) - 1}, got {index}")
        ops = []
        for _ in range(NUM_EDGES):
            index, digit = divmod(index, len(OPS))
            ops.append(OPS[digit])
        return Arch(tuple(reversed(ops)))

    def parse(self, text: str) -> Arch:
        return parse(text)

    def canonical(self, arch: Arch) -> str:
        """A key equal for cells NAS-Bench-201 counts as one network (6,466 classes)."""
        return _unique_str(arch)

    def sample(self, rng: random.Random | np.random.Generator) -> Arch:
        """A uniformly random cell."""
        return Arch(tuple(OPS[_randbelow(rng, len(OPS))] for _ in range(NUM_EDGES)))

    def mutate(self, arch: Arch, rng: random.Random | np.random.Generator) -> Arch:
        """Change the op on one uniformly chosen edge to a different op (Real et al. 2019)."""
        edge = _randbelow(rng, NUM_EDGES)
        choices = [op for op in OPS if op != arch.ops[edge]]
        ops = list(arch.ops)
        ops[edge] = choices[_randbelow(rng, len(choices))]
        return Arch(tuple(ops))

    def neighbors(self, arch: Arch) -> list[Arch]:
        """All cells one edge-op change away: 6 edges x 4 other ops = 24."""
        out = []
        for edge in range(NUM_EDGES):
            for op in OPS:
                if op != arch.ops[edge]:
                    ops = list(arch.ops)
                    ops[edge] = op
                    out.append(Arch(tuple(ops)))
        return out

    def encode(self, arch: Arch) -> np.ndarray:
        """One-hot encoding per edge, flattened: shape ``(6 * 5,)``, float32."""
        onehot = np.zeros((NUM_EDGES, len(OPS)), dtype=np.float32)
        for edge, op in enumerate(arch.ops):
            onehot[edge, OPS.index(op)] = 1.0
        return onehot.reshape(-1)

    def encode_paths(self, arch: Arch, max_length: int = len(PATHS[-1])) -> np.ndarray:
        """BANANAS's path encoding (White, Neiswanger & Savani, AAAI 2021): float32, one binary
        feature per op sequence of 1..``max_length`` ops, set when one of the cell's input->output
        ``PATHS`` carries that sequence.

        There are 5 + 25 + 125 = 155 features (``max_length=3``), or 30 when truncated to paths
        of at most 2 ops (``max_length=2``, naszilla's default for NB201: the length-3 path is
        dropped). Feature order follows naszilla's ``Cell201.get_path_indices``: paths of length 1,
        then 2, then 3; within a length, ``sum(OPS.index(op_j) * 5**j)`` (first op least
        significant), with naskit's ``OPS`` order. As in naszilla, ``none`` counts as an op: a path
        through a ``none`` edge still sets its feature.

        Example:
            >>> space = NB201Space()
            >>> arch = space.parse("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
            >>> [int(i) for i in np.flatnonzero(space.encode_paths(arch))]  # skip alone; none+none twice; none x3
            [1, 5, 30]
        """
        if max_length not in range(1, len(PATHS[-1]) + 1):
            raise ValueError(f"max_length must be 1, 2 or 3 (a path has 1 to 3 edges), got {max_length!r}")
        offsets = np.cumsum([0] + [len(OPS) ** n for n in range(1, max_length + 1)])
        features = np.zeros(offsets[-1], dtype=np.float32)
        for path in PATHS:
            if len(path) <= max_length:
                index = sum(_OP_INDEX[arch.ops[edge]] * len(OPS) ** j for j, edge in enumerate(path))
                features[offsets[len(path) - 1] + index] = 1.0
        return features

    def encode_many(self, archs) -> np.ndarray:
        """Stack of ``encode`` for many cells: shape ``(n, 30)``."""
        return np.stack([self.encode(a) for a in archs]) if archs else np.zeros((0, NUM_EDGES * len(OPS)), np.float32)


def _randbelow(rng: random.Random | np.random.Generator, n: int) -> int:
    """A uniform integer in [0, n) from either kind of seeded RNG."""
    if isinstance(rng, random.Random):
        return rng.randrange(n)
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(n))
    raise TypeError(
        f"rng must be a random.Random or numpy.random.Generator (seeded by you), got {type(rng).__name__}"
    )


def live_edges(arch: Arch) -> list[int]:
    """Indices (into ``EDGES``) of the edges that can change the cell's output.

    An edge is live when its op is not ``none``, its source carries a signal from the
    input, and its target feeds the output. Dead edges cannot change the output, so the
    cell does not build them. NB201's unique-cell rule (``NB201Space.canonical``) is a
    coarser, string-level rule: a few of its classes hold cells that build different
    networks here (e.g. two separate 1x1 convs vs one conv used twice through skips);
    like NAS-Bench-201, the benchmark trains one representative per class.
    """
    from_input = [True] + [False] * (NUM_NODES - 1)
    for e, (i, j) in enumerate(EDGES):
        if arch.ops[e] != "none" and from_input[j]:
            from_input[i] = True
    to_output = [False] * (NUM_NODES - 1) + [True]
    for e in reversed(range(len(EDGES))):
        i, j = EDGES[e]
        if arch.ops[e] != "none" and to_output[i]:
            to_output[j] = True
    return [
        e for e, (i, j) in enumerate(EDGES)
        if arch.ops[e] != "none" and from_input[j] and to_output[i]
    ]


# op name -> kernel size of its convolution (ops without weights are absent)
CONV_KERNEL = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}
