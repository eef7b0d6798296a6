"""Reproducibility studies and checks: manifest diffs (``diff``), seed and numerics variance
(``variance``), re-running a recorded training or search (``replay``), and the NAS best-practice
checklist (``checklist``)."""
