"""Open a report in headless Chromium: screenshot it, and check that it rendered without errors.

Needs a Chromium binary (``chromium``, ``chromium-browser`` or ``google-chrome`` on the PATH, e.g.
Debian's ``apt-get install chromium``) and nothing else: Chromium is driven from the command line
(``--dump-dom``, ``--screenshot``), and PNGs are decoded with :mod:`zlib` and NumPy (or Pillow
when installed).

Examples
--------
Make the demo report and its screenshot::

    placement demo --out reports/demo.html
    python tests/browser.py reports/demo.html reports/demo.png
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "BROWSERS",
    "BrowserError",
    "PageCheck",
    "check_page",
    "find_chromium",
    "png_pixels",
    "png_stats",
    "screenshot",
]

#: Binary names looked up on the PATH, in order.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
)

# Runs before anything else on the page: records errors and every network request the page makes
# into attributes of <html>, which --dump-dom then shows.
_HOOK = """<script>(function(){
var d=document.documentElement,errs=[],reqs=[];
function keep(a,n,v){a.push(String(v).slice(0,300));d.setAttribute(n,JSON.stringify(a));}
window.addEventListener('error',function(e){keep(errs,'data-check-errors',
  (e.message||'error')+' @'+(e.filename||'')+':'+(e.lineno||0));},true);
window.addEventListener('unhandledrejection',function(e){keep(errs,'data-check-errors',
  'unhandled rejection: '+((e.reason&&e.reason.message)||e.reason));});
var ce=console.error;console.error=function(){keep(errs,'data-check-errors',
  'console.error: '+Array.prototype.join.call(arguments,' '));return ce.apply(console,arguments);};
var xo=XMLHttpRequest.prototype.open;XMLHttpRequest.prototype.open=function(m,u){
  keep(reqs,'data-check-requests',u);return xo.apply(this,arguments);};
if(window.fetch){var f0=window.fetch;window.fetch=function(u){
  keep(reqs,'data-check-requests',(u&&u.url)||u);return f0.apply(this,arguments);};}
d.setAttribute('data-check-errors','[]');d.setAttribute('data-check-requests','[]');
})();</script>"""


class BrowserError(RuntimeError):
    """Chromium is missing, failed, or produced no output."""


def find_chromium() -> str | None:
    """Path of the first Chromium-like browser on the PATH (see :data:`BROWSERS`), or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args: Sequence[str], *, timeout_s: float) -> subprocess.CompletedProcess[str]:
    binary = find_chromium()
    if binary is None:
        raise BrowserError("no Chromium found on the PATH (tried " + ", ".join(BROWSERS) + ")")
    with tempfile.TemporaryDirectory(prefix="placement-chromium-") as profile:
        cmd = [binary, *_FLAGS, f"--user-data-dir={profile}", *args]
        try:
            return subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise BrowserError(f"Chromium did not finish within {timeout_s:g} s") from exc


def screenshot(
    html_path: str | os.PathLike[str],
    png_path: str | os.PathLike[str],
    *,
    width: int = 1400,
    height: int = 2400,
    budget_ms: int = 10_000,
    timeout_s: float = 90.0,
) -> Path:
    """Render ``html_path`` in headless Chromium and save a ``width`` × ``height`` PNG.

    Parameters
    ----------
    html_path : path-like
        The page (a local file).
    png_path : path-like
        Where to write the PNG (atomically).
    width, height : int
        Window size in CSS pixels (the screenshot is the window, from the top of the page).
    budget_ms : int
        Virtual time given to the page's scripts before the screenshot.
    timeout_s : float
        Wall-clock limit for Chromium.

    Returns
    -------
    pathlib.Path
        ``png_path``.
    """
    from placement._io import atomic_write_bytes

    url = Path(html_path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="placement-shot-") as tmp:
        out = Path(tmp) / "shot.png"
        proc = _run(
            [
                f"--screenshot={out}",
                f"--window-size={width},{height}",
                f"--virtual-time-budget={budget_ms}",
                url,
            ],
            timeout_s=timeout_s,
        )
        if not out.exists() or out.stat().st_size == 0:
            tail = proc.stderr.strip().splitlines()[-3:]
            raise BrowserError("Chromium wrote no screenshot: " + " | ".join(tail))
        return atomic_write_bytes(png_path, out.read_bytes())


@dataclass
class PageCheck:
    """What a page did in the browser (see :func:`check_page`).

    Attributes
    ----------
    figures : list of str
        Ids of the elements plotly turned into plots (class ``js-plotly-plot``).
    rendered : list of str
        Those of them that contain drawn SVG (``main-svg``).
    maps_with_land : list of str
        Those of them whose geo subplot drew land outlines (a non-empty land path).
    errors : list of str
        JavaScript errors, unhandled promise rejections and ``console.error`` calls, plus
        ``Uncaught`` lines of Chromium's log.
    requests : list of str
        URLs the page asked for with XMLHttpRequest or fetch (a self-contained report: none).
    expected_figures : int or None
        The report's own count (``data-figures`` of ``<body>``), when present.
    dom : str
        The serialised DOM after the scripts ran.
    """

    figures: list[str] = field(default_factory=list)
    rendered: list[str] = field(default_factory=list)
    maps_with_land: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    expected_figures: int | None = None
    dom: str = ""


_FIG_RE = re.compile(r'<div\b[^>]*\bclass="[^"]*\bjs-plotly-plot\b[^"]*"[^>]*>')
_ID_RE = re.compile(r'\bid="([^"]*)"')


def _attr_list(dom: str, name: str) -> list[str]:
    m = re.search(rf'<html\b[^>]*\b{name}="([^"]*)"', dom)
    if not m:
        return []
    raw = (
        m.group(1)
        .replace("&quot;", '"')
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )
    try:
        return [str(x) for x in json.loads(raw)]
    except ValueError:
        return [raw]


