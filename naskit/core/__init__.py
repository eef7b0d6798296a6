"""Core values of the pipeline, with neither torch nor pandas: the NB201 space and its cells
(``space``), the configurations of networks, training and data (``configs``), what passes between
strategies, evaluators and the loop (``types``), the evaluator protocol (``evaluator``) and the
checks every entry point makes (``checks``)."""
