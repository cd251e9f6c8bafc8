"""The analyses: pure functions of a :class:`~icnet.ServiceNetwork` returning DataFrames."""
