"""Create ``highspy.Highs`` objects without HiGHS writing anything to the terminal, and run them
to a deadline.

HiGHS prints a banner ("Running HiGHS …") from C++ when a ``Highs`` object is constructed,
straight to file descriptor 1 — past Python's ``sys.stdout``, so neither the command line (which
keeps stdout for data) nor a notebook (whose kernel shows descriptor output) can catch it. The
construction therefore happens with descriptor 1 pointed at the null device for that moment;
the solver log itself is off unless asked for (``output_flag``).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

__all__ = ["new_highs", "run_until", "silenced_stdout"]


class silenced_stdout:
    """Context manager pointing file descriptor 1 at the null device (C++ output is dropped)."""

    def __enter__(self) -> silenced_stdout:
        sys.stdout.flush()
        self._saved = os.dup(1)
        self._null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(self._null, 1)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stdout.flush()
        os.dup2(self._saved, 1)
        os.close(self._saved)
        os.close(self._null)


def new_highs(**options: Any) -> Any:
    """Return a silent ``highspy.Highs`` with the given options set.

    Parameters
    ----------
    **options
        HiGHS option names and values (e.g. ``time_limit=10.0``); ``output_flag`` defaults to
        False.
    """
    import highspy

    options.setdefault("output_flag", False)
    with silenced_stdout():
        h = highspy.Highs()
        # the banner is printed when the first option is set on some versions, not at construction
        for key, value in options.items():
            h.setOptionValue(key, value)
    return h


def run_until(h: Any, deadline: float, *, min_left_s: float = 0.05) -> str:
    """Run ``h`` until ``deadline`` (a ``time.perf_counter()`` value) and say how it ended.

    HiGHS's ``time_limit`` counts every run of the object, so the limit set is the time run so
    far plus the time left. Returns ``"optimal"``, ``"infeasible"`` or ``"stopped"`` (out of
    time, less than ``min_left_s`` left before the run, or any other status).
    """
    import highspy

    left = deadline - time.perf_counter()
    if left <= min_left_s:
        return "stopped"
    h.setOptionValue("time_limit", h.getRunTime() + float(left))
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        return "optimal"
    if status == highspy.HighsModelStatus.kInfeasible:
        return "infeasible"
    return "stopped"
