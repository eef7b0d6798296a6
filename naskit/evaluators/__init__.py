"""Evaluators: turn a proposal into a ``Result`` with its cost, whatever the estimate is.

Every evaluator follows ``naskit.core.evaluator.Evaluator``: a table lookup (``tabular``), real
training (``training``), a zero-cost proxy (``proxy``), learning-curve extrapolation (``curve``)
or a surrogate predictor (``surrogate``). ``tests/test_evaluators.py`` runs one conformance suite
over all of them."""
