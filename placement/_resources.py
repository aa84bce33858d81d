"""Locate the data files shipped with the package.

In a built wheel the repository's ``data/`` folder is installed as ``placement/_data``; in a source
checkout (editable install or ``PYTHONPATH``) the files are read from ``data/`` beside the package.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["data_file"]


def data_file(name: str) -> Path:
    """Return the path of a shipped data file.

    Parameters
    ----------
    name : str
        File name relative to the data folder, e.g. ``"sites.csv"``.

    Raises
    ------
    FileNotFoundError
        If the file is in neither the installed nor the source location.
    """
    packaged = resources.files("placement") / "_data" / name
    if packaged.is_file():
        return Path(str(packaged))
    source = Path(__file__).resolve().parent.parent / "data" / name
    if source.is_file():
        return source
    raise FileNotFoundError(
        f"shipped data file {name!r} not found (looked in placement/_data and data/)"
    )
