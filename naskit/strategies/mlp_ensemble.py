"""BANANAS's predictor: an ensemble of deep ReLU networks trained with Adam on the absolute error.

White, Neiswanger & Savani (AAAI 2021), "BANANAS": an ensemble of feedforward neural networks,
with the settings of its reference code, naszilla/naszilla: ``naszilla/params.py``
(``meta_neuralnet_params("standard")``) and ``naszilla/meta_neural_net.py`` (a Keras model).
Each of 5 members is 10 hidden layers of 20 ReLU units and one linear output; weights start
Glorot-uniform and biases at zero (Keras's defaults); training runs 150 epochs over mini-batches
of 32, reshuffled every epoch, minimizing the mean absolute error with Adam (learning rate
0.01, beta_1 0.9, beta_2 0.99, epsilon 1e-7 added to sqrt(v) as Keras does). The members differ
only in their initial weights and batch order; their disagreement is BANANAS's uncertainty.

The members are trained side by side as one batched network: every weight has a leading
``members`` axis, so one matrix product advances all five. The gradient is backpropagation
written out by hand (a test checks it against PyTorch's autograd), which keeps a fit of 5 x 150
epochs on 140 cells to a fraction of a second on one core.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.random((40, 30)), rng.random(40)
    >>> ensemble = MLPEnsemble(inputs=30, rng=rng)
    >>> ensemble.fit(x, y)
    >>> ensemble.predict(x[:3]).shape  # (members, cells)
    (5, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MLPConfig:
    """The ensemble's shape and training (defaults: naszilla's "standard" meta neural net)."""

    members: int = 5
    layers: int = 10          # hidden layers
    width: int = 20           # units per hidden layer
    epochs: int = 150
    batch_size: int = 32
    learning_rate: float = 0.01
    beta_1: float = 0.9
    beta_2: float = 0.99
    epsilon: float = 1e-7


class MLPEnsemble:
    """``config.members`` ReLU networks of ``config.layers`` x ``config.width`` hidden units.

    All parameters live in one flat float32 vector, ``params`` (so that Adam updates them in one
    step); ``weights`` and ``biases`` are lists of views into it, one per layer, of shapes ``(members, fan_in,
    fan_out)`` and ``(members, 1, fan_out)``. ``rng`` draws the initial weights and, in ``fit``,
    the batch order: the ensemble holds no other randomness.
    """

    def __init__(self, inputs: int, rng: np.random.Generator, config: MLPConfig = MLPConfig()):
        self.config, self.rng = config, rng
        dims = [inputs] + [config.width] * config.layers + [1]
        shapes = [(config.members, a, b) for a, b in zip(dims, dims[1:])]
        shapes += [(config.members, 1, b) for b in dims[1:]]
        self._slices, start = [], 0  # where each weight and bias sits in the flat vector
        for shape in shapes:
            self._slices.append((start, start + math.prod(shape), shape))
            start += math.prod(shape)
        self.params = np.zeros(start, dtype=np.float32)
        self._make_views()
        for w in self.weights:  # Glorot uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out))
            limit = np.sqrt(6.0 / (w.shape[1] + w.shape[2]))
            w[...] = rng.uniform(-limit, limit, w.shape)

    def views(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The weight and the bias views into a flat vector shaped like ``params``."""
        views = [flat[start:stop].reshape(shape) for start, stop, shape in self._slices]
        return views[: len(views) // 2], views[len(views) // 2:]

    def _make_views(self) -> None:
        self.weights, self.biases = self.views(self.params)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("weights", "biases")}

    def __setstate__(self, state: dict) -> None:  # a copy's views must point into its own params
        self.__dict__.update(state)
        self._make_views()

    def _forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Activations of every layer, input first: x (members or 1, n, inputs) -> ... -> (members, n, 1)."""
        out = [x]
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = out[-1] @ w
            z += b
            out.append(np.maximum(z, 0.0, out=z) if i < last else z)  # the output layer is linear
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Every member's prediction for the rows of ``x`` (n, inputs): shape ``(members, n)``."""
        return self._forward(np.asarray(x, dtype=np.float32)[None])[-1][..., 0]

    def gradient(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each member's mean absolute error on its own batch, and the gradient of their sum.

        ``x`` (members, batch, inputs), ``y`` (members, batch) -> loss (members,), gradient shaped
        like ``params``. The gradient of |e| is sign(e), 0 at e = 0, as in TensorFlow.
        """
        acts = self._forward(x)
        error = acts[-1][..., 0] - y
        grad = np.zeros_like(self.params)
        grad_w, grad_b = self.views(grad)
        g = (np.sign(error) / y.shape[1])[..., None]  # d loss / d output: (members, batch, 1)
        for i in reversed(range(len(self.weights))):
            np.matmul(acts[i].transpose(0, 2, 1), g, out=grad_w[i])
            np.sum(g, axis=1, keepdims=True, out=grad_b[i])
            if i:  # back through layer i's weights, then through the ReLU that made acts[i]
                g = (g @ self.weights[i].transpose(0, 2, 1)) * (acts[i] > 0)
        return np.abs(error).mean(axis=1), grad

    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        """Train every member on all of ``x`` (n, inputs) -> ``y`` (n,), each with its own batch order."""
        cfg = self.config
        x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)
        m, v = np.zeros_like(self.params), np.zeros_like(self.params)  # Adam's moment estimates
        step = 0
        for _ in range(cfg.epochs):
            order = np.argsort(self.rng.random((cfg.members, len(x))), axis=1)  # a permutation per member
            for start in range(0, len(x), cfg.batch_size):
                batch = order[:, start:start + cfg.batch_size]  # (members, batch) row indices
                _, grad = self.gradient(x[batch], y[batch])
                step += 1
                self.adam_step(grad, m, v, step)

    def adam_step(self, grad: np.ndarray, m: np.ndarray, v: np.ndarray, step: int) -> None:
        """One Adam update of ``params`` (Kingma & Ba 2015, Alg. 1, with Keras's epsilon); updates
        the moments ``m`` and ``v`` in place. ``step`` counts from 1."""
        cfg = self.config
        m *= cfg.beta_1
        m += (1 - cfg.beta_1) * grad
        v *= cfg.beta_2
        v += (1 - cfg.beta_2) * grad * grad
        rate = cfg.learning_rate * math.sqrt(1 - cfg.beta_2 ** step) / (1 - cfg.beta_1 ** step)
        self.params -= rate * m / (np.sqrt(v) + cfg.epsilon)
