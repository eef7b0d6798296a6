"""The ``naskit`` command line: one module per command group (``lessons``, ``bench``, ``search``,
``estimate``), dispatched by ``app``."""

from naskit.cli.app import main

__all__ = ["main"]
