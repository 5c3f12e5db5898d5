"""Where the rows live beyond memory: devices, Dask collections and streams of chunks.

Rows in memory are :class:`softmax.loss.rows.MemoryRows`; ``array_api``
keeps them on a GPU (PyTorch, CuPy, any array-API library) and evaluates the
data term there, ``dask`` evaluates it block by block on the workers,
``stream`` steps a stochastic run over chunks.
"""
