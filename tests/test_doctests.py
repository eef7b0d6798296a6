"""Every docstring example in the package runs and prints what it says (STYLE.md: examples that run)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import naskit

MODULES = sorted(m.name for m in pkgutil.walk_packages(naskit.__path__, "naskit.") if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
