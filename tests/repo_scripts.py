"""Import a script of the repository's ``scripts/`` folder in a test, or skip without it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

__all__ = ["REPO", "load_script"]

REPO = Path(__file__).resolve().parent.parent


def load_script(name: str, module_name: str | None = None) -> ModuleType:
    """The module of ``scripts/<name>.py``, registered in ``sys.modules`` as ``module_name``
    (default ``name``; dataclasses and pickling need it). Skips the test when ``scripts/`` is not
    there (an installed package)."""
    path = REPO / "scripts" / f"{name}.py"
    if not path.is_file():
        pytest.skip("scripts/ not present (installed package)")
    spec = importlib.util.spec_from_file_location(module_name or name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod
