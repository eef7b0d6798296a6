"""The weight-sharing supernet: every NB201 cell inside one network, with shared weights.

Each edge of each cell holds a ``MixedEdge``: one module per NB201 op, so the supernet
contains all 15,625 cells at once (Pham et al. 2018; Bender et al. 2018). It runs in one
of three modes, all around the same macro skeleton as ``naskit.nn.network.Network``:

* ``supernet(x, arch=arch)`` -- single path: each edge runs only its chosen op (random-path
  weight sharing, Li & Talwalkar 2019). It computes exactly what ``extract(arch)`` computes.
* ``supernet(x, weights=w)`` -- the DARTS mixture (Liu et al. 2019, Eq. 2): edge ``e``
  outputs ``sum_o w[e, o] * o(x)``. ``w`` has shape ``(6, 5)``: rows in ``EDGES`` order,
  columns in ``OPS`` order; every cell uses the same rows (NB201's one-genotype convention).
* ``supernet(x, hard=h)`` -- GDAS (Dong & Yang 2019): ``h`` is one-hot in value (e.g. the
  straight-through ``one_hot - p.detach() + p``); only the chosen op of each edge runs, scaled
  by its entry of ``h``, and the edge's other entries of ``h`` (zero in value) are added to its
  output, as NAS-Bench-201's ``forward_gdas`` does, so that every entry gets a gradient.
  ``add_unchosen=False`` leaves them out (NB201's later variant ``forward_gdas_v1``).

The architecture weights themselves belong to the search strategy, not to the supernet.

Example:
    >>> import torch
    >>> from naskit.core.space import parse
    >>> supernet = build_supernet(channels=4, seed=0)
    >>> x = torch.randn(8, 1, 40)
    >>> supernet(x, weights=torch.full((6, 5), 0.2)).shape
    torch.Size([8, 10])
    >>> arch = parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|")
    >>> torch.allclose(supernet.extract(arch)(x), supernet(x, arch=arch), atol=1e-5)  # train mode
    True
"""

from __future__ import annotations

import torch
from torch import nn

from naskit.core.checks import as_arch
from naskit.core.configs import NetworkConfig
from naskit.core.space import EDGES, NUM_EDGES, NUM_NODES, OPS, Arch, live_edges
from naskit.nn import ops
from naskit.nn.network import Cell, Network, skeleton, to_internal

WEIGHTS_SHAPE = (NUM_EDGES, len(OPS))  # (6, 5): one row per edge, one column per op


class MixedEdge(nn.Module):
    """One edge with all NB201 ops. ``none`` is the zero function: it holds and adds nothing."""

    def __init__(self, ndim: int, channels: int, affine: bool, track_running_stats: bool):
        super().__init__()
        self.ops = nn.ModuleDict({
            "skip_connect": nn.Identity(),
            "nor_conv_1x1": ops.relu_conv_bn(ndim, channels, channels, 1, affine=affine,
                                             track_running_stats=track_running_stats),
            "nor_conv_3x3": ops.relu_conv_bn(ndim, channels, channels, 3, affine=affine,
                                             track_running_stats=track_running_stats),
            "avg_pool_3x3": ops.avg_pool(ndim),
        })

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """DARTS mixture ``sum_o weights[o] * o(x)``; ``weights`` has shape ``(5,)``, in ``OPS`` order."""
        # The 'none' term is weights[0] * 0: it adds nothing and its gradient is zero.
        terms = [weights[k] * self.ops[op](x) for k, op in enumerate(OPS) if op != "none"]
        return sum(terms[1:], terms[0])


def unchosen(row: torch.Tensor, chosen: int) -> torch.Tensor:
    """The sum of ``row``'s entries other than ``chosen``: a 0-d tensor, zero in value when
    ``row`` is one-hot in value (GDAS's straight-through sample).

    NAS-Bench-201's ``forward_gdas`` (``search_cells.py``) adds each of them to the edge's
    output, ``sum_o (h[o] * o(x) if o is chosen else h[o])``: the value does not change, but
    each entry gets the gradient ``sum(dL/d node)`` of the node the edge feeds, and through the
    straight-through estimator that reaches the logits of the ops that did not run.
    """
    return row[[o for o in range(len(row)) if o != chosen]].sum()


def _carries_gradient(node: torch.Tensor | None) -> bool:
    """A node without signal that still passes a gradient back: a 0-d tensor, zero in value."""
    return node is not None and node.dim() == 0


