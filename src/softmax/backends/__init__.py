"""Where the rows live (memory, Dask, a stream): each evaluates the data term over its rows."""
