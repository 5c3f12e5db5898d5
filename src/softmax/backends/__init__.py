"""Where the rows live beyond memory: Dask collections and streams of chunks.

Rows in memory are :class:`softmax.loss.rows.MemoryRows`; ``dask`` evaluates
the same data term block by block on the workers, ``stream`` steps a
stochastic run over chunks.
"""