class SuperCell(nn.Module):
    """An NB201 cell with a ``MixedEdge`` on each of its 6 edges."""

    def __init__(self, ndim: int, channels: int, affine: bool, track_running_stats: bool):
        super().__init__()
        self.edges = nn.ModuleList(MixedEdge(ndim, channels, affine, track_running_stats) for _ in EDGES)

    def forward(self, x: torch.Tensor, arch: Arch | None = None, weights: torch.Tensor | None = None,
                scale: torch.Tensor | None = None, add_unchosen: bool = False) -> torch.Tensor:
        if weights is not None:
            return self.mixture(x, weights)
        return self.single_path(x, arch, scale, add_unchosen)

    def mixture(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Node i = sum over j < i of ``MixedEdge_ji(node j, weights[e])``; returns node 3."""
        nodes = [x]
        for i in range(1, NUM_NODES):
            terms = [self.edges[e](nodes[j], weights[e]) for e, (to, j) in enumerate(EDGES) if to == i]
            nodes.append(sum(terms[1:], terms[0]))
        return nodes[-1]

    def single_path(self, x: torch.Tensor, arch: Arch, scale: torch.Tensor | None = None,
                    add_unchosen: bool = False) -> torch.Tensor:
        """Only the chosen op on each live edge, as ``network.Cell`` does (node 3 is returned).

        Dead edges (``none``, from a node without signal, or into a node that cannot reach
        the output) are skipped, so a node without input is the zero function. ``scale``
        (GDAS): multiply each edge's output by ``scale[e, op]``. ``add_unchosen`` (GDAS as
        NAS-Bench-201's ``forward_gdas`` computes it): also add, on every edge, the sum of the
        edge's other entries of ``scale``, zero in value (see ``unchosen``).
        """
        live = set(live_edges(arch))
        nodes: list[torch.Tensor | None] = [x]
        for i in range(1, NUM_NODES):
            terms = []
            for e, (to, j) in enumerate(EDGES):
                if to != i:
                    continue
                op, k = arch.ops[e], OPS.index(arch.ops[e])
                if e in live:
                    y = self.edges[e].ops[op](nodes[j])  # nodes[j] has signal: e is live
                    terms.append(y if scale is None else scale[e, k] * y)
                elif add_unchosen and _carries_gradient(nodes[j]) and op in ("skip_connect", "avg_pool_3x3"):
                    # NB201 runs this edge on a zero tensor: zero in value, but the identity
                    # (and the average pool) pass the gradient back to that zero node.
                    terms.append(scale[e, k] * nodes[j])
                if add_unchosen:
                    terms.append(unchosen(scale[e], k))
            nodes.append(sum(terms[1:], terms[0]) if terms else None)
        # A disconnected cell outputs zeros, as NB201's 'none' op (and network.Cell) do.
        if nodes[-1] is None:
            return torch.zeros_like(x)
        return nodes[-1] if nodes[-1].dim() else torch.zeros_like(x) + nodes[-1]

    @torch.no_grad()
    def copy_into(self, cell: Cell) -> None:
        """Copy each live conv edge's weights into the fused stand-alone ``cell``.

        With ``affine=False`` the stand-alone BN gets the identity (weight 1, bias 0); with
        ``track_running_stats=False`` its running statistics keep their defaults (mean 0, var 1).
        """
        for e in range(NUM_EDGES):
            target = cell.edge_weights(e)  # views into the fused conv/BN; {} for weightless ops
            if not target:
                continue
            _, conv, bn = self.edges[e].ops[cell.arch.ops[e]]
            target["conv.weight"].copy_(conv.weight)
            # (supernet BN attribute, value when the supernet's BN does not have it)
            for name, present, default in (("weight", bn.affine, 1.0), ("bias", bn.affine, 0.0),
                                           ("running_mean", bn.track_running_stats, 0.0),
                                           ("running_var", bn.track_running_stats, 1.0)):
                if present:
                    target[f"bn.{name}"].copy_(getattr(bn, name))
                else:
                    target[f"bn.{name}"].fill_(default)


class SuperNet(nn.Module):
    """The macro skeleton of ``naskit.nn.network.Network`` with a ``SuperCell`` in every cell slot.

    The stem, reductions, head and classifier are built from the same ``ops`` helpers with
    the same shapes and module names as ``Network``'s, so ``extract`` can copy them one to one.

    Args:
        config: the skeleton's shape, as for ``Network``.
        affine: learnable BN scale and shift inside the mixed ops. NB201's weight-sharing
            baselines use ``False`` (Dong & Yang 2020, Sec. 5), as does DARTS.
        track_running_stats: BN running statistics inside the mixed ops. With ``False``
            (NB201, DARTS) the mixed ops normalise with the batch's statistics in eval mode too,
            since one op's statistics change with whichever path used it last.

    The BN layers of the skeleton itself (stem, reductions, head) are ordinary ones, as in NB201.
    """

    def __init__(self, config: NetworkConfig, *, affine: bool = False,
                 track_running_stats: bool = False):
        super().__init__()
        self.config, self.affine, self.track_running_stats = config, affine, track_running_stats
        # the same skeleton as Network; forward runs self.cells layer by layer, with the cell mode
        self.stem, self.cells, self.head, self.classifier = skeleton(
            config, lambda width: SuperCell(config.ndim, width, affine, track_running_stats))

    def forward(self, x: torch.Tensor, *, arch: Arch | str | None = None,
                weights: torch.Tensor | None = None, hard: torch.Tensor | None = None,
                add_unchosen: bool = True) -> torch.Tensor:
        """Logits ``(B, num_classes)`` for ``x``, in exactly one of three modes.

        Args:
            arch: single path through the ops ``arch`` chooses (an ``Arch`` or NB201 string).
            weights: ``(6, 5)`` mixture weights (DARTS), e.g. ``softmax(alpha, dim=-1)``;
                rows in ``EDGES`` order, columns in ``OPS`` order; shared by every cell.
            hard: ``(6, 5)``, each row one-hot in value (GDAS). It runs the single path of the
                arch its rows pick, with each live edge scaled by ``hard[e, op]``, and adds
                every edge's unchosen entries of ``hard`` (zero in value) to its output, as
                NAS-Bench-201's ``forward_gdas`` does (``unchosen``): the value is the single
                path's, and every entry gets a gradient, which a straight-through estimator
                passes on to the strategy's logits. (``weights=hard`` gives the same value
                while running every op.)
            add_unchosen: with ``hard``: ``False`` scales the chosen ops only, so only the
                chosen entries get a gradient (NB201's variant ``forward_gdas_v1``, added in
                2022 for issue #119 of D-X-Y/AutoDL-Projects; not what its papers ran).
        """
        mode = self._cell_mode(arch, weights, hard, add_unchosen)  # checked before any work starts
        h = to_internal(x, self.config.ndim)
        h = self.stem(h)
        for layer in self.cells:
            h = layer(h, **mode) if isinstance(layer, SuperCell) else layer(h)
        h = self.head(h)  # (B, 4C, H', W')
        return self.classifier(h.mean((2, 3)))

    def _cell_mode(self, arch, weights, hard, add_unchosen) -> dict:
        """The keyword arguments every ``SuperCell`` gets, from the one mode given."""
        given = [name for name, v in (("arch", arch), ("weights", weights), ("hard", hard)) if v is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of arch=, weights= or hard=, got {given or 'none of them'}")
        if arch is not None:
            return {"arch": as_arch(arch)}
        if weights is not None:
            return {"weights": _check_weights(weights, "weights")}
        hard = _check_weights(hard, "hard")
        picked = hard.detach().argmax(dim=1)
        onehot = torch.zeros_like(hard).scatter_(1, picked[:, None], 1.0)
        if not torch.allclose(hard.detach(), onehot, atol=1e-4):
            raise ValueError("hard= must be one-hot in value in every row (e.g. one_hot - p.detach() + p); "
                             "use weights= for a soft mixture")
        return {"arch": Arch(tuple(OPS[k] for k in picked.tolist())), "scale": hard, "add_unchosen": add_unchosen}

    def extract(self, arch: Arch | str) -> Network:
        """A stand-alone ``Network`` for ``arch`` whose weights are copied from the supernet.

        The skeleton and every live edge's conv/BN are copied (into ``Cell``'s fused layout),
        so ``extract(arch)(x)`` equals ``supernet(x, arch=arch)`` in train mode, and in eval mode
        when the supernet tracks running statistics. With the default BN options the mixed ops
        have no affine parameters (the copy gets weight 1, bias 0, the same function) and no
        running statistics (the copy keeps mean 0, var 1): re-estimate them on training data
        before evaluating the network in eval mode. The copy is in the supernet's train/eval
        mode, on its device and dtype; the caller's global RNG is untouched.
        """
        arch = as_arch(arch)
        like = next(self.parameters())
        with torch.random.fork_rng(devices=[]):
            net = Network(arch, self.config)  # its random init is overwritten below
        net = net.to(device=like.device, dtype=like.dtype)
        net.stem.load_state_dict(self.stem.state_dict())
        for mine, theirs in zip(self.cells, net.cells):
            if isinstance(mine, SuperCell):
                mine.copy_into(theirs)
            else:
                theirs.load_state_dict(mine.state_dict())  # a ResidualReduction
        net.head.load_state_dict(self.head.state_dict())
        net.classifier.load_state_dict(self.classifier.state_dict())
        return net.train(self.training)


def _check_weights(w: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(w, torch.Tensor) or tuple(w.shape) != WEIGHTS_SHAPE:
        got = tuple(w.shape) if isinstance(w, torch.Tensor) else type(w).__name__
        raise ValueError(
            f"{name} must be a tensor of shape {WEIGHTS_SHAPE}: one row per edge in EDGES order, "
            f"one column per op in OPS order ({', '.join(OPS)}); got {got}"
        )
    return w


def build_supernet(
    config: NetworkConfig | None = None,
    *,
    seed: int | None = None,
    device: str | torch.device = "cpu",
    affine: bool = False,
    track_running_stats: bool = False,
    **config_kwargs,
) -> SuperNet:
    """Build a ``SuperNet``, seeded like ``network.build_model``.

    Args:
        config: a ``NetworkConfig``; or give its fields as keywords (``channels=16``).
        seed: when given, weights are initialised from this seed without touching
            the caller's global torch RNG.
        device: ``"cpu"`` (default), ``"cuda"`` or ``"mps"``.
        affine, track_running_stats: BN options of the mixed ops (see ``SuperNet``).
    """
    if config is None:
        config = NetworkConfig(**config_kwargs)
    elif config_kwargs:
        raise ValueError("give either a NetworkConfig or its fields as keywords, not both")
    options = {"affine": affine, "track_running_stats": track_running_stats}
    if seed is None:
        model = SuperNet(config, **options)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = SuperNet(config, **options)
    return model.to(device)
