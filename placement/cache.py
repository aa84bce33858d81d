"""The user cache of refreshed tables: where it lives, its manifest, and intact copies.

``placement data refresh`` (:mod:`placement.refresh`) writes here; the catalog loaders read
from here (``source="cache"``). Neither imports the other through this module.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST", "cached_table_path", "default_cache_dir", "read_manifest", "sha256_file"]

#: The manifest's file name inside the cache folder.
MANIFEST = "manifest.json"


def default_cache_dir() -> Path:
    """The cache folder used when none is given (see the module docstring)."""
    env = os.environ.get("PLACEMENT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "placement" / "Cache"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "placement"


def cache_folder(cache_dir: str | os.PathLike[str] | None) -> Path:
    return Path(cache_dir) if cache_dir is not None else default_cache_dir()


def read_manifest(cache_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The cache manifest ``{"tables": {name: entry}}`` (empty when absent or unreadable)."""
    path = cache_folder(cache_dir) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"tables": {}}
    if not isinstance(data, dict) or not isinstance(data.get("tables"), dict):
        return {"tables": {}}
    return data


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def cached_table_path(
    name: str, cache_dir: str | os.PathLike[str] | None = None
) -> tuple[Path, dict[str, Any]] | None:
    """The cached copy of a table and its manifest entry, if present and intact.

    Parameters
    ----------
    name : str
        Table name, e.g. ``"sites"``.
    cache_dir : path-like, optional
        Cache folder (default :func:`default_cache_dir`).

    Returns
    -------
    (pathlib.Path, dict) or None
        ``None`` when there is no cached copy or its sha256 differs from the manifest's.
    """
    folder = cache_folder(cache_dir)
    entry = read_manifest(folder)["tables"].get(name)
    if not isinstance(entry, dict):
        return None
    path = folder / f"{name}.csv"
    if not path.is_file() or entry.get("sha256") != sha256_file(path):
        return None
    return path, entry