def check_page(
    html_path: str | os.PathLike[str], *, budget_ms: int = 10_000, timeout_s: float = 90.0
) -> PageCheck:
    """Load a page with an error/request recorder injected first, and inspect the DOM after.

    A copy of the page, with a small script inserted at the top of ``<head>``, is opened with
    ``--dump-dom`` after ``budget_ms`` of virtual time; Chromium's log (``--enable-logging``) is
    scanned for ``Uncaught`` too.
    """
    text = Path(html_path).read_text(encoding="utf-8")
    if "<head>" in text:
        text = text.replace("<head>", "<head>" + _HOOK, 1)
    else:
        text = _HOOK + text
    with tempfile.TemporaryDirectory(prefix="placement-check-") as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(text, encoding="utf-8")
        proc = _run(
            [
                "--dump-dom",
                f"--virtual-time-budget={budget_ms}",
                "--window-size=1400,2400",
                "--enable-logging=stderr",
                "--v=0",
                page.as_uri(),
            ],
            timeout_s=timeout_s,
        )
    dom = proc.stdout
    if "<html" not in dom:
        tail = proc.stderr.strip().splitlines()[-3:]
        raise BrowserError("Chromium dumped no DOM: " + " | ".join(tail))
    check = PageCheck(dom=dom)
    starts = list(_FIG_RE.finditer(dom))
    for k, m in enumerate(starts):
        idm = _ID_RE.search(m.group(0))
        fid = idm.group(1) if idm else f"#{k}"
        end = starts[k + 1].start() if k + 1 < len(starts) else len(dom)
        chunk = dom[m.end() : end]
        check.figures.append(fid)
        if 'class="main-svg"' in chunk:
            check.rendered.append(fid)
        if re.search(r'<g class="layer land"><path [^>]*\bd="M', chunk):
            check.maps_with_land.append(fid)
    check.errors = _attr_list(dom, "data-check-errors")
    check.errors += [line.strip() for line in proc.stderr.splitlines() if "Uncaught" in line]
    check.requests = _attr_list(dom, "data-check-requests")
    m = re.search(r'<body\b[^>]*\bdata-figures="(\d+)"', dom)
    check.expected_figures = int(m.group(1)) if m else None
    return check


# ----------------------------------------------------------------------------- PNG
def _paeth_row(raw: np.ndarray, prev: np.ndarray, bpp: int) -> np.ndarray:
    out = np.zeros_like(prev)
    for x in range(len(raw)):
        a = int(out[x - bpp]) if x >= bpp else 0
        b = int(prev[x])
        c = int(prev[x - bpp]) if x >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        out[x] = (int(raw[x]) + pred) & 0xFF
    return out


def _avg_row(raw: np.ndarray, prev: np.ndarray, bpp: int) -> np.ndarray:
    out = np.zeros_like(prev)
    for x in range(len(raw)):
        a = int(out[x - bpp]) if x >= bpp else 0
        out[x] = (int(raw[x]) + ((a + int(prev[x])) >> 1)) & 0xFF
    return out


def png_pixels(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode a PNG into an ``(height, width, channels)`` uint8 array.

    Uses Pillow when installed; otherwise a small decoder for what browsers write (8-bit
    greyscale, RGB or RGBA, not interlaced).
    """
    try:
        from PIL import Image  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGBA" if "A" in img.getbands() else "RGB"))
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif ctype == b"IDAT":
            idat.append(chunk)
        elif ctype == b"IEND":
            break
        pos += 12 + length
    if header is None:
        raise ValueError(f"{path}: no PNG header")
    width, height, depth, color, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"{path}: unsupported PNG (depth {depth}, colour type {color})")
    bpp = channels
    stride = width * bpp
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8)
    raw = raw.reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        ftype, line = raw[y, 0], raw[y, 1:]
        if ftype == 0:
            cur = line.copy()
        elif ftype == 1:
            cur = (np.cumsum(line.reshape(width, bpp), axis=0, dtype=np.uint64) & 0xFF).astype(
                np.uint8
            )
            cur = cur.reshape(stride)
        elif ftype == 2:
            cur = line + prev  # uint8 arithmetic wraps modulo 256
        elif ftype == 3:
            cur = _avg_row(line, prev, bpp)
        elif ftype == 4:
            cur = _paeth_row(line, prev, bpp)
        else:
            raise ValueError(f"{path}: bad PNG filter {ftype} in row {y}")
        out[y] = cur
        prev = cur
    return out.reshape(height, width, bpp)


def png_stats(path: str | os.PathLike[str]) -> dict[str, float]:
    """Size and content of a PNG: ``width``, ``height``, ``distinct_colors``, ``non_white``.

    ``non_white`` is the share of pixels that are not (near) white; ``distinct_colors`` counts
    distinct RGB values.
    """
    px = png_pixels(path)
    rgb = px[..., :3] if px.shape[2] >= 3 else np.repeat(px[..., :1], 3, axis=2)
    flat = rgb.reshape(-1, 3).astype(np.uint32)
    packed = (flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]
    non_white = float((rgb.min(axis=2) < 245).mean())
    return {
        "width": float(px.shape[1]),
        "height": float(px.shape[0]),
        "distinct_colors": float(len(np.unique(packed))),
        "non_white": non_white,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python tests/browser.py REPORT.html OUT.png``: screenshot a report."""
    parser = argparse.ArgumentParser(prog="python tests/browser.py")
    parser.add_argument("html")
    parser.add_argument("png")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=2400)
    args = parser.parse_args(argv)
    try:
        out = screenshot(args.html, args.png, width=args.width, height=args.height)
    except (BrowserError, OSError) as exc:
        print(f"screenshot: error: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
