"""Figures and widgets: matplotlib plots for every lesson (``plots``), the architecture picker
(``widgets``), and the search playback and estimator explorer (``explorers``)."""
