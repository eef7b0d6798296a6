"""The networks: NB201's ops (``ops``), the one macro skeleton around a cell (``network``) and
the weight-sharing supernet (``supernet``)."""
