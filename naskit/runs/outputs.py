"""The files a run writes, checked before any work: a search never ends in a traceback because its
ledger or history cannot be written, and never writes over one of its own inputs.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_file(folder / "new" / "history.csv", "--out").name  # the missing folder is created
    'history.csv'
    >>> check_output_file(folder, "--out")
    Traceback (most recent call last):
    ...
    ValueError: --out ... is a folder; give a file path, e.g. .../history.csv
"""

from __future__ import annotations

import os
from pathlib import Path

# files SQLite keeps beside a database: writing over one of them breaks the database too
_SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


def check_output_file(path: str | Path, what: str, example: str = "history.csv") -> Path:
    """``path`` as a ``Path`` once it is sure to be writable: not a folder, its folder existing
    (created here when missing) and writable. Else a ``ValueError`` naming ``what`` (the argument,
    e.g. ``"--out"``) and the reason."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{what} {path} is a folder; give a file path, e.g. {path / example}")
    existing = next(p for p in (path.parent, *path.parent.parents) if p.exists() or p == p.parent)
    if not existing.is_dir():
        raise ValueError(f"{what} {path} cannot be created: {existing} is a file, not a folder")
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"{what} {path} is read-only (no write permission); make it writable "
                         f"(chmod u+w {path}) or give another file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {path} cannot be written: the folder {existing} is read-only")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{what} {path}: cannot create its folder {path.parent} ({exc.strerror})") from None
    return path


def check_distinct(files: dict[str, str | Path | None]) -> None:
    """A ``ValueError`` when two of ``files`` (argument -> path; None: not given) are one file, or
    one is a file SQLite keeps beside the other (``l.db-wal``): the output would destroy the input."""
    given = [(what, Path(path)) for what, path in files.items() if path is not None]
    for i, (what, path) in enumerate(given):
        for other_what, other in given[:i]:
            if _same_file(path, other):
                raise ValueError(f"{what} {path} is the same file as {other_what} {other}: writing it would "
                                 f"destroy {other_what}; give {what} another file")


def _same_file(a: Path, b: Path) -> bool:
    a, b = a.resolve(), b.resolve()
    if a == b or (a.exists() and b.exists() and os.path.samefile(a, b)):
        return True
    return any(a == b.with_name(b.name + s) or b == a.with_name(a.name + s) for s in _SQLITE_SIDECARS)
