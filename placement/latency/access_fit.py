"""Calibration of the access component on user-level measurements, hold-outs and error bands.

* :func:`fit_access` fits, on user ↔ user country-pair mean round trips (the RIPE Atlas table, see
  ``data/SOURCES.md``), one access mean and one access standard deviation per country plus the
  user-path scale, shrunk towards a prior on continent and internet use (``scripts/fit_access.py``
  runs it and writes ``data/access_latency.csv``, ``data/access_model.csv``,
  ``data/access_subregion_factors.csv``, ``data/access_country_subregion_factors.csv`` and
  ``data/access_pair_factors.csv``);
* :func:`split_pairs` / :func:`split_countries` hold out pairs, or whole countries;
* :func:`error_bands` states errors as the inter-region model does (median and p90 of the
  absolute % error, bias per distance band);
* :func:`calibrate` fits the access component to a user's own measurements (RUM) and reports the
  model's error on them before and after.

The pairs' country stand-ins far from any city of their country are first moved to where the
people are (:func:`placement.latency.access.user_points`, as the model does when it predicts).
The fit (per pair ``(a, b)``, countries ``i(a)``, ``j(b)``, continents ``C(a)``, ``C(b)``):

    rtt_ab ≈ (backbone_ab + (path_scale + d_i + d_j) · propagation_ab + m_i + m_j)
             · f_i[C(b)] · f_j[C(a)]
    sd_ab² ≈ v_i + v_j                        (sd = rtt_std of the pair, v = access variance)

``m`` is the access mean (ms, ≥ 0), ``d`` a per-country detour (extra share of the propagation
delay: traffic leaving the country through a remote exchange), ``f_i[C]`` a route factor from
country ``i`` to a continent (how its networks reach that part of the world: transit through
another continent, missing peering). Between users of one country (``i = j``) the access sum is
scaled by a fitted ``self_access_factor`` and the route factors are 1. The mean terms are fitted
jointly on ``log(pred / rtt)`` with a Cauchy loss (scale 0.2: pairs off by far more than ~20 %,
mostly mis-located address blocks, weigh little) by ``scipy.optimize.least_squares``, with ridge
penalties pulling ``m_i`` and ``d_i`` towards priors ``c_continent + g · (internet_share − 0.7)``
(coefficients fitted jointly) and ``log f`` towards 0. The variance by iteratively reweighted
least squares on relative residuals (a least-absolute-deviation fit), ``v_i ≥ 0``, with the same
kind of prior. Countries without pairs get the priors (route factors 1), moved towards their
fitted neighbours' deviations from the priors with weight ``n / (n + NEIGHBOUR_WEIGHT)``
(empirical Bayes): land neighbours (``neighbours`` column of the countries) count 1, other
fitted countries ``exp(−distance / NEIGHBOUR_KM)`` up to ``NEARBY_CUTOFF`` scales (``lat_deg``,
``lon_deg`` columns: a point per country), ``n`` the sum of the weights. Countries without a pair of their own
get the ``self_access_factor`` that makes their self pair the within-country round trip
``self_within_ms · (area / AREA_REF_KM2)^self_area_exponent`` (least absolute deviations of
log RTT on the training self pairs; ``area_km2`` column). Pairs faster than
light in fibre over their great-circle distance (mis-located address blocks) are left out.
Then, with these terms fixed, each country's hosted share and hub (``hosted_share``,
``hosted_hub``: networks of the country answering from an interconnection hub abroad, see
:mod:`placement.latency.access`) by coordinate descent on every pair, faster-than-light ones
included (:func:`_fit_hosting`, penalty :data:`HOSTED_PENALTY` per unit of share). Then the
exponent of the path-ratio factor (user ↔ user round trips times ``exp(β · (log r − r0))``, r the
backbone route length over the great-circle distance) by a robust regression of what the model
leaves on ``log r`` (:func:`_fit_path_ratio`). Last, with
everything else fixed, a factor per unordered pair of UN M49 sub-regions on the round trips
between two distinct fitted countries: the median of the pair's clipped log residuals, shrunk by
``n / (n + SUBREGION_SHRINK)``, then, on what those leave, a factor per country and sub-region
of the other end (half the shrunk median log residual each end, :func:`_fit_subregion_factors`).
Very last, a factor per pair of distinct countries, fitted or not: the clipped log residuals of
the training pairs, smoothed over both ends' neighbourhoods with a kernel ``exp(−d / 1,000 km)``
(the country itself weighs 3), leaving each pair's own residual out (:func:`_fit_pair_factors`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, sparse
from scipy.sparse.linalg import spsolve

from placement.errors import ValidationError
from placement.geo import distance_matrix_km, haversine_km
from placement.latency.access import (
    CONTINENTS,
    PRIOR_SHARE_CENTER,
    STATISTICS,
    AccessTable,
    UserLatencyModel,
    _check_choice,
    _PointTerms,
    access_quantile_ms,
    country_codes,
    hub_points,
    path_log_ratio,
    user_points,
)
from placement.latency.core import FIBER_KM_PER_MS, _check_param
from placement.latency.models import RouteLatencyModel

__all__ = [
    "DISTANCE_BANDS_KM",
    "AccessFit",
    "Calibration",
    "calibrate",
    "cross_validate",
    "error_bands",
    "error_floor",
    "fit_access",
    "prepare_user_pairs",
    "split_countries",
    "split_pairs",
]

#: How the path-ratio factor's exponent is fitted: "all" (on what the model leaves, every pair,
#: :func:`_fit_path_ratio`), "joint" (with the per-country terms), "none" (no factor).
PATH_RATIO = "all"

#: Shrinkage of a sub-region pair's factor: its median log residual times n / (n + this), n
#: the pair's training pairs (5-fold CV by pair, three salts: 3 and 8 no better).
SUBREGION_SHRINK = 5.0
#: Clip of the log residuals (±) before the sub-region pairs' medians.
SUBREGION_CLIP_LOG = 0.7
#: Shrinkage of a country's factor towards a sub-region (n / (n + this)), fitted after the
#: sub-region pairs' on what they leave (5-fold CV by pair, three salts: 8 about as good).
COUNTRY_SUBREGION_SHRINK = 3.0
#: Share of a pair's log residual each end's country-to-sub-region factor takes (the two ends
#: share it).
COUNTRY_SUBREGION_WEIGHT = 0.5
#: Distance scale (km) of the smoothing of the residuals over pairs of countries (last step of
#: the fit, :func:`_fit_pair_factors`): a training pair (a', b') counts towards (a, b) with
#: weight K(a, a')·K(b, b'), K = ``exp(−distance / PAIR_SMOOTH_KM)`` up to ``NEARBY_CUTOFF``
#: scales, :data:`PAIR_SMOOTH_SELF_WEIGHT` for the country itself (5-fold CV by pair and by
#: country, three salts each: 700 and 1,500 km about as good).
PAIR_SMOOTH_KM = 1000.0
#: Kernel weight of a country itself in the smoothing (a nearby country at distance 0 weighs 1).
PAIR_SMOOTH_SELF_WEIGHT = 3.0
#: Shrinkage of the smoothed residual: sum(w·r) / (sum(w) + this).
PAIR_SMOOTH_SHRINK = 1.0
#: Clip of the log residuals (±) before the smoothing.
PAIR_SMOOTH_CLIP_LOG = 0.5
#: Pair factors closer to 1 than this (in log) are not stored (they are 1).
PAIR_FACTOR_MIN_LOG = 0.005
#: Distance bands (km, great-circle) of the error tables: <500, 500-1500, 1500-3000, 3000-10000,
#: >10000.
DISTANCE_BANDS_KM = (0.0, 500.0, 1500.0, 3000.0, 10000.0, np.inf)
BAND_LABELS = ("<500", "500-1500", "1500-3000", "3000-10000", ">10000")
#: Relative residuals are taken against max(y, this), so near-zero RTTs do not dominate.
REL_FLOOR_MS = 10.0
#: Ridge scale of a country's deviation from the prior: mean (ms) and variance (ms²).
PRIOR_SCALE_MEAN_MS = 20.0
PRIOR_SCALE_VAR_MS2 = 10_000.0
#: The variance fit is on absolute residuals below this variance (ms², i.e. sd 100 ms): a
#: relative least-absolute fit would pull the variance towards its smallest values.
VAR_FLOOR_MS2 = 10_000.0
#: Ridge scale of a country's detour (extra share of propagation) from its prior.
PRIOR_SCALE_DETOUR = 0.3
#: Ridge scale of a country's log route factor towards a continent from 0 (factor 1).
PRIOR_SCALE_LOG_FACTOR = 0.3
#: Smallest per-country detour (extra share of the propagation delay): 0, a detour only adds
#: (with path_scale at its bound, user paths are then no faster than light in fibre along the
#: backbone route; a free detour, down to -0.5, fitted 0.5 point better by pair but put user
#: paths below that and moved delay from distance into access: the US access mean 28 ms).
MIN_DETOUR = 0.0
#: Scale of the Cauchy loss on log(pred / rtt): pairs off by much more than ~20 % weigh little.
LOSS_SCALE_LOG = 0.2
#: Function evaluations of the mean fit (trust-region reflective, scipy).
MAX_EVALUATIONS = 5000
#: Relative tolerance on the loss of the mean fit (scipy.optimize.least_squares ftol).
FTOL = 1e-8
#: Largest coefficient of variation (sd / mean) of a country's access delay: 1 puts the median
#: access at 71 % of the mean and the 95th percentile at 2.8 times it (the US: 18 and 71 ms).
MAX_ACCESS_CV = 1.0
#: Empirical-Bayes weight of an unseen country's fitted land neighbours: their mean deviation
#: from the prior is borrowed with weight n / (n + this) (n neighbours fitted). With the pair
#: factors, 0.5 was 0.1-0.2 point better in the three 5-fold CVs by country (14.3 / 14.0 / 13.9 %
#: median, 57.4 / 60.1 / 57.6 % p90) and 0.2 worse on the single 20 % split (14.4 / 47.1 %): noise.
NEIGHBOUR_WEIGHT = 1.0
#: Distance scale (km) of the borrowing from fitted countries near an unseen one (islands, and
#: countries whose land neighbours are unseen too): a fitted country at distance d counts as
#: ``exp(−d / NEIGHBOUR_KM)`` of a land neighbour, none beyond ``NEARBY_CUTOFF`` scales (5-fold CV
#: by country, salt ``placement-access-cv``: 500 km 14.8 % / 60.3 %, 1,000 km 14.6 % / 60.3 %,
#: 2,000 km 14.7 % / 61.9 % median / p90, land neighbours only 15.0 % / 61.7 %).
NEIGHBOUR_KM = 1000.0
#: Beyond this many :data:`NEIGHBOUR_KM` a fitted country lends nothing (weight < e^-3 = 0.05).
NEARBY_CUTOFF = 3.0
#: Reference area (km²) of the self factor: a country of this area gets ``self_access_factor``.
AREA_REF_KM2 = 100_000.0
#: Penalty on a country's hosted share (per unit of share) in the hosting fit, in units of its
#: per-pair loss ``log(1 + (log(pred / rtt) / LOSS_SCALE_LOG)²)``: a share of 1 costs as much
#: as about six pairs off by a factor of 2 (5-fold CV: 10 did as well by pair but biased the
#: <500 km band by +12 % in one by-country fold assignment; 30 worse, 100 fits no share at all).
HOSTED_PENALTY = 15.0
#: Interconnection hubs any country's hosted networks may answer from, besides the hubs on its own
#: continent (GeoNames): the largest exchanges of Europe, North America and Asia (DE-CIX
#: Frankfurt, AMS-IX, LINX, Equinix Ashburn, New York, Singapore). A hub outside both is not
#: plausible hosting (e.g. Russia at Lagos) and is not tried.
GLOBAL_HUBS = ("amsterdam", "ashburn", "frankfurt", "london", "new-york", "singapore")
#: Hubs plausible for countries off their continent (GeoNames puts the Caucasus and Central Asia
#: in AS, Moscow in EU): the former Soviet republics of Asia, whose networks Russian carriers
#: transit and host.
REGIONAL_HUBS = {"moscow": ("AM", "AZ", "GE", "KG", "KZ", "TJ", "TM", "UZ")}
#: Hosted shares tried per country (a grid: the fit is a coordinate descent over countries).
HOSTED_GRID = np.linspace(0.0, 1.0, 21)
#: Rounds of the coordinate descent over countries.
HOSTED_SWEEPS = 4
#: Columns a user-pair table needs (as the RIPE Atlas country-pair table).
PAIR_COLUMNS = ["src", "dst", "src_lat", "src_lon", "dst_lat", "dst_lon", "rtt_ms"]


# --------------------------------------------------------------------------------------------
# Data preparation and splits
# --------------------------------------------------------------------------------------------


def prepare_user_pairs(raw: pd.DataFrame) -> pd.DataFrame:
    """Clean a country-pair table (columns :data:`PAIR_COLUMNS`, optional ``rtt_std``).

    Keeps rows whose two codes are two upper-case letters and whose coordinates and ``rtt_ms`` are
    numbers; adds ``gc_km`` (great-circle) and ``sd_ms`` (``rtt_std``, NaN when blank). Read the
    CSV with ``keep_default_na=False`` ("NA" is Namibia).
    """
    for col in PAIR_COLUMNS:
        if col not in raw.columns:
            raise ValidationError("required column missing", table="user_pairs", field=col)
    df = raw.copy()
    num = ["src_lat", "src_lon", "dst_lat", "dst_lon", "rtt_ms"]
    for col in num:
        df[col] = pd.to_numeric(df[col], errors="coerce")
    ok = df[num].notna().all(axis=1)
    for col in ("src", "dst"):
        s = df[col].astype(str)
        ok &= s.str.fullmatch(r"[A-Z]{2}") & (s != "EU")
    df = df[ok].copy()
    df["src"] = df["src"].astype(str)
    df["dst"] = df["dst"].astype(str)
    df["gc_km"] = haversine_km(df["src_lat"], df["src_lon"], df["dst_lat"], df["dst_lon"])
    sd = df["rtt_std"] if "rtt_std" in df.columns else pd.Series(np.nan, index=df.index)
    df["sd_ms"] = pd.to_numeric(sd, errors="coerce")
    return df.reset_index(drop=True)


def _held(key: str, salt: str, fraction: float) -> bool:
    h = hashlib.sha256((salt + key).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64 < fraction


def split_pairs(
    pairs: pd.DataFrame, *, test_fraction: float = 0.2, salt: str = "placement-access-v1"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic split holding out pairs (SHA-256 of ``salt + "src|dst"``)."""
    _check_param("test_fraction", test_fraction, low=0.0, strict=True)
    test = np.array(
        [
            _held(f"{a}|{b}", salt, test_fraction)
            for a, b in zip(pairs["src"], pairs["dst"], strict=True)
        ],
        dtype=bool,
    )
    return pairs[~test].reset_index(drop=True), pairs[test].reset_index(drop=True)


def split_countries(
    pairs: pd.DataFrame, *, test_fraction: float = 0.2, salt: str = "placement-access-v1"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic split holding out whole countries: a pair with a held-out end is a test
    pair, the training set has neither end held out (those countries get the prior)."""
    _check_param("test_fraction", test_fraction, low=0.0, strict=True)
    codes = sorted(set(pairs["src"]) | set(pairs["dst"]))
    held = {c for c in codes if _held(c, salt, test_fraction)}
    test = (pairs["src"].isin(held) | pairs["dst"].isin(held)).to_numpy()
    return pairs[~test].reset_index(drop=True), pairs[test].reset_index(drop=True)


def _fold(key: str, salt: str, folds: int) -> int:
    h = hashlib.sha256((salt + key).encode()).digest()
    return int.from_bytes(h[:8], "big") % folds


def cross_validate(
    pairs: pd.DataFrame,
    countries: pd.DataFrame,
    *,
    by: str = "pair",
    folds: int = 5,
    salt: str = "placement-access-cv",
    **fit_kwargs: object,
) -> np.ndarray:
    """Grouped k-fold cross-validated predictions (user ↔ user mean RTT) of every pair.

    ``by="pair"``: each pair falls in one fold (SHA-256 of ``salt + "src|dst"``); ``by="country"``:
    each country does, and a pair is predicted by the model fitted without either of its
    countries (a pair whose two countries are in different folds is predicted twice, from the
    fit without the second fold: both ends unseen in neither, one end unseen in both).

    Returns
    -------
    numpy.ndarray
        The held-out prediction of each row of ``pairs`` (ms).
    """
    _check_choice("by", by, ("pair", "country"))
    pred = np.full(len(pairs), np.nan)
    if by == "pair":
        f = np.array(
            [
                _fold(f"{a}|{b}", salt, folds)
                for a, b in zip(pairs["src"], pairs["dst"], strict=True)
            ]
        )
        groups = [f == k for k in range(folds)]
    else:
        fc = {c: _fold(c, salt, folds) for c in set(pairs["src"]) | set(pairs["dst"])}
        fa, fb = pairs["src"].map(fc).to_numpy(), pairs["dst"].map(fc).to_numpy()
        groups = [(fa == k) | (fb == k) for k in range(folds)]
    for test in groups:
        if not test.any():
            continue
        fit = fit_access(pairs[~test], countries, **fit_kwargs)  # type: ignore[arg-type]
        pred[test] = predict_pairs(fit.model("both", "mean"), pairs[test])
    return pred


# --------------------------------------------------------------------------------------------
# The fit
# --------------------------------------------------------------------------------------------


def _design(countries: pd.DataFrame) -> np.ndarray:
    """Prior design matrix: one column per continent, then ``internet_share − 0.7``."""
    cont = countries["continent"].astype(str).to_numpy()
    share = countries["internet_share"].to_numpy(float)
    share = np.where(np.isfinite(share), share, PRIOR_SHARE_CENTER) - PRIOR_SHARE_CENTER
    cols = [(cont == c).astype(float) for c in CONTINENTS]
    return np.column_stack([*cols, share])


def _bounded_lstsq(A: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Least squares with box bounds by an active set on the normal equations: variables out of
    bounds are fixed at the bound and the rest solved again, until none is out (deterministic).

    Fixed variables are not released again, so this is a close approximation of the bounded
    optimum (``scipy.optimize.lsq_linear`` finds it exactly, far slower here).
    """
    G = A.T @ A
    c = A.T @ b
    n = A.shape[1]
    fixed = np.zeros(n, dtype=bool)
    x = np.zeros(n)
    for _ in range(n + 1):
        free = ~fixed
        rhs = c[free] - G[np.ix_(free, fixed)] @ x[fixed]
        x[free] = np.linalg.solve(G[np.ix_(free, free)], rhs)
        below, above = x < lo - 1e-12, x > hi + 1e-12
        if not (below.any() or above.any()):
            break
        x = np.where(below, lo, np.where(above, hi, x))
        fixed |= below | above
    return x


def _irls_additive(
    ia: np.ndarray,
    ib: np.ndarray,
    y: np.ndarray,
    offset: np.ndarray,
    extra: np.ndarray,
    extra_bounds: tuple[np.ndarray, np.ndarray],
    F: np.ndarray,
    *,
    lam: float,
    scale: float,
    floor: float,
    iterations: int,
    log_residuals: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-absolute relative deviations of ``offset + extra·beta + x_i + x_j`` from ``y``.

    ``x ≥ 0`` (one per country, ``F.shape[0]``), ridge ``lam·((x − F·g)/scale)²``.

    Returns
    -------
    beta, g, x
    """
    nd, n, k, e = len(y), F.shape[0], F.shape[1], extra.shape[1]
    U = np.zeros((nd, n))
    np.add.at(U, (np.arange(nd), ia), 1.0)
    np.add.at(U, (np.arange(nd), ib), 1.0)
    X = np.hstack([extra, np.zeros((nd, k)), U])
    pen = np.hstack([np.zeros((n, e)), -F, np.eye(n)]) * (np.sqrt(lam) / scale)
    lo = np.r_[extra_bounds[0], np.full(k, -np.inf), np.zeros(n)]
    hi = np.r_[extra_bounds[1], np.full(k + n, np.inf)]
    den = np.maximum(y, floor)
    w = np.ones(nd)
    x = np.zeros(e + k + n)
    for _ in range(max(1, iterations)):
        A = np.vstack([X * (w / den)[:, None], pen])
        b = np.r_[w * (y - offset) / den, np.zeros(n)]
        x = _bounded_lstsq(A, b, lo, hi)
        pred = X @ x + offset
        if log_residuals:
            # Gauss-Newton step of |log(pred / y)|: residuals relative to the prediction, so
            # over- and under-prediction by the same factor weigh the same (no low bias).
            den = np.maximum(pred, floor)
        r = (pred - y) / den
        w = 1.0 / np.sqrt(np.maximum(np.abs(r), 0.02))
    return x[:e], x[e : e + k], x[e + k :]


@dataclass(frozen=True, eq=False)
class AccessFit:
    """Result of :func:`fit_access`: the table, and the model built on it."""

    access_table: AccessTable
    backbone: RouteLatencyModel
    n_pairs_used: int

    def model(self, access: str = "both", statistic: str = "mean") -> UserLatencyModel:
        """The user model on this fit (default: user ↔ user mean, as the training data)."""
        return UserLatencyModel(
            access=access,
            statistic=statistic,
            backbone=self.backbone,
            access_table=self.access_table,
        )


def _neighbour_matrix(cty: pd.DataFrame, seen: np.ndarray) -> np.ndarray:
    """0/1 matrix: row ``i`` marks the fitted land neighbours of country ``i`` (``neighbours``
    column: comma-separated ISO codes, as GeoNames)."""
    codes = cty["country_code"].astype(str).tolist()
    idx = {c: i for i, c in enumerate(codes)}
    out = np.zeros((len(codes), len(codes)))
    for i, nbs in enumerate(cty["neighbours"].fillna("").astype(str)):
        for c in nbs.split(","):
            j = idx.get(c.strip())
            if j is not None and j != i and seen[j]:
                out[i, j] = 1.0
    return out


def _nearby_matrix(cty: pd.DataFrame, seen: np.ndarray, scale_km: float) -> np.ndarray:
    """Weights ``exp(−distance / scale_km)`` of the fitted countries (columns) near each country
    (rows), between the countries' points (``lat_deg``/``lon_deg`` columns; 0 beyond
    :data:`NEARBY_CUTOFF` scales, where a point is missing, on the diagonal, or with ``scale_km``
    0 or no point columns)."""
    n = len(cty)
    if scale_km <= 0 or not {"lat_deg", "lon_deg"} <= set(cty.columns):
        return np.zeros((n, n))
    lat = pd.to_numeric(cty["lat_deg"], errors="coerce").to_numpy(float)
    lon = pd.to_numeric(cty["lon_deg"], errors="coerce").to_numpy(float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    lat, lon = np.where(ok, lat, 0.0), np.where(ok, lon, 0.0)
    d = distance_matrix_km(lat, lon, lat, lon) / scale_km
    w = np.where(d <= NEARBY_CUTOFF, np.exp(-d), 0.0)
    w *= ok[:, None] & (ok & seen)[None, :]
    np.fill_diagonal(w, 0.0)
    return w


def _fit_within(
    y: np.ndarray, log_area: np.ndarray, ok: np.ndarray, iterations: int = 30
) -> tuple[float, float] | None:
    """Within-country round trip ``y ≈ a · (area / AREA_REF_KM2)^b`` of a country's pair with
    itself, by least absolute deviations of ``log y`` (IRLS); ``(a, b)``, or None with fewer
    than 3 such pairs."""
    sel = ok & (y > 0)
    if sel.sum() < 3:
        return None
    X = np.column_stack([np.ones(int(sel.sum())), log_area[sel]])
    ly = np.log(y[sel])
    w = np.ones(len(ly))
    beta = np.zeros(2)
    for _ in range(iterations):
        sw = np.sqrt(w)
        beta = np.linalg.lstsq(X * sw[:, None], ly * sw, rcond=None)[0]
        w = 1.0 / np.maximum(np.abs(ly - X @ beta), 1e-3)
    return float(np.exp(beta[0])), float(beta[1])


def _fit_mean(
    p: pd.DataFrame,
    comp: dict[str, np.ndarray],
    ia: np.ndarray,
    ib: np.ndarray,
    F: np.ndarray,
    region: np.ndarray,
    *,
    low_scale: float,
    lam: float,
    path_x: np.ndarray | None = None,
    path_ridge: float = 0.0,
    path_beta: float | None = None,
) -> dict[str, np.ndarray | float]:
    """Joint robust fit of the mean round trip's terms on log(RTT) (see the module docstring).

    With ``path_x`` (per pair, the centred log path ratio, 0 where the factor does not apply),
    the round trip is also multiplied by ``exp(β · path_x)``, β a global parameter fitted
    jointly (ridge ``path_ridge · β²`` towards 0).

    Returns ``path_scale``, ``self_factor`` (scalars), ``g_mean``, ``g_detour`` (prior
    coefficients), ``mean``, ``detour`` (per country), ``log_factor`` (country × continent) and
    ``path_beta`` (0 without ``path_x``).
    """
    n, nc, k, nr = len(p), F.shape[0], F.shape[1], len(CONTINENTS)
    y = p["rtt_ms"].to_numpy(float)
    base, prop = comp["latency_ms"], comp["propagation_ms"]
    same = ia == ib
    ra, rb = region[ib], region[ia]  # continent of the other end (-1: none)
    ua = np.where(same | (ra < 0), -1, ia * nr + np.maximum(ra, 0))
    ub = np.where(same | (rb < 0), -1, ib * nr + np.maximum(rb, 0))
    # Parameter vector: path_scale, log self factor, g_mean (k), mean (nc), g_detour (k),
    # detour (nc), log route factors (nc * nr).
    o_gm, o_m = 2, 2 + k
    o_gd, o_d = o_m + nc, o_m + nc + k
    o_u = o_d + nc
    o_b = o_u + nc * nr  # the path-ratio exponent (last)
    nbeta = 0 if path_x is None or path_beta is not None else 1
    fixed_beta = 0.0 if path_beta is None else float(path_beta)
    nx = o_b + nbeta
    sl = np.sqrt(lam)
    px = np.zeros(n) if path_x is None else np.asarray(path_x, float)

    def terms(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m, d, u = x[o_m:o_gd], x[o_d:o_u], np.r_[x[o_u:o_b], 0.0]
        acc = np.where(same, np.exp(x[1]), 1.0) * (m[ia] + m[ib])
        path = base + (x[0] + d[ia] + d[ib]) * prop
        beta = x[o_b] if nbeta else fixed_beta
        return path + acc, np.exp(u[ua] + u[ub] + beta * px), acc

    def fun(x: np.ndarray) -> np.ndarray:
        lin, fac, _ = terms(x)
        r = np.log(np.maximum(lin * fac, 0.1) / y)
        return np.concatenate(
            [
                r,
                sl * (x[o_m:o_gd] - F @ x[o_gm:o_m]) / PRIOR_SCALE_MEAN_MS,
                sl * (x[o_d:o_u] - F @ x[o_gd:o_d]) / PRIOR_SCALE_DETOUR,
                sl * x[o_u:o_b] / PRIOR_SCALE_LOG_FACTOR,
                np.sqrt(path_ridge) * x[o_b:],
            ]
        )

    # Analytic sparse Jacobian: data rows (d log(pred) / d x), then the constant ridge rows.
    rows = np.arange(n)
    ok_a, ok_b = ua >= 0, ub >= 0
    jr = np.concatenate(
        [rows, rows, rows, rows, rows, rows, rows[ok_a], rows[ok_b], rows[: n * nbeta]]
    )  # path_scale, self, m_i, m_j, d_i, d_j, u_a, u_b, beta
    jc = np.concatenate(
        [
            np.zeros(n, int),
            np.ones(n, int),
            o_m + ia,
            o_m + ib,
            o_d + ia,
            o_d + ib,
            o_u + ua[ok_a],
            o_u + ub[ok_b],
            np.full(n * nbeta, o_b),
        ]
    )
    eye_c = sparse.identity(nc, format="csr")
    pen = (
        sparse.vstack(
            [
                sparse.hstack(
                    [
                        sparse.csr_matrix((nc, 2)),
                        -sparse.csr_matrix(F),
                        eye_c,
                        sparse.csr_matrix((nc, k + nc + nc * nr + nbeta)),
                    ]
                )
                / PRIOR_SCALE_MEAN_MS,
                sparse.hstack(
                    [
                        sparse.csr_matrix((nc, 2 + k + nc)),
                        -sparse.csr_matrix(F),
                        eye_c,
                        sparse.csr_matrix((nc, nc * nr + nbeta)),
                    ]
                )
                / PRIOR_SCALE_DETOUR,
                sparse.hstack(
                    [
                        sparse.csr_matrix((nc * nr, o_u)),
                        sparse.identity(nc * nr),
                        sparse.csr_matrix((nc * nr, nbeta)),
                    ]
                )
                / PRIOR_SCALE_LOG_FACTOR,
            ]
        ).tocsr()
        * sl
    )
    if nbeta:
        ridge_row = sparse.csr_matrix(([np.sqrt(path_ridge)], ([0], [o_b])), shape=(1, nx))
        pen = sparse.vstack([pen, ridge_row]).tocsr()

    def jac(x: np.ndarray) -> sparse.csr_matrix:
        lin, fac, acc = terms(x)
        g = np.where(lin * fac > 0.1, 1.0 / lin, 0.0)
        ks = np.where(same, np.exp(x[1]), 1.0)
        vals = np.concatenate(
            [
                g * prop,
                np.where(same, g * acc, 0.0),
                g * ks,
                g * ks,
                g * prop,
                g * prop,
                np.ones(int(ok_a.sum())),
                np.ones(int(ok_b.sum())),
                np.where(lin * fac > 0.1, px, 0.0)[: n * nbeta],
            ]
        )
        data = sparse.csr_matrix((vals, (jr, jc)), shape=(n, nx))
        return sparse.vstack([data, pen]).tocsr()

    x0 = np.zeros(nx)
    x0[0] = max(low_scale, 0.0)
    x0[o_m:o_gd] = 15.0
    lo = np.full(nx, -np.inf)
    lo[0] = low_scale
    lo[o_m:o_gd] = 0.0
    lo[o_d:o_u] = MIN_DETOUR
    sol = optimize.least_squares(
        fun,
        x0,
        bounds=(lo, np.full(nx, np.inf)),
        loss="cauchy",
        f_scale=LOSS_SCALE_LOG,
        jac=jac,
        x_scale="jac",
        max_nfev=MAX_EVALUATIONS,
        ftol=FTOL,
    )
    x = sol.x
    return {
        "path_scale": float(x[0]),
        "self_factor": float(np.exp(x[1])) if same.any() else 1.0,
        "g_mean": x[o_gm:o_m],
        "mean": x[o_m:o_gd],
        "g_detour": x[o_gd:o_d],
        "detour": x[o_d:o_u],
        "log_factor": x[o_u:o_b].reshape(nc, nr),
        "path_beta": float(x[o_b]) if nbeta else fixed_beta,
    }


def fit_access(
    pairs: pd.DataFrame,
    countries: pd.DataFrame,
    *,
    backbone: RouteLatencyModel | None = None,
    lam: float = 1.0,
    iterations: int = 12,
    neighbour_weight: float = NEIGHBOUR_WEIGHT,
    neighbour_km: float = NEIGHBOUR_KM,
    self_area: bool = True,
    hubs: pd.DataFrame | None = None,
    hosted_penalty: float = HOSTED_PENALTY,
    plausible_hubs: bool = True,
    subregion_shrink: float = SUBREGION_SHRINK,
    pair_smooth_km: float = PAIR_SMOOTH_KM,
    path_ratio: str = PATH_RATIO,
    path_ridge: float = 0.0,
    path_beta: float | None = None,
) -> AccessFit:
    """Fit per-country access delays, detours and route factors on user ↔ user pairs.

    Parameters
    ----------
    pairs : pandas.DataFrame
        From :func:`prepare_user_pairs` (``src, dst, *_lat, *_lon, rtt_ms, gc_km, sd_ms``).
    countries : pandas.DataFrame
        Every country the table should hold: ``country_code, continent, internet_share``
        (share 0–1, NaN when unknown). Countries without pairs get the prior (level ``prior``).
    backbone : RouteLatencyModel, optional
        Default: the fitted inter-region model.
    lam : float
        Weight of the pull towards the prior (1: an access mean 20 ms, a detour 0.3 or a route
        factor e^0.3 away from it costs as much as one pair off by a log-error of 1; of
        10,000 ms² of variance, as one pair's variance off by 10,000 ms²).
    iterations : int
        Reweighting rounds of the variance fit.
    neighbour_weight : float
        Shrinkage of an unseen country's borrowing from its fitted land neighbours (``n / (n +
        neighbour_weight)``; 0: no borrowing). Needs a ``neighbours`` column in ``countries``
        (comma-separated ISO codes).
    neighbour_km : float
        Distance scale of the borrowing from fitted countries near an unseen one, land
        neighbours or not (:data:`NEIGHBOUR_KM`; a fitted country at distance d weighs
        ``exp(−d / neighbour_km)``, a land neighbour 1; 0: land neighbours only). Needs
        ``lat_deg``/``lon_deg`` columns in ``countries`` (a point per country).
    self_area : bool
        Fit the within-country round trip on the country's area (needs an ``area_km2`` column);
        False: every country keeps the jointly fitted ``self_access_factor``.
    hubs : pandas.DataFrame, optional
        Hubs a country's hosted networks can answer from (``hub_id, lat_deg, lon_deg,
        continent``; default :func:`~placement.latency.access.hub_points`, the 32 metros of
        ``data/network_hubs.csv``); an empty table fits no hosted share.
    hosted_penalty : float
        Cost of a hosted share of 1 in the hosting fit (:data:`HOSTED_PENALTY`; larger: fewer
        and smaller shares).
    plausible_hubs : bool
        Try for each country only the hubs on its own continent, the large global exchanges
        :data:`GLOBAL_HUBS` and its :data:`REGIONAL_HUBS` (:func:`plausible_hub_mask`); False:
        every hub.
    subregion_shrink : float
        Last, with every other term fixed: a factor per pair of UN M49 sub-regions
        (``subregion`` column of ``countries``) on the user ↔ user round trip between two
        distinct fitted countries, ``exp(median(clip(log(rtt / pred), ±SUBREGION_CLIP_LOG)) ·
        n / (n + subregion_shrink))`` over the pair's n training pairs, then one per country and
        sub-region of the other end on what those leave (:data:`COUNTRY_SUBREGION_SHRINK`,
        :data:`COUNTRY_SUBREGION_WEIGHT`) (0, or no ``subregion`` column: none).
    pair_smooth_km : float
        Last of all: a factor per pair of distinct countries (any level), the log residuals
        of the training pairs between the two countries and countries near them, smoothed with
        a kernel on both ends (:func:`_fit_pair_factors`, :data:`PAIR_SMOOTH_KM`; leave-one-out:
        a training pair's own residual is not in its factor; 0, or no ``lat_deg``/``lon_deg``
        columns: none).
    path_ratio : str
        ``"all"`` (:data:`PATH_RATIO`): a factor on user ↔ user round trips from how roundabout
        the backbone route is (:meth:`AccessTable.path_ratio_factors`), its exponent fitted on
        what the model leaves after the hosted shares, before the sub-region factors
        (:func:`_fit_path_ratio`); ``"joint"``: the exponent a parameter of the joint fit of the
        per-country terms (better by pair, 0.4–0.7 point of median worse by country in the
        5-fold CVs, ``data/SOURCES.md``, "Session 11"; not the shipped setting); ``"none"``: no
        factor.
    path_ridge : float
        With ``"joint"``: ridge ``path_ridge · β²`` on the exponent (through the Cauchy loss,
        as every ridge row of the fit).
    path_beta : float, optional
        With ``"joint"``: the exponent fixed at this value (the other terms fitted around it).

    Returns
    -------
    AccessFit
        Deterministic for the same inputs (in any row order).
    """
    _check_param("lam", lam, low=0.0)
    _check_param("neighbour_weight", neighbour_weight, low=0.0)
    _check_param("neighbour_km", neighbour_km, low=0.0)
    _check_param("subregion_shrink", subregion_shrink, low=0.0)
    bb = RouteLatencyModel() if backbone is None else backbone
    pairs = user_pair_points(pairs)
    cty = countries.sort_values("country_code", kind="stable").reset_index(drop=True)
    codes = cty["country_code"].astype(str).to_numpy()
    idx = {c: i for i, c in enumerate(codes)}
    unknown = sorted((set(pairs["src"]) | set(pairs["dst"])) - set(idx))
    p = pairs[~(pairs["src"].isin(unknown) | pairs["dst"].isin(unknown))]
    floor_ms = 2.0 * p["gc_km"].to_numpy(float) / FIBER_KM_PER_MS
    p = p[(p["rtt_ms"].to_numpy(float) >= np.maximum(floor_ms, 1.0))]
    p = p.sort_values(["src", "dst"], kind="stable").reset_index(drop=True)
    c = bb.components(p["src_lat"], p["src_lon"], p["dst_lat"], p["dst_lon"], pairwise=True)
    ia = p["src"].map(idx).to_numpy()
    ib = p["dst"].map(idx).to_numpy()
    F = _design(cty)
    region = np.array(
        [CONTINENTS.index(x) if x in CONTINENTS else -1 for x in cty["continent"].astype(str)]
    )
    # Path scale bounded so the user paths' effective inflation stays >= 1.
    low_scale = 1.0 / bb.inflation - 1.0
    area = (
        pd.to_numeric(cty["area_km2"], errors="coerce").to_numpy(float)
        if "area_km2" in cty.columns and self_area
        else np.full(len(cty), np.nan)
    )
    ok_area = np.isfinite(area) & (area > 0)
    log_area = np.log(np.where(ok_area, area, AREA_REF_KM2) / AREA_REF_KM2)
    _check_choice("path_ratio", path_ratio, ("all", "joint", "none"))
    path_x, path_ref = None, 0.0
    if path_ratio == "joint":
        lr = path_log_ratio(c["path_km"], c["distance_km"])
        on = (ia != ib) & (c["distance_km"] >= 1.0)
        path_ref = float(np.median(lr[on])) if on.any() else 0.0
        path_x = np.where(on, lr - path_ref, 0.0)
    fm = _fit_mean(
        p,
        c,
        ia,
        ib,
        F,
        region,
        low_scale=low_scale,
        lam=lam,
        path_x=path_x,
        path_ridge=path_ridge,
        path_beta=path_beta,
    )
    has_sd = p["sd_ms"].notna().to_numpy()
    ps = p[has_sd]
    _, g_var, v = _irls_additive(
        ps["src"].map(idx).to_numpy(),
        ps["dst"].map(idx).to_numpy(),
        ps["sd_ms"].to_numpy(float) ** 2,
        np.zeros(len(ps)),
        np.zeros((len(ps), 0)),
        (np.zeros(0), np.zeros(0)),
        F,
        lam=lam,
        scale=PRIOR_SCALE_VAR_MS2,
        floor=VAR_FLOOR_MS2,
        iterations=iterations,
    )
    n_pairs = np.bincount(np.r_[ia, ib], minlength=len(codes))
    n_sd = np.bincount(
        np.r_[ps["src"].map(idx).to_numpy(), ps["dst"].map(idx).to_numpy()], minlength=len(codes)
    )
    g_mean, g_detour = fm["g_mean"], fm["g_detour"]
    prior_m = np.maximum(F @ g_mean, 0.0)
    prior_d = np.maximum(F @ g_detour, MIN_DETOUR)
    prior_v = np.maximum(F @ g_var, 0.0)
    seen = n_pairs > 0
    mean = np.where(seen, fm["mean"], prior_m)
    detour = np.where(seen, fm["detour"], prior_d)
    log_f = np.where(seen[:, None], fm["log_factor"], 0.0)  # type: ignore[arg-type]
    var0 = np.where(n_sd > 0, v, prior_v)
    level = np.where(seen, "fitted", "prior").astype(object)
    if neighbour_weight > 0 and "neighbours" in cty.columns:
        nb = np.maximum(_neighbour_matrix(cty, seen), _nearby_matrix(cty, seen, neighbour_km))
        n_nb = nb.sum(axis=1)
        # Empirical-Bayes borrowing: an unseen country's deviation from its prior is its fitted
        # neighbours' weighted mean deviation (land neighbours 1, others by distance), shrunk by
        # n / (n + neighbour_weight), n the sum of the weights.
        w = np.where(seen, 0.0, n_nb / (n_nb + neighbour_weight))
        avg = nb / np.maximum(n_nb, 1)[:, None]
        mean = np.maximum(mean + w * (avg @ (mean - prior_m)), 0.0)
        detour = np.maximum(detour + w * (avg @ (detour - prior_d)), MIN_DETOUR)
        log_f = log_f + w[:, None] * (avg @ log_f)
        var0 = np.maximum(var0 + w * (avg @ (var0 - prior_v)), 0.0)
        level = np.where(w > 0, "neighbours", level)
    # The pairs' rtt_std mixes the spread of users' places in two countries, of routes and of
    # time with the access delay's: the access sd is capped at MAX_ACCESS_CV times its mean.
    var = np.minimum(var0, (MAX_ACCESS_CV * mean) ** 2)
    factors = np.exp(log_f)
    self_f = np.full(len(codes), fm["self_factor"])
    # All pairs of a country with itself, also those under 1 ms left out of the mean fit
    # (users of one exchange: at 0 km, not faster than light).
    sp = pairs[(pairs["src"] == pairs["dst"]) & pairs["src"].isin(idx)]
    si = sp["src"].map(idx).to_numpy(int)
    within = _fit_within(sp["rtt_ms"].to_numpy(float), log_area[si], ok_area[si])
    if within is not None:
        # Countries without a pair of their own: the access sum between two of their users
        # (at the country's point) is the within-country model's round trip at their area.
        base0 = float(bb.components([0.0], [0.0], [0.0], [0.0], pairwise=True)["latency_ms"][0])
        target = within[0] * np.exp(within[1] * log_area) - base0
        own = np.bincount(si, minlength=len(codes)) > 0
        # A country small enough for that round trip to be below the backbone's fixed delay
        # (under ~59,000 km2) gets no access sum at all (factor 0), not the global factor.
        use = ok_area & ~own & (mean > 0)
        self_f = np.where(use, np.maximum(target, 0.0) / (2.0 * np.maximum(mean, 1e-9)), self_f)
    table = pd.DataFrame(
        {
            "country_code": codes,
            "continent": cty["continent"].astype(str).to_numpy(),
            "subregion": (
                cty["subregion"].fillna("").astype(str).to_numpy()
                if "subregion" in cty.columns
                else ""
            ),
            "internet_share": cty["internet_share"].to_numpy(float),
            "access_mean_ms": mean,
            "access_sd_ms": np.sqrt(var),
            "level": level,
            "n_pairs": n_pairs,
            "detour": detour,
            "self_access_factor": self_f,
            **{f"route_factor_{r}": factors[:, j] for j, r in enumerate(CONTINENTS)},
        }
    )
    params = {
        "path_scale": float(fm["path_scale"]),
        "self_access_factor": fm["self_factor"],
    }
    if within is not None:
        params["self_within_ms"], params["self_area_exponent"] = within
    for ci, cont in enumerate(CONTINENTS):
        params[f"prior_mean_ms:{cont}"] = float(g_mean[ci])
        params[f"prior_var_ms2:{cont}"] = float(g_var[ci])
        params[f"prior_detour:{cont}"] = float(g_detour[ci])
    params["prior_mean_ms_per_share"] = float(g_mean[-1])
    params["prior_var_ms2_per_share"] = float(g_var[-1])
    params["prior_detour_per_share"] = float(g_detour[-1])
    fitted = seen
    wts = n_pairs[fitted]
    params["global_mean_ms"] = float(np.average(mean[fitted], weights=wts)) if fitted.any() else 0.0
    params["global_sd_ms"] = (
        float(np.sqrt(np.average(var[fitted], weights=wts))) if fitted.any() else 0.0
    )
    params["max_access_cv"] = MAX_ACCESS_CV
    if path_ratio == "joint":
        params["path_ratio_exponent"], params["path_ratio_ref"] = fm["path_beta"], path_ref
    hub_table = hub_points().reset_index() if hubs is None else hubs
    usable = pairs[
        ~(pairs["src"].isin(unknown) | pairs["dst"].isin(unknown))
        & (pairs["rtt_ms"].to_numpy(float) > 0)
    ].sort_values(["src", "dst"], kind="stable")
    if len(hub_table):
        _check_param("hosted_penalty", hosted_penalty, low=0.0)
        base = AccessFit(AccessTable(table, params), bb, len(p))
        share, hub = _fit_hosting(
            base.model("both", "mean"),
            usable.reset_index(drop=True),
            hub_table["hub_id"].astype(str).tolist(),
            penalty=hosted_penalty,
            allowed=(
                plausible_hub_mask(table["continent"], hub_table, table["country_code"])
                if plausible_hubs
                else None
            ),
        )
        table["hosted_share"] = share
        table["hosted_hub"] = hub
    result = AccessFit(AccessTable(table, params), bb, len(p))
    if path_ratio == "all":
        params["path_ratio_exponent"], params["path_ratio_ref"] = _fit_path_ratio(
            result, usable.reset_index(drop=True)
        )
        result = AccessFit(AccessTable(table, params), bb, len(p))
    if subregion_shrink > 0 and "subregion" in cty.columns:
        sub, end = _fit_subregion_factors(result, usable.reset_index(drop=True), subregion_shrink)
        result = AccessFit(AccessTable(result.access_table.countries, params, sub, end), bb, len(p))
    _check_param("pair_smooth_km", pair_smooth_km, low=0.0)
    if pair_smooth_km > 0 and {"lat_deg", "lon_deg"} <= set(cty.columns):
        at = result.access_table
        pf = _fit_pair_factors(result, usable.reset_index(drop=True), cty, pair_smooth_km)
        result = AccessFit(
            AccessTable(
                at.countries, params, at.subregion_factors, at.country_subregion_factors, pf
            ),
            bb,
            len(p),
        )
    return result


def _fit_path_ratio(fit: AccessFit, pairs: pd.DataFrame) -> tuple[float, float]:
    """Exponent and centre of the path-ratio factor (:meth:`AccessTable.path_ratio_factors`).

    On the training pairs between two distinct countries (``pairs``' points are the user
    points), the log residuals ``log(rtt / pred)`` of the model so far are regressed on the
    centred log ratio of backbone route length to great-circle distance (with an intercept,
    Cauchy loss of scale :data:`LOSS_SCALE_LOG`); returns ``(slope, centre)``, the centre the
    median log ratio. A negative slope: users' paths cut across where the backbone's route is
    roundabout.
    """
    ok = (pairs["src"] != pairs["dst"]).to_numpy()
    if ok.sum() < 3:
        return 0.0, 0.0
    q = pairs[ok]
    c = fit.backbone.components(
        q["src_lat"], q["src_lon"], q["dst_lat"], q["dst_lon"], pairwise=True
    )
    lr = path_log_ratio(c["path_km"], c["distance_km"])
    centre = float(np.median(lr))
    r = np.log(q["rtt_ms"].to_numpy(float) / predict_pairs(fit.model("both", "mean"), q))
    x = lr - centre
    sol = optimize.least_squares(
        lambda b: b[0] * x + b[1] - r, np.zeros(2), loss="cauchy", f_scale=LOSS_SCALE_LOG
    )
    return float(sol.x[0]), centre


def _fit_pair_factors(
    fit: AccessFit, pairs: pd.DataFrame, cty: pd.DataFrame, scale_km: float
) -> pd.DataFrame:
    """Smoothed residual factor per unordered pair of distinct countries of the table.

    With ``r`` the log residual ``log(rtt / pred)`` of each training pair between two distinct
    countries (clipped at ±:data:`PAIR_SMOOTH_CLIP_LOG`), in both orientations, the factor of
    countries ``(a, b)`` is ``exp(Σ w·r / (Σ w + PAIR_SMOOTH_SHRINK))`` over the training pairs
    ``(a', b')`` other than ``(a, b)`` itself, ``w = K(a, a')·K(b, b')`` (:data:`PAIR_SMOOTH_KM`,
    :data:`PAIR_SMOOTH_SELF_WEIGHT`). The two ends' own route to the neighbourhood of the other
    (``(a, b')``, ``(a', b)``) weigh most; a country without pairs takes its neighbours'.

    Returns
    -------
    pandas.DataFrame
        ``country_a, country_b, factor`` (``a < b``, sorted), the pairs whose factor differs from
        1 by :data:`PAIR_FACTOR_MIN_LOG` or more in log.
    """
    cols = ["country_a", "country_b", "factor"]
    codes = cty["country_code"].astype(str).to_numpy()
    idx = {c: i for i, c in enumerate(codes)}
    ok = (pairs["src"] != pairs["dst"]).to_numpy()
    if not ok.any():
        return pd.DataFrame(columns=cols)
    pred = predict_pairs(fit.model("both", "mean"), pairs[ok])
    r = np.clip(
        np.log(pairs["rtt_ms"].to_numpy(float)[ok] / pred),
        -PAIR_SMOOTH_CLIP_LOG,
        PAIR_SMOOTH_CLIP_LOG,
    )
    ia, ib = pairs["src"][ok].map(idx).to_numpy(int), pairs["dst"][ok].map(idx).to_numpy(int)
    n = len(codes)
    S, N = np.zeros((n, n)), np.zeros((n, n))
    np.add.at(S, (ia, ib), r)
    np.add.at(S, (ib, ia), r)
    np.add.at(N, (ia, ib), 1.0)
    np.add.at(N, (ib, ia), 1.0)
    K = _nearby_matrix(cty, np.ones(n, dtype=bool), scale_km)
    np.fill_diagonal(K, PAIR_SMOOTH_SELF_WEIGHT)
    own = PAIR_SMOOTH_SELF_WEIGHT**2  # a pair's own weight, left out (leave-one-out)
    num = K @ S @ K.T - own * S
    den = K @ N @ K.T - own * N
    logf = np.where(den > 1e-12, num / (np.maximum(den, 0.0) + PAIR_SMOOTH_SHRINK), 0.0)
    a, b = np.triu_indices(n, k=1)
    v = logf[a, b]
    keep = np.abs(v) >= PAIR_FACTOR_MIN_LOG
    return pd.DataFrame(
        {"country_a": codes[a[keep]], "country_b": codes[b[keep]], "factor": np.exp(v[keep])}
    )


def _shrunk_medians(keys: pd.DataFrame, r: np.ndarray, shrink: float) -> pd.DataFrame:
    """Per group of ``keys`` (columns): ``n_pairs`` and ``log_factor`` = median(r) · n / (n +
    shrink); sorted by the keys."""
    cols = list(keys.columns)
    g = keys.assign(r=r).groupby(cols, sort=True)["r"].agg(["median", "size"]).reset_index()
    n = g["size"].to_numpy(float)
    return g[cols].assign(
        n_pairs=g["size"].astype(int), log_factor=g["median"].to_numpy(float) * n / (n + shrink)
    )


def _fit_subregion_factors(
    fit: AccessFit, pairs: pd.DataFrame, shrink: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Factors on the user ↔ user round trips between two distinct fitted countries (see
    :func:`fit_access`, ``subregion_shrink``): per unordered pair of sub-regions
    (``subregion_a`` ≤ ``subregion_b``, ``n_pairs``, ``factor``), then, on what those leave,
    per country and sub-region of the other end (``country_code``, ``subregion``, ``n_pairs``,
    ``factor``: each end takes :data:`COUNTRY_SUBREGION_WEIGHT` of the shrunk median log
    residual, shrinkage :data:`COUNTRY_SUBREGION_SHRINK`); sorted."""
    t = fit.access_table.countries
    sub = t["subregion"].where(t["level"] == "fitted", "")
    sub.index = t["country_code"]
    sa = pairs["src"].map(sub).fillna("").to_numpy(object)
    sb = pairs["dst"].map(sub).fillna("").to_numpy(object)
    ok = (sa != "") & (sb != "") & (pairs["src"] != pairs["dst"]).to_numpy()
    cols = ["subregion_a", "subregion_b", "n_pairs", "factor"]
    cols2 = ["country_code", "subregion", "n_pairs", "factor"]
    if not ok.any():
        return pd.DataFrame(columns=cols), pd.DataFrame(columns=cols2)
    pred = predict_pairs(fit.model("both", "mean"), pairs[ok])
    r = np.log(pairs["rtt_ms"].to_numpy(float)[ok] / pred)
    sa, sb = sa[ok], sb[ok]
    lo, hi = np.where(sa <= sb, sa, sb), np.where(sa <= sb, sb, sa)
    clip = SUBREGION_CLIP_LOG
    g = _shrunk_medians(
        pd.DataFrame({"subregion_a": lo, "subregion_b": hi}), np.clip(r, -clip, clip), shrink
    )
    pair_f = g.assign(factor=np.exp(g["log_factor"]))[cols]
    # What the sub-region pairs leave, per end: country -> the other end's sub-region.
    lf = dict(
        zip(zip(g["subregion_a"], g["subregion_b"], strict=True), g["log_factor"], strict=True)
    )
    r2 = r - np.array([lf[k] for k in zip(lo, hi, strict=True)])
    ca, cb = pairs["src"].to_numpy(object)[ok], pairs["dst"].to_numpy(object)[ok]
    e = _shrunk_medians(
        pd.DataFrame({"country_code": np.r_[ca, cb], "subregion": np.r_[sb, sa]}),
        np.clip(np.r_[r2, r2], -clip, clip),
        COUNTRY_SUBREGION_SHRINK,
    )
    end_f = e.assign(factor=np.exp(COUNTRY_SUBREGION_WEIGHT * e["log_factor"]))[cols2]
    return pair_f, end_f


