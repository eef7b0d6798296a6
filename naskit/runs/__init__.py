"""Search runs: what they may spend (``budget``), the loop that asks, evaluates and tells
(``loop``: ``search``), the SQLite ledger that makes a run resumable (``ledger``), and many-seed
experiments with anytime curves and significance tests (``experiment``)."""
