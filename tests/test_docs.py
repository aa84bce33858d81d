"""Every example of README.md and docs/*.md runs and shows a solution.

The code blocks of one page run in order, in one Python namespace, in a scratch folder holding a
copy of ``docs/examples`` (so relative paths in the examples work): ``python`` blocks are
executed (their ``assert`` lines are the checks), ``bash`` blocks run their ``placement …``
commands in-process (``> FILE`` redirects stdout; lines ending in ``\\`` continue) and must exit 0.
Other shell lines (installs, the test suite itself) are not run; in ``a && b`` each part counts
on its own (the quick start's ``placement demo`` runs). Every file a command names as its output
(``--out F``, ``> F``; ``reports/demo.html`` for ``placement demo``) must be written. A block
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
#: Commands shown but not run here (installs, the suite itself, CI).
_NOT_RUN = ("python -m pip", "python -m pytest", "ruff", "bash .ci/run")


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
    for full_line in joined.splitlines():
        for part in full_line.split("  #", 1)[0].split("&&"):
            line = part.strip()
            if not line or line.startswith("#") or line.startswith(_NOT_RUN):
                continue
            assert line.startswith("placement "), f"unexpected shell line in docs: {line}"
            cmds.append(line)
    return cmds


def named_outputs(words: list[str]) -> list[str]:
    """The files a ``placement …`` command line says it writes."""
    out = [w.split("=", 1)[1] for w in words if w.startswith("--out=")]
    out += [words[k + 1] for k, w in enumerate(words[:-1]) if w in ("--out", "-o", ">")]
    if len(words) > 1 and words[1] == "demo" and not out:
        out.append("reports/demo.html")
    return [f for f in out if f != "-"]


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
    for name in named_outputs(shlex.split(line)):
        assert Path(name).is_file() and Path(name).stat().st_size > 0, f"{line!r} wrote no {name}"
    return elapsed


def _pct(x: float, digits: int = 1) -> str:
    """A share as the docs write it: ``94.6 %``."""
    return f"{100 * x:.{digits}f} %"


def _cookbook_quotes(ns: dict) -> list[str]:
    """What docs/cookbook.md's prose says about its recipes 2 and 8, from their results."""
    shares, ceiling, answer = ns["shares"], ns["ceiling"], ns["answer"]
    if answer is not None:  # the prose says "no": a model change made 95 % reachable
        return [f"{answer} regions put {_pct(shares[-1])}"]
    quotes = [
        f"only {_pct(ceiling)} of these users have any region within 50 ms",
        f"{len(shares)} regions already reach that ceiling",
        f"(1 region covers {_pct(shares[0])}, 4 regions {_pct(shares[3])}, "
        f"5 regions {_pct(shares[4])})",
        f"At 60 ms, 3 regions cover {_pct(ns['sixty'].objective)}",
    ]
    best, crossed = ns["best"], ns["crossed"]
    extra = {
        view: crossed[view].metrics["total_cost_usd_per_year"]
        / best[view].metrics["total_cost_usd_per_year"]
        - 1
        for view in ("operator", "customer")
    }
    city = ns["listed"].set_index("site_id")["city"].replace({"Zurich": "Zürich"})
    shared = set(best["operator"].open_site_ids) & set(best["customer"].open_site_ids)
    words = {1: "one region", 2: "two regions", 3: "three regions", 4: "four regions"}
    quotes += [
        f"costs an operator {_pct(extra['operator'], 0)} more to run",
        f"costs the customer {_pct(extra['customer'], 0)} more at list price",
        f"share only {words.get(len(shared), f'{len(shared)} regions')} "
        f"({', '.join(sorted(city[s] for s in shared))})",
    ]
    return quotes


#: Page name -> the sentences its prose must contain, computed from the page's examples.
QUOTED = {"cookbook.md": _cookbook_quotes}


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
    # the numbers the prose quotes are the ones the examples compute today
    text = " ".join(page.read_text(encoding="utf-8").split())
    for quote in QUOTED.get(page.name, lambda ns: [])(namespace):
        assert quote in text, f"{page.name} should say {quote!r} (what its example computes now)"


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
