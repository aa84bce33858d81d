"""Create ``highspy.Highs`` objects without HiGHS writing to standard output.

HiGHS prints a banner from C++ on the first construction in a process, straight to file
descriptor 1. The command line keeps stdout for data, so construction happens with descriptor 1
pointed at stderr for that moment.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["new_highs"]


def new_highs(**options: Any) -> Any:
    """Return a silent ``highspy.Highs`` with the given options set.

    Parameters
    ----------
    **options
        HiGHS option names and values (e.g. ``time_limit=10.0``); ``output_flag`` defaults to
        False.
    """
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        h = highspy.Highs()
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
    options.setdefault("output_flag", False)
    for key, value in options.items():
        h.setOptionValue(key, value)
    return h
