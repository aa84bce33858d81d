"""Progress reports of long solves: the record solvers hand out and handlers that show it.

A solver given ``progress=callback`` calls ``callback(Progress(...))`` now and then (a new
incumbent, a better bound, or every few seconds); the callback must be cheap and must not raise.
The library never prints: :class:`LogProgress` turns the records into :mod:`logging` messages of
the ``placement.progress`` logger, at most one every ``interval_s`` seconds, and the command line
routes the ``placement`` logger to stderr (``--quiet`` hides them, ``-v`` shows more).

Example
-------
>>> import logging
>>> from placement.progress import LogProgress, Progress
>>> show = LogProgress(interval_s=5.0)
>>> show(Progress(elapsed_s=12.0, incumbent=31.4, bound=30.9, gap=0.016))  # logged at INFO
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "Heartbeat",
    "LogProgress",
    "Progress",
    "ProgressCallback",
    "RelaxationReporter",
    "Reporter",
    "format_progress",
]

logger = logging.getLogger("placement.progress")


@dataclass(frozen=True)
class Progress:
    """Where a solve stands.

    Attributes
    ----------
    elapsed_s : float
        Wall seconds since the solve started.
    incumbent : float or None
        Objective of the best solution found so far (None before the first).
    bound : float or None
        Best proven bound on the objective (None when unknown).
    gap : float or None
        Relative gap ``|incumbent - bound| / max(|incumbent|, 1e-9)`` (None when unknown).
    message : str
        What the solver is doing (``"building the latency table"``, ``"branch and bound"``, …).
    """

    elapsed_s: float
    incumbent: float | None = None
    bound: float | None = None
    gap: float | None = None
    message: str = ""


#: The type of a progress hook: called with a :class:`Progress`, returns nothing.
ProgressCallback = Callable[[Progress], None]


def _num(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:,.6g}"


def format_progress(p: Progress) -> str:
    """One line: ``elapsed 12 s · incumbent 31.4 · bound 30.9 · gap 1.6% · message``."""
    parts = [f"elapsed {p.elapsed_s:,.0f} s"]
    if p.incumbent is not None or p.bound is not None:
        parts.append(f"incumbent {_num(p.incumbent)}")
        parts.append(f"bound {_num(p.bound)}")
        parts.append("gap –" if p.gap is None else f"gap {p.gap:.2%}")
    if p.message:
        parts.append(p.message)
    return " · ".join(parts)


class LogProgress:
    """A progress callback logging at most one record every ``interval_s`` seconds.

    Parameters
    ----------
    interval_s : float
        Minimum seconds between two logged records (the first one is logged at once).
    log : logging.Logger, optional
        Where to log (default: the ``placement.progress`` logger), at INFO.
    clock : callable, optional
        Monotonic clock (seconds), for tests.
    """

    def __init__(
        self,
        interval_s: float = 5.0,
        log: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval_s = float(interval_s)
        self.log = log or logger
        self._clock = clock
        self._last: float | None = None
        self._lock = threading.Lock()
        self.latest: Progress | None = None

    def __call__(self, progress: Progress) -> None:
        with self._lock:
            self.latest = progress
            now = self._clock()
            if self._last is not None and now - self._last < self.interval_s:
                return
            self._last = now
        self.log.info("%s", format_progress(progress))


class Heartbeat:
    """Log ``still solving`` every ``interval_s`` seconds from a background thread.

    For a solve that does not (yet) report progress itself: the line carries the elapsed time and
    the latest :class:`Progress` a solver handed to ``callback`` (when it did). Use as a context
    manager around the solve::

        with Heartbeat(LogProgress(5.0)) as beat:
            result = problem.solve(progress=beat.callback)
    """

    def __init__(self, callback: LogProgress, interval_s: float | None = None) -> None:
        self.callback_target = callback
        self.interval_s = callback.interval_s if interval_s is None else float(interval_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = time.monotonic()

    def callback(self, progress: Progress) -> None:
        """Forward a solver's record to the logging callback."""
        self.callback_target(progress)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            elapsed = time.monotonic() - self._t0
            latest = self.callback_target.latest
            if latest is not None:
                rec = Progress(elapsed, latest.incumbent, latest.bound, latest.gap, latest.message)
            else:
                rec = Progress(elapsed, message="solving")
            self.callback_target(rec)

    def __enter__(self) -> Heartbeat:
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="placement-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class Reporter:
    """What a solver calls: ``reporter(incumbent, bound, message)``, throttled to the callback.

    Parameters
    ----------
    callback : callable or None
        The user's :data:`ProgressCallback` (None: reporting costs nothing).
    t0 : float
        ``time.perf_counter()`` at the start of the solve (elapsed times count from it).
    interval_s : float
        Minimum seconds between two records handed to ``callback`` (a ``force`` record, such as
        the last one, always goes through).
    """

    def __init__(
        self, callback: ProgressCallback | None, t0: float, interval_s: float = 1.0
    ) -> None:
        self.callback = callback
        self.t0 = t0
        self.interval_s = float(interval_s)
        self._last = -math.inf

    def __call__(
        self,
        incumbent: float | None = None,
        bound: float | None = None,
        message: str = "",
        *,
        force: bool = False,
    ) -> None:
        if self.callback is None:
            return
        now = time.perf_counter()
        if not force and now - self._last < self.interval_s:
            return
        self._last = now
        inc = float(incumbent) if incumbent is not None and math.isfinite(incumbent) else None
        bnd = float(bound) if bound is not None and math.isfinite(bound) else None
        gap = None
        if inc is not None and bnd is not None:
            gap = max(0.0, inc - bnd) / max(abs(inc), 1e-9)
        try:
            self.callback(Progress(now - self.t0, inc, bnd, gap, message))
        except Exception:  # a progress hook must never break a solve
            logger.debug("progress callback raised", exc_info=True)


class RelaxationReporter:
    """A :class:`Reporter` for a solve of a relaxation (the problem with constraints dropped).

    Its bound is a bound of the problem, but its incumbents need not meet the dropped
    constraints, so they are not handed on as the problem's incumbents: only the bound goes
    through, with ``label`` before the message.

    Parameters
    ----------
    inner : Reporter or callable or None
        The problem's reporter (None: reporting costs nothing).
    label : str
        What is being solved, e.g. ``"relaxation without capacity"``.
    """

    def __init__(self, inner: Callable[..., None] | None, label: str) -> None:
        self.inner = inner
        self.label = label

    def __call__(
        self,
        incumbent: float | None = None,
        bound: float | None = None,
        message: str = "",
        *,
        force: bool = False,
    ) -> None:
        if self.inner is None:
            return
        text = f"{self.label}: {message}" if message else self.label
        self.inner(None, bound, text, force=force)
