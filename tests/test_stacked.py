"""Several seeds of one cell trained together as one grouped network (``naskit.trainer.stacked``)."""

import random

import pytest
import torch
from torch import nn

import naskit
from naskit.core.configs import NetworkConfig, TrainConfig
from naskit.data import load_dataset
from naskit.nn.network import build_model, stack_networks
from naskit.trainer.loop import train
from naskit.trainer.stacked import train_seeds

SPACE = naskit.NB201Space()
CELLS = [SPACE.sample(random.Random(i)) for i in range(8)] + [
    SPACE.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"),
    SPACE.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"),  # disconnected: outputs zeros
]


@pytest.mark.parametrize("ndim", [1, 2])
def test_a_stack_computes_each_network_as_if_alone(ndim):
    torch.manual_seed(0)
    config = NetworkConfig(ndim=ndim)
    shape = (1, 40) if ndim == 1 else (1, 8, 8)
    for cell in CELLS:
        models = [build_model(cell, config, seed=s) for s in (0, 1, 2)]
        stacked = stack_networks(models)
        xs = [torch.randn(6, *shape) for _ in models]
        for mode in ("train", "eval"):
            for m in [*models, stacked]:
                getattr(m, mode)()
            reference = torch.stack([m(x) for m, x in zip(models, xs)], dim=1)  # (B, G, classes)
            torch.testing.assert_close(stacked(torch.cat(xs, dim=1)), reference, rtol=1e-5, atol=1e-5)


def test_groups_are_isolated_a_nan_in_one_seed_leaves_the_others_exact():
    cell = CELLS[8]
    models = [build_model(cell, seed=s) for s in (0, 1)]
    stacked = stack_networks(models).eval()
    with torch.no_grad():
        stacked.stem[0].weight[:8].fill_(float("nan"))  # group 0's stem
    x = torch.randn(4, 1, 40)
    out = stacked(torch.cat([x, x], dim=1))
    assert torch.isnan(out[:, 0]).all() and torch.isfinite(out[:, 1]).all()
    torch.testing.assert_close(out[:, 1], models[1].eval()(x), rtol=1e-5, atol=1e-5)


def test_train_seeds_starts_like_separate_training_and_is_deterministic():
    data = load_dataset("mnist1d").subset(384)  # three minibatches per epoch
    config = TrainConfig(epochs=2)
    for cell in CELLS[:4]:
        together = train_seeds(cell, data, seeds=(0, 1, 2), config=config)
        again = train_seeds(cell, data, seeds=(0, 1, 2), config=config)
        assert [r.to_dict() | {"wall_seconds": 0, "cpu_seconds": 0} for r in together] == \
            [r.to_dict() | {"wall_seconds": 0, "cpu_seconds": 0} for r in again]
        for r in together:
            alone = train(cell, data, seed=r.seed, config=config)
            assert (r.arch, r.seed, r.params, r.train_flops, r.eval_flops) == \
                (alone.arch, alone.seed, alone.params, alone.train_flops, alone.eval_flops)
            # same initialisation, same minibatches, same gradients: the first epoch's mean loss
            # agrees to rounding (after that, SGD amplifies rounding differences chaotically)
            assert r.train_loss[0] == pytest.approx(alone.train_loss[0], rel=1e-4)


def test_evaluation_in_chunks_matches_one_pass_per_model(monkeypatch):
    import naskit.trainer.stacked as stacked_module

    data = load_dataset("mnist1d")
    models = [build_model(CELLS[1], seed=s).eval() for s in (0, 1)]
    stacked = stack_networks(models)
    monkeypatch.setattr(stacked_module, "EVAL_CHUNK", 300)  # 1,000 examples: chunks of 300, 300, 300, 100
    acc, loss = stacked_module._evaluate(stacked, data.x_valid, data.y_valid, groups=2)
    with torch.inference_mode():
        for g, m in enumerate(models):
            logits = m(data.x_valid)
            assert acc[g] == pytest.approx((logits.argmax(1) == data.y_valid).double().mean().item(), abs=1e-12)
            assert loss[g] == pytest.approx(nn.functional.cross_entropy(logits, data.y_valid).item(), rel=1e-5)


def test_one_seed_and_last_epoch_tests():
    data = load_dataset("mnist1d").subset(256)
    (r,) = train_seeds(CELLS[2], data, seeds=(5,), config=TrainConfig(epochs=2, test_epochs="last_epoch"))
    assert r.seed == 5 and len(r.test_acc) == 2
    assert r.test_acc[0] != r.test_acc[0] and 0 <= r.test_acc[1] <= 1  # NaN, then the final test


@pytest.mark.parametrize("seeds", [(), (1, 1), (0.5,), (True,)])
def test_bad_seeds_are_refused_before_any_work(seeds):
    with pytest.raises(ValueError, match="seeds"):
        train_seeds(CELLS[0], load_dataset("mnist1d").subset(64), seeds=seeds)