def _hosting_prices(
    model: UserLatencyModel, pairs: pd.DataFrame, hub_ids: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean round trip of each pair with its ends at their points (``p00``, shape n), the
    source end's networks at each hub (``p10``, n × H), the destination's (``p01``), and
    between two hubs (``hh``, H × H)."""
    a, b = _ends(pairs)
    ta, tb = model.point_terms(a), model.point_terms(b)
    bb, n, nh = model.backbone, len(pairs), len(hub_ids)
    hubs = _PointTerms.of_hubs(hub_ids)
    c = bb.components(a["lat_deg"], a["lon_deg"], b["lat_deg"], b["lon_deg"], pairwise=True)
    p00 = model._combine(c["latency_ms"], c["propagation_ms"], ta, tb, pairwise=True)
    p10, p01 = np.empty((n, nh)), np.empty((n, nh))
    for k in range(nh):
        hk = _PointTerms.of_hubs([hub_ids[k]] * n)
        lat, lon = np.full(n, hubs.lat_deg[k]), np.full(n, hubs.lon_deg[k])
        c1 = bb.components(lat, lon, b["lat_deg"], b["lon_deg"], pairwise=True)
        p10[:, k] = model._combine(c1["latency_ms"], c1["propagation_ms"], hk, tb, pairwise=True)
        c2 = bb.components(a["lat_deg"], a["lon_deg"], lat, lon, pairwise=True)
        p01[:, k] = model._combine(c2["latency_ms"], c2["propagation_ms"], ta, hk, pairwise=True)
    ch = bb.components(hubs.lat_deg, hubs.lon_deg, hubs.lat_deg, hubs.lon_deg)
    hh = model._combine(ch["latency_ms"], ch["propagation_ms"], hubs, hubs, pairwise=False)
    return p00, p10, p01, hh


def plausible_hub_mask(
    continents: pd.Series, hubs: pd.DataFrame, codes: pd.Series | None = None
) -> np.ndarray:
    """Which hubs each country's hosted networks may answer from.

    Parameters
    ----------
    continents : pandas.Series
        Each country's continent code (GeoNames: AF, AN, AS, EU, NA, OC, SA).
    hubs : pandas.DataFrame
        ``hub_id`` and ``continent`` of each hub (as :func:`~placement.latency.access.hub_points`
        reset to columns).
    codes : pandas.Series, optional
        Each country's ISO code (same order as ``continents``): adds the per-country hubs of
        :data:`REGIONAL_HUBS` (Moscow for the former Soviet republics of Asia).

    Returns
    -------
    numpy.ndarray
        Boolean, countries × hubs: True for a hub on the country's continent, one of
        :data:`GLOBAL_HUBS`, or one :data:`REGIONAL_HUBS` lists for the country's code.
    """
    for col in ("hub_id", "continent"):
        if col not in hubs.columns:
            raise ValueError(f"hubs: missing column {col!r} (have {list(hubs.columns)})")
    cont = continents.astype(str).to_numpy()[:, None]
    same = cont == hubs["continent"].astype(str).to_numpy()[None, :]
    glob = hubs["hub_id"].astype(str).isin(GLOBAL_HUBS).to_numpy()[None, :]
    out = same | glob
    if codes is not None:
        cc = codes.astype(str).to_numpy()
        for j, hub in enumerate(hubs["hub_id"].astype(str)):
            out[:, j] |= np.isin(cc, REGIONAL_HUBS.get(hub, ()))
    return out


def _fit_hosting(
    model: UserLatencyModel,
    pairs: pd.DataFrame,
    hub_ids: list[str],
    *,
    penalty: float,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per country of ``model``'s table: the share of its networks hosted at a hub, and the hub.

    A pair's mean round trip is the mixture over where its two ends' networks answer from
    (own point or hub, weights ``(1 − f_a)(1 − f_b)``, ``f_a(1 − f_b)``, …), each priced by the
    model; per country (sorted by code, :data:`HOSTED_SWEEPS` rounds) the hub and share
    (:data:`HOSTED_GRID`) minimising the Cauchy loss of ``log(pred / rtt)`` (scale
    :data:`LOSS_SCALE_LOG`) over its pairs plus ``penalty · share``; ties keep the smaller share
    and the earlier hub. Countries without pairs keep share 0 (hub ``""``). ``allowed``
    (countries of the table × hubs, boolean; default all): the hubs tried per country.
    """
    codes = model.access_table.countries["country_code"].astype(str).tolist()  # type: ignore[union-attr]
    idx = {c: i for i, c in enumerate(codes)}
    ia, ib = pairs["src"].map(idx).to_numpy(), pairs["dst"].map(idx).to_numpy()
    y = pairs["rtt_ms"].to_numpy(float)
    p00, p10, p01, hh = _hosting_prices(model, pairs, hub_ids)
    f, h = np.zeros(len(codes)), np.zeros(len(codes), dtype=int)
    grid = HOSTED_GRID[:, None]

    def loss(pred: np.ndarray, yy: np.ndarray) -> np.ndarray:
        r = np.log(np.maximum(pred, 0.05) / yy) / LOSS_SCALE_LOG
        return np.log1p(r * r).sum(axis=-1)

    for _ in range(HOSTED_SWEEPS):
        moved = False
        for c in np.unique(np.r_[ia, ib]):
            sel = np.flatnonzero((ia == c) | (ib == c))
            a, b, yy = ia[sel], ib[sel], y[sel]
            best = (np.inf, 0.0, 0)
            for k in range(len(hub_ids)):
                if allowed is not None and not allowed[c, k]:
                    continue
                fa = np.where(a == c, grid, f[a])
                fb = np.where(b == c, grid, f[b])
                ha, hb = np.where(a == c, k, h[a]), np.where(b == c, k, h[b])
                pred = (
                    (1 - fa) * (1 - fb) * p00[sel]
                    + fa * (1 - fb) * p10[sel, ha]
                    + (1 - fa) * fb * p01[sel, hb]
                    + fa * fb * hh[ha, hb]
                )
                cost = loss(pred, yy) + penalty * HOSTED_GRID
                j = int(np.argmin(cost))
                if cost[j] < best[0] - 1e-9:
                    best = (float(cost[j]), float(HOSTED_GRID[j]), k)
            if (best[1], best[2] if best[1] > 0 else 0) != (f[c], h[c] if f[c] > 0 else 0):
                moved = True
            f[c], h[c] = best[1], best[2]
        if not moved:
            break
    hub = np.where(f > 0, np.asarray(hub_ids, dtype=object)[h], "")
    return f, hub


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def _ends(pairs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    a = pd.DataFrame(
        {
            "lat_deg": pairs["src_lat"].to_numpy(float),
            "lon_deg": pairs["src_lon"].to_numpy(float),
            "country_code": pairs["src"].to_numpy(object),
        }
    )
    b = pd.DataFrame(
        {
            "lat_deg": pairs["dst_lat"].to_numpy(float),
            "lon_deg": pairs["dst_lon"].to_numpy(float),
            "country_code": pairs["dst"].to_numpy(object),
        }
    )
    return a, b


def user_pair_points(pairs: pd.DataFrame) -> pd.DataFrame:
    """A user-pair table with both ends' country stand-ins moved to where the people are
    (:func:`placement.latency.access.user_points`; ``gc_km`` is kept: the table's own
    distance)."""
    a, b = _ends(pairs)
    ma, mb = user_points(a), user_points(b)
    if ma is a and mb is b:
        return pairs
    return pairs.assign(
        src_lat=ma["lat_deg"].to_numpy(float),
        src_lon=ma["lon_deg"].to_numpy(float),
        dst_lat=mb["lat_deg"].to_numpy(float),
        dst_lon=mb["lon_deg"].to_numpy(float),
    )


def predict_pairs(model: UserLatencyModel, pairs: pd.DataFrame) -> np.ndarray:
    """The model's round trip for each row of a user-pair table (``src`` on the demand side)."""
    a, b = _ends(pairs)
    return model.pair_latency_ms(a, b)


def error_bands(
    predicted_ms: np.ndarray, measured_ms: np.ndarray, distance_km: np.ndarray
) -> pd.DataFrame:
    """Errors of predictions, overall and per distance band.

    Returns
    -------
    pandas.DataFrame
        One row per band (:data:`BAND_LABELS`) and ``all``: ``band, n, median_abs_pct_error,
        p90_abs_pct_error, bias_median_pct, bias_mean_pct`` (bias = signed error
        ``100·(pred − y)/y``; negative = under-predicts).
    """
    pred = np.asarray(predicted_ms, float)
    y = np.asarray(measured_ms, float)
    d = np.asarray(distance_km, float)
    e = 100.0 * (pred - y) / y
    band = np.digitize(d, DISTANCE_BANDS_KM[1:-1], right=False)
    rows = []
    for k, label in [*enumerate(BAND_LABELS), (-1, "all")]:
        sel = np.ones(len(e), bool) if k < 0 else band == k
        es = e[sel]
        if len(es) == 0:
            rows.append({"band": label, "n": 0})
            continue
        rows.append(
            {
                "band": label,
                "n": len(es),
                "median_abs_pct_error": float(np.median(np.abs(es))),
                "p90_abs_pct_error": float(np.percentile(np.abs(es), 90)),
                "bias_median_pct": float(np.median(es)),
                "bias_mean_pct": float(np.mean(es)),
            }
        )
    return pd.DataFrame(rows)


#: Absolute % error the issue's p90 target allows (a pair beyond it is in the tail).
FLOOR_TARGET_PCT = 35.0
#: Clip of the log residuals (±) before the oracle's least-absolute-deviation fit.
FLOOR_CLIP_LOG = 1.5


def _lad_fit(X: sparse.csr_matrix, r: np.ndarray, iterations: int = 30) -> np.ndarray:
    """Fitted values of a least-absolute-deviation regression of ``r`` on the sparse design
    ``X`` (iteratively reweighted least squares, a tiny ridge for countries without rows)."""
    w = np.ones(len(r))
    ridge = sparse.identity(X.shape[1], format="csc") * 1e-6
    fitted = np.zeros(len(r))
    for _ in range(iterations):
        W = sparse.diags(w)
        b = spsolve((X.T @ W @ X + ridge).tocsc(), X.T @ (w * r))
        fitted = X @ b
        w = 1.0 / np.maximum(np.abs(r - fitted), 1e-3)
    return fitted


def error_floor(
    pairs: pd.DataFrame, predicted_ms: np.ndarray, continent: pd.Series
) -> pd.DataFrame:
    """How much of a prediction's error any per-country term could remove (issue 16's floor).

    Rows (``what``): ``model`` (the predictions as given); ``without FTL and self`` (the pairs
    measured faster than light in fibre over their great-circle distance and the pairs of a
    country with itself left out); ``oracle country`` and ``oracle country x continent`` (the
    predictions times ``exp(u_a + u_b)``, resp. ``exp(u_a[C(b)] + u_b[C(a)])``, the ``u`` a
    least-absolute-deviation fit of the clipped log residuals ``log(rtt / pred)`` *of these very
    pairs*: a per-country correction that knows the answers — what no term of the two countries
    can beat; self pairs get none); ``light floor`` (the lowest error any model at or above
    light in fibre can have: ``(2·gc/c_fibre − rtt) / rtt`` on the faster-than-light pairs, 0
    elsewhere). Columns ``what, n, median_abs_pct_error, p90_abs_pct_error, over_target_pct``
    (share of pairs off by more than :data:`FLOOR_TARGET_PCT`), and for the ``model`` row the
    make-up of its tail (pairs above its p90): ``tail_over_pct`` (over-predicted),
    ``tail_ftl_pct``, ``tail_self_pct``.

    Parameters
    ----------
    pairs : pandas.DataFrame
        From :func:`prepare_user_pairs` (``src, dst, rtt_ms, gc_km``).
    predicted_ms : numpy.ndarray
        A prediction of each row (e.g. :func:`cross_validate`'s held-out ones).
    continent : pandas.Series
        Continent of each country code (index), for the second oracle.
    """
    y = pairs["rtt_ms"].to_numpy(float)
    pred = np.asarray(predicted_ms, float)
    if pred.shape != y.shape or not np.isfinite(pred).all() or (pred <= 0).any():
        raise ValidationError(
            "need one positive prediction per pair", table="user_pairs", field="predicted_ms"
        )
    light = 2.0 * pairs["gc_km"].to_numpy(float) / FIBER_KM_PER_MS
    ftl = y < light
    same = (pairs["src"] == pairs["dst"]).to_numpy()
    codes = np.union1d(pairs["src"].astype(str), pairs["dst"].astype(str))
    ia = np.searchsorted(codes, pairs["src"].astype(str))
    ib = np.searchsorted(codes, pairs["dst"].astype(str))
    conts = sorted({str(x) for x in continent.reindex(codes).fillna("")})
    ka = np.searchsorted(conts, pairs["src"].map(continent).fillna("").astype(str))
    kb = np.searchsorted(conts, pairs["dst"].map(continent).fillna("").astype(str))
    r = np.clip(np.log(y / pred), -FLOOR_CLIP_LOG, FLOOR_CLIP_LOG)
    rows = np.flatnonzero(~same)

    def oracle(col_a: np.ndarray, col_b: np.ndarray, width: int) -> np.ndarray:
        X = sparse.csr_matrix(
            (np.ones(2 * len(rows)), (np.r_[rows, rows], np.r_[col_a[rows], col_b[rows]])),
            shape=(len(y), width),
        )
        return pred * np.exp(_lad_fit(X, r))

    nk = len(conts)
    cases = [
        ("model", pred, np.ones(len(y), bool)),
        ("without FTL and self", pred, ~ftl & ~same),
        ("oracle country", oracle(ia, ib, len(codes)), np.ones(len(y), bool)),
        (
            "oracle country x continent",
            oracle(ia * nk + kb, ib * nk + ka, len(codes) * nk),
            np.ones(len(y), bool),
        ),
        ("light floor", np.where(ftl, light, y), np.ones(len(y), bool)),
    ]
    out = []
    for what, p, sel in cases:
        e = np.abs(p[sel] - y[sel]) / y[sel] * 100.0
        out.append(
            {
                "what": what,
                "n": int(sel.sum()),
                "median_abs_pct_error": float(np.median(e)),
                "p90_abs_pct_error": float(np.percentile(e, 90)),
                "over_target_pct": float(np.mean(e > FLOOR_TARGET_PCT) * 100.0),
            }
        )
    e = (pred - y) / y * 100.0
    tail = np.abs(e) > np.percentile(np.abs(e), 90)
    out[0].update(
        tail_over_pct=float(np.mean(e[tail] > 0) * 100.0),
        tail_ftl_pct=float(np.mean(ftl[tail]) * 100.0),
        tail_self_pct=float(np.mean(same[tail]) * 100.0),
    )
    return pd.DataFrame(out)


# --------------------------------------------------------------------------------------------
# Bring your own measurements
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Calibration:
    """Result of :func:`calibrate`.

    Attributes
    ----------
    model : UserLatencyModel
        The input model with the calibrated countries' access replaced (level ``calibrated``).
    errors : pandas.DataFrame
        ``when`` (``before``/``after``), ``statistic``, ``n``, ``median_abs_pct_error``,
        ``p90_abs_pct_error``, ``bias_median_pct`` on the measurements given.
    countries : pandas.DataFrame
        Per calibrated country: ``country_code, n_rows, access_mean_ms_before,
        access_sd_ms_before, access_mean_ms, access_sd_ms``.
    """

    model: UserLatencyModel
    errors: pd.DataFrame
    countries: pd.DataFrame


def _rum_points(rum: pd.DataFrame) -> pd.DataFrame:
    """User points of RUM rows: coordinates given, else the country's largest city."""
    from placement.latency.access import _city_points

    has_xy = {"lat_deg", "lon_deg"} <= set(rum.columns)
    lat = rum["lat_deg"].to_numpy(float) if has_xy else np.full(len(rum), np.nan)
    lon = rum["lon_deg"].to_numpy(float) if has_xy else np.full(len(rum), np.nan)
    cc = (
        rum["country_code"].astype(object).to_numpy()
        if "country_code" in rum.columns
        else np.full(len(rum), "", dtype=object)
    )
    no_xy = ~(np.isfinite(lat) & np.isfinite(lon))
    if no_xy.any():
        clat, clon, ccode = _city_points()  # sorted by population, largest first
        first: dict[str, int] = {}
        for i, code in enumerate(ccode):
            first.setdefault(code, i)
        for i in np.flatnonzero(no_xy):
            code = cc[i]
            if not isinstance(code, str) or code not in first:
                raise ValidationError(
                    "needs lat_deg/lon_deg or a country_code with a city in the catalog",
                    table="measurements",
                    row=i,
                    field="country_code",
                    value=code,
                )
            lat[i], lon[i] = clat[first[code]], clon[first[code]]
    pts = pd.DataFrame({"lat_deg": lat, "lon_deg": lon, "country_code": cc})
    bad = ~(np.abs(lat) <= 90) | ~(np.abs(lon) <= 180)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError("coordinates out of range", table="measurements", row=i)
    pts["country_code"] = country_codes(pts)
    return pts


def _fit_lognormal(targets: dict[str, float], mean0: float, sd0: float) -> tuple[float, float]:
    """Access (mean, sd) whose statistics match ``targets`` (statistic -> ms).

    One statistic: the current distribution is scaled (same coefficient of variation). Several:
    least squares on the logarithms of the statistics over the lognormal's (mu, sigma).
    """
    tg = {k: max(v, 0.05) for k, v in targets.items()}
    if len(tg) == 1:
        ((stat, target),) = tg.items()
        current = float(access_quantile_ms(mean0, sd0, stat))
        k = target / max(current, 1e-9)
        return max(mean0, 0.5) * k, max(sd0, 0.0) * k

    def resid(x: np.ndarray) -> np.ndarray:
        mu, sigma = x
        out = []
        for stat, t in tg.items():
            q = (
                mu + sigma**2 / 2
                if stat == "mean"
                else mu + {"p50": 0.0, "p95": 1.6448536269514722}[stat] * sigma
            )
            out.append(q - np.log(t))
        return np.asarray(out)

    x0 = np.array([np.log(np.median(list(tg.values()))), 0.5])
    sol = optimize.least_squares(resid, x0, bounds=([-np.inf, 0.0], [np.inf, 5.0]))
    mu, sigma = sol.x
    mean = float(np.exp(mu + sigma**2 / 2))
    return mean, float(mean * np.sqrt(np.expm1(sigma**2)))


def _rum_errors(pred: np.ndarray, y: np.ndarray, stats: np.ndarray, when: str) -> list[dict]:
    rows = []
    for stat in [*sorted(set(stats)), "all"]:
        sel = np.ones(len(y), bool) if stat == "all" else stats == stat
        e = 100.0 * (pred[sel] - y[sel]) / y[sel]
        rows.append(
            {
                "when": when,
                "statistic": stat,
                "n": int(sel.sum()),
                "median_abs_pct_error": float(np.median(np.abs(e))),
                "p90_abs_pct_error": float(np.percentile(np.abs(e), 90)),
                "bias_median_pct": float(np.median(e)),
            }
        )
    return rows


def calibrate(
    model: UserLatencyModel,
    measurements: pd.DataFrame,
    sites: pd.DataFrame,
    *,
    statistic: str | None = None,
    min_rows: int = 1,
) -> Calibration:
    """Calibrate the access component of ``model`` to a user's own measurements (RUM).

    Parameters
    ----------
    model : UserLatencyModel
        The model to start from (its backbone and path scale are kept).
    measurements : pandas.DataFrame
        One row per measurement: ``site_id`` (in ``sites``), ``latency_ms`` (round trip, > 0);
        the user side as ``lat_deg``/``lon_deg`` (or ``lat``/``lon``: a city or a point) and/or
        ``country_code``
        (without coordinates: the country's largest city); optional ``statistic`` per row
        (``mean``/``p50``/``p95``).
    sites : pandas.DataFrame
        ``site_id, lat_deg, lon_deg`` (or ``lat``, ``lon``) of the sites measured against.
    statistic : str, optional
        Statistic of rows without a ``statistic`` column (default: the model's).
    min_rows : int
        Countries with fewer rows keep their access.

    Returns
    -------
    Calibration
        The calibrated model (demand-side access; per country the statistics measured are matched
        at the median of the rows' residuals ``latency_ms − backbone``), and the model's errors on
        these measurements before and after.

    Notes
    -----
    The "after" errors are in-sample; with few rows per country, hold some rows out (fit on part,
    score the rest with :func:`calibrate`'s returned model) to see how it generalises.
    """
    if not isinstance(measurements, pd.DataFrame) or len(measurements) == 0:
        raise ValidationError("table is empty", table="measurements")
    from placement.validate import validate_sites

    sites = validate_sites(sites)  # lat/lon (or latitude/longitude) read as lat_deg/lon_deg
    aliases = {"lat": "lat_deg", "latitude": "lat_deg", "lon": "lon_deg", "longitude": "lon_deg"}
    measurements = measurements.rename(
        columns={a: c for a, c in aliases.items() if a in measurements and c not in measurements}
    )
    for col in ("site_id", "latency_ms"):
        if col not in measurements.columns:
            raise ValidationError("required column missing", table="measurements", field=col)
    y = pd.to_numeric(measurements["latency_ms"], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(y) | (y <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            "must be a finite number > 0",
            table="measurements",
            row=i,
            field="latency_ms",
            value=measurements["latency_ms"].iloc[i],
        )
    default_stat = model.statistic if statistic is None else statistic
    _check_choice("statistic", default_stat, STATISTICS)
    if "statistic" in measurements.columns:
        stats = measurements["statistic"].astype(str).to_numpy()
        for i, s in enumerate(stats):
            if s not in STATISTICS:
                raise ValidationError(
                    f"must be one of {', '.join(STATISTICS)}",
                    table="measurements",
                    row=i,
                    field="statistic",
                    value=s,
                )
    else:
        stats = np.full(len(y), default_stat, dtype=object)
    site_idx = pd.Index(sites["site_id"].astype(str)).get_indexer(
        measurements["site_id"].astype(str)
    )
    if (site_idx < 0).any():
        i = int(np.flatnonzero(site_idx < 0)[0])
        raise ValidationError(
            "unknown site_id",
            table="measurements",
            row=i,
            field="site_id",
            value=measurements["site_id"].iloc[i],
        )
    users = _rum_points(measurements)
    s = sites.iloc[site_idx].reset_index(drop=True)
    sp = pd.DataFrame(
        {"lat_deg": s["lat_deg"].to_numpy(float), "lon_deg": s["lon_deg"].to_numpy(float)}
    )
    demand_model = model.replace(access="demand", measured=None)
    # Demand-side latency = (base + statistic(access)) · factor; the calibration keeps base and
    # factor (route) and fits the access to (latency / factor − base).
    base, factor, _ = demand_model.demand_parts(users, sp)

    def predict(m: UserLatencyModel) -> np.ndarray:
        mean, sd, _ = m.access_table.lookup(users["country_code"])  # type: ignore[union-attr]
        out = np.empty(len(y))
        for stat in set(stats):
            sel = stats == stat
            out[sel] = (base[sel] + access_quantile_ms(mean[sel], sd[sel], stat)) * factor[sel]
        return out

    before = predict(demand_model)
    table = demand_model.access_table
    mean0, sd0, _ = table.lookup(users["country_code"])  # type: ignore[union-attr]
    rows = []
    resid = y / factor - base
    cc = users["country_code"].to_numpy(object)
    for code in sorted(set(cc)):
        sel = cc == code
        if sel.sum() < min_rows:
            continue
        targets = {st: float(np.median(resid[sel & (stats == st)])) for st in set(stats[sel])}
        i0 = int(np.flatnonzero(sel)[0])
        mean, sd = _fit_lognormal(targets, float(mean0[i0]), float(sd0[i0]))
        rows.append(
            {
                "country_code": code,
                "n_rows": int(sel.sum()),
                "access_mean_ms_before": float(mean0[i0]),
                "access_sd_ms_before": float(sd0[i0]),
                "access_mean_ms": mean,
                "access_sd_ms": sd,
            }
        )
    changed = pd.DataFrame(rows)
    new_table = table
    if len(changed):
        upd = changed[["country_code", "access_mean_ms", "access_sd_ms", "n_rows"]].rename(
            columns={"n_rows": "n_pairs"}
        )
        upd["level"] = "calibrated"
        new_table = table.replace_countries(upd)  # type: ignore[union-attr]
    new_model = model.replace(access_table=new_table)
    after = predict(new_model.replace(access="demand", measured=None))
    errors = pd.DataFrame(
        _rum_errors(before, y, stats, "before") + _rum_errors(after, y, stats, "after")
    )
    return Calibration(new_model, errors, changed)
