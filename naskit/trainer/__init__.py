"""Training a network: the loop (``loop``: ``train``), its optimizer and schedule (``sgd``),
and several seeds of one cell at once (``stacked``: ``train_seeds``)."""
