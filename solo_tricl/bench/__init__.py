"""``solo-tricl bench``: the bench application on top of :mod:`solo_tricl.evaluate` (runs, typed results, report)."""
