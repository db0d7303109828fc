"""Synthetic demo data: districts, units, staff, families, sessions and ratings.

`organisation` describes the fixed shape of the demo organisation, `families`
plans episodes and ratings from a seeded random generator without touching the
database, and `generator` writes one plan into an empty database (the `demo`
command). Nothing here is real: every reference is generated.
"""
