"""Analytics: pure numerical models over numpy arrays (consumption, quality, degree days,
baselines, drift), plus the jobs that read and write InfluxDB (``analytics.jobs``, the PV
jobs in ``analytics.pv``), and one analytics run over all of them (``analytics.analyze``,
which ``terril analyze`` and ``terril run`` call).

The modules in this package named after a domain (``consumption``, ``quality``,
``degree_days``, ``baseline``, ``drift``) do no I/O: they take times as UTC nanoseconds
(int64 arrays), values as float arrays, and return frozen value objects. Formulas and
their sources are listed in ``docs/analytics.md``.
"""
