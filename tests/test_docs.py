"""Every example of README.md and docs/*.md runs and shows a solution.

The code blocks of one page run in order, in one Python namespace, in a scratch folder holding a
copy of ``docs/examples`` (so relative paths in the examples work): ``python`` blocks are
executed (their ``assert`` lines are the checks), ``bash`` blocks run their ``placement …``
commands in-process (``> FILE`` redirects stdout; lines ending in ``\\`` continue) and must exit 0.
Other shell lines (installs, the test suite itself, ``placement demo``) are not run. A block
preceded by ``<!-- docs-test: skip -->`` is shown but not run.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
import time
import warnings
from pathlib import Path

import pytest

from placement.cli import main

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"(<!-- docs-test: skip -->\s*)?```(\w+)\n(.*?)```", re.DOTALL)
#: Commands shown but not run here (installs, the suite itself, the long world demo).
_NOT_RUN = ("python -m pip", "python -m pytest", "ruff", "bash .ci/run", "placement demo")


def blocks(page: Path) -> list[tuple[str, str]]:
    """The (language, code) blocks of a page that the tests run."""
    out = []
    for m in _BLOCK.finditer(page.read_text(encoding="utf-8")):
        if m.group(1):
            continue
        out.append((m.group(2), m.group(3)))
    return out


def shell_commands(code: str) -> list[str]:
    """The ``placement`` commands of a bash block (continuations joined, comments dropped)."""
    joined = re.sub(r"\\\n\s*", " ", code)
    cmds = []
    for line in joined.splitlines():
        line = line.split("  #", 1)[0].strip()
        if not line or line.startswith("#") or line.startswith(_NOT_RUN):
            continue
        assert line.startswith("placement "), f"unexpected shell line in docs: {line}"
        cmds.append(line)
    return cmds


def run_command(line: str) -> float:
    """Run one ``placement …`` line in-process; returns its wall seconds."""
    words = shlex.split(line)
    out_file = None
    if ">" in words:
        k = words.index(">")
        out_file, words = words[k + 1], words[:k]
    buf = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(buf):
        rc = main(words[1:])
    elapsed = time.perf_counter() - t0
    assert rc == 0, f"{line!r} exited {rc}"
    if out_file is not None:
        Path(out_file).parent.mkdir(parents=True, exist_ok=True)
        Path(out_file).write_text(buf.getvalue(), encoding="utf-8")
    return elapsed


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run(page: Path, tmp_path, monkeypatch, capsys) -> None:
    found = blocks(page)
    if not found:
        pytest.skip(f"{page.name} has no code blocks")
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # dropped-city notes of the catalog
        for lang, code in found:
            t0 = time.perf_counter()
            if lang == "python":
                exec(compile(code, f"{page.name}:python", "exec"), namespace)
            elif lang in ("bash", "sh", "console"):
                for line in shell_commands(code):
                    run_command(line)
            else:
                continue
            # each example solves in seconds on the shipped data (limit: 60 s on 2 cores)
            assert time.perf_counter() - t0 < 60.0, f"{page.name}: a {lang} block took too long"


def test_every_page_is_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in (ROOT / "docs").glob("*.md"):
        assert f"docs/{page.name}" in readme, f"README does not link docs/{page.name}"


def test_toml_examples_are_valid_and_documented() -> None:
    from placement import config
    from placement.scenarios import Scenario

    doc = (ROOT / "docs" / "toml.md").read_text(encoding="utf-8")
    for path in sorted((ROOT / "docs" / "examples").glob("*.toml")):
        assert path.name in doc, f"docs/toml.md does not mention {path.name}"
        text = path.read_text(encoding="utf-8")
        if "[problem]" in text or "[inputs]" in text:
            config.load_config(path)
        else:
            Scenario.from_toml(path)
    # every key the problem file accepts is documented
    for key in sorted(config.INPUT_KEYS | config.SOLVER_KEYS | config.STREAMING_KEYS):
        assert f"`{key}`" in doc, f"docs/toml.md does not document {key}"


def test_toml_blocks_of_the_docs_parse(tmp_path) -> None:
    import tomllib

    from placement import config
    from placement.scenarios import Scenario

    n = 0
    for page in PAGES:
        for m in _BLOCK.finditer(page.read_text(encoding="utf-8")):
            if m.group(2) != "toml":
                continue
            text = m.group(3)
            if "[inputs]" in text or "[solver]" in text:
                f = tmp_path / f"block{n}.toml"
                f.write_text(text, encoding="utf-8")
                cfg = config.load_config(f)
                assert cfg["problem"], f"{page.name}: a problem block without [problem]"
            else:
                Scenario.from_dict(tomllib.loads(text))
            n += 1
    assert n >= 2
