"""``python -m naskit``: the same command line as ``naskit``."""

from naskit.cli.app import main

if __name__ == "__main__":
    raise SystemExit(main())
