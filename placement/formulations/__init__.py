"""Model families, each turning :class:`ModelData` into a PuLP model.

* :mod:`~placement.formulations.assignment` — median, center, cost, weighted (assignment variables)
* :mod:`~placement.formulations.covering` — coverage and set cover (site variables only)
* :mod:`~placement.formulations.builders` — the constraint builders they share
* :mod:`~placement.formulations.data` — the numeric problem form and nearest-site assignment
"""

from placement.formulations.data import ModelData, nearest_assignments

__all__ = ["ModelData", "nearest_assignments"]
