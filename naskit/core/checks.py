"""Checks every public entry point makes before any work: each names the argument and what is allowed.

One function per kind of check, so that the same mistake gets the same message everywhere.
"""

from __future__ import annotations

from naskit.core.space import Arch, parse


def as_arch(arch: Arch | str) -> Arch:
    """``arch`` as an ``Arch``: an ``Arch`` as is, an NB201 string parsed (its error names the bad token)."""
    if isinstance(arch, Arch):
        return arch
    if isinstance(arch, str):
        return parse(arch)
    raise ValueError(f"expected an Arch or an NB201 string such as "
                     f"'|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|', got {type(arch).__name__}")


def is_whole(value) -> bool:
    """True for an ``int`` that is not a ``bool`` (``True`` is not a number of epochs)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_whole(name: str, value, minimum: int | None = None, maximum: int | None = None, why: str = "") -> int:
    """``value`` if it is a whole number in [minimum, maximum], else a ``ValueError`` naming ``name``
    (and ``why``, a short reason, in brackets)."""
    low_ok = minimum is None or (is_whole(value) and value >= minimum)
    high_ok = maximum is None or (is_whole(value) and value <= maximum)
    if not (is_whole(value) and low_ok and high_ok):
        if minimum is not None and maximum is not None:
            allowed = f"a whole number in {minimum}..{maximum}"
        elif minimum is not None:
            allowed = f"a whole number of at least {minimum}"
        else:
            allowed = "a whole number"
        raise ValueError(f"{name} must be {allowed}{f' ({why})' if why else ''}, got {value!r}")
    return value


def check_fidelity(fidelity: int | None, max_fidelity: int) -> int:
    """The fidelity (epochs) to evaluate at: ``max_fidelity`` for None, else a whole number in 1..max."""
    if fidelity is None:
        return max_fidelity
    return check_whole("fidelity (epochs)", fidelity, 1, max_fidelity)
