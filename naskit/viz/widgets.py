"""An ipywidgets architecture picker, built on pure functions that notebooks and tests call too.

``describe_arch`` and ``arch_from_choices`` do all the work and need no browser; the widget
only wires six dropdowns to them and shows the result. A papermill run that cannot render
widgets still computes the same numbers by calling the pure functions.

Example:
    >>> arch = arch_from_choices(["nor_conv_3x3", "none", "skip_connect", "none", "none", "nor_conv_1x1"])
    >>> info = describe_arch(arch)
    >>> info["arch"], info["is_connected"], info["live_edges"]
    ('|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|', True, [0, 2, 5])
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from functools import lru_cache

import ipywidgets as widgets
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from naskit.core.checks import as_arch
from naskit.core.configs import NetworkConfig
from naskit.core.space import EDGES, OPS, Arch, NB201Space, live_edges, parse
from naskit.cost import flops as cost
from naskit.nn.network import build_model
from naskit.viz.plots import draw_cell, edge_label

# Input size of one example per layout: MNIST-1D sequences have length 40, digits are 8x8.
# FLOPs of a convolution scale with it, so it must match the data the network will see.
DEFAULT_INPUT_SIZE: dict[int, tuple[int, ...]] = {1: (40,), 2: (8, 8)}
DEFAULT_ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def arch_from_choices(choices: Sequence[str]) -> Arch:
    """The cell whose 6 edges (in ``EDGES`` order: 0→1, 0→2, 1→2, 0→3, 1→3, 2→3) carry ``choices``.

    Raises a ``ValueError`` naming an unknown op or a wrong number of choices.
    """
    return Arch(tuple(choices))


def describe_arch(arch: Arch | str, network_config: NetworkConfig | None = None,
                  input_size: tuple[int, ...] | None = None) -> dict:
    """What a learner wants to know about one cell, as a plain dict.

    Args:
        arch: an ``Arch`` or an NB201 string.
        network_config: the macro skeleton (default ``NetworkConfig()``: MNIST-1D sized).
        input_size: one example's spatial size; default 40 for 1-D and 8x8 for 2-D networks.

    Returns:
        ``{"arch": NB201 string, "canonical": key shared by cells NB201 counts as one network,
        "params": trainable parameters, "forward_flops": FLOPs of one example's forward pass
        (1 multiply-add = 2 FLOPs), "live_edges": edge indices that reach the output,
        "is_connected": whether any path joins input and output}``.
    """
    arch = as_arch(arch)
    config = network_config or NetworkConfig()
    params, flops = _network_cost(arch, config, input_size or DEFAULT_INPUT_SIZE[config.ndim])
    return {
        "arch": str(arch),
        "canonical": NB201Space().canonical(arch),
        "params": params,
        "forward_flops": flops,
        "live_edges": live_edges(arch),
        "is_connected": arch.is_connected(),
    }


@lru_cache(maxsize=4096)
def _network_cost(arch: Arch, config: NetworkConfig, input_size: tuple[int, ...]) -> tuple[int, int]:
    """(params, forward FLOPs) of the built network; cached because the widget asks again and again."""
    model = build_model(arch, config, seed=0)
    example = torch.zeros(1, config.in_channels, *input_size)
    return cost.count_params(model), cost.forward_flops(model, example)


def cell_png(arch: Arch, dpi: int = 90) -> bytes:
    """``draw_cell`` rendered to PNG bytes without pyplot (so no stray figures in a notebook)."""
    fig = Figure(figsize=(6.0, 2.4))
    FigureCanvasAgg(fig)
    draw_cell(arch, ax=fig.add_subplot())
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def describe_html(info: dict) -> str:
    """The ``describe_arch`` dict as a short HTML block for the widget."""
    edges = ", ".join(edge_label(e) for e in info["live_edges"]) or "none"
    return (
        f"<code>{html.escape(info['arch'])}</code><br>"
        f"parameters: <b>{info['params']:,}</b> &nbsp; forward FLOPs per example: <b>{info['forward_flops']:,}</b>"
        f" &nbsp; connected: <b>{'yes' if info['is_connected'] else 'no (outputs zeros)'}</b><br>"
        f"live edges: {edges}<br>canonical key: <code>{html.escape(info['canonical'])}</code>"
    )


def static_html(png: bytes, text: str) -> str:
    """A picture and its caption as one HTML block (the PNG inlined as a data URL)."""
    import base64

    source = base64.b64encode(png).decode("ascii")
    return f'<div class="naskit-static-widget"><img src="data:image/png;base64,{source}"><br>{text}</div>'


class StaticPicture:
    """Mixed into a widget with an ``image`` (a PNG ``widgets.Image``) and an ``html`` caption: its
    display also carries a static ``text/html`` picture of the state it was shown in.

    A headless run (papermill) saves no widget state, so an exported page would show an empty
    widget; ``naskit lessons run --html`` puts this picture beside it. JupyterLab, with its widget
    manager, renders the live widget and ignores the picture. (IPython adds the ``text/html`` of
    ``_repr_html_`` to the widget's own display bundle, which lacks it.)
    """

    def _repr_html_(self) -> str:
        return static_html(self.image.value, self.html.value)


class ArchPicker(StaticPicture, widgets.VBox):
    """Six dropdowns (one per edge) -> the cell drawing, its NB201 string, params and FLOPs.

    Read ``picker.arch`` (an ``Arch``) and ``picker.info`` (the ``describe_arch`` dict);
    set ``picker.arch = ...`` or any dropdown's ``value`` and the display updates.
    """

    def __init__(self, initial: Arch | str | None = None, network_config: NetworkConfig | None = None):
        arch = parse(initial or DEFAULT_ARCH) if not isinstance(initial, Arch) else initial
        self.network_config = network_config
        style = {"description_width": "initial"}
        self.dropdowns = [
            widgets.Dropdown(options=OPS, value=op, description=edge_label(e), style=style)
            for e, op in enumerate(arch.ops)
        ]
        self.image = widgets.Image(format="png")
        self.html = widgets.HTML()
        rows = [widgets.HBox(self.dropdowns[k:k + 3]) for k in range(0, len(EDGES), 3)]
        super().__init__(children=[*rows, self.image, self.html])
        self.info: dict = {}
        self._silent = False
        self._refresh()
        for dropdown in self.dropdowns:
            dropdown.observe(self._refresh, names="value")

    @property
    def arch(self) -> Arch:
        return arch_from_choices([d.value for d in self.dropdowns])

    @arch.setter
    def arch(self, arch: Arch | str) -> None:
        arch = as_arch(arch)
        self._silent = True  # one refresh for six dropdown changes, not six
        try:
            for dropdown, op in zip(self.dropdowns, arch.ops):
                dropdown.value = op
        finally:
            self._silent = False
        self._refresh()

    def _refresh(self, change=None) -> None:
        if self._silent:
            return
        arch = self.arch
        self.info = describe_arch(arch, self.network_config)
        self.image.value = cell_png(arch)
        self.html.value = describe_html(self.info)


def arch_picker(initial: Arch | str | None = None, network_config: NetworkConfig | None = None) -> ArchPicker:
    """An ``ArchPicker`` widget (a ``VBox``) starting at ``initial`` (default: a strong 3x3-conv cell).

    Example:
        >>> picker = arch_picker()
        >>> picker.dropdowns[5].value = "none"
        >>> picker.info["arch"].endswith("|none~2|")
        True
    """
    return ArchPicker(initial, network_config)
