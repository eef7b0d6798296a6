"""What things cost: FLOPs and parameters (``flops``; NAS-Bench-201's convention in ``nb201``),
seconds (``stopwatch``), energy and GPU-hours (``energy``), and every result's bill by phase
(``accounting``)."""
