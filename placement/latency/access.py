"""Latency as users feel it: the backbone model plus an access-network delay on the user's side.

A user's round trip to a site is

    latency_ms = (backbone_ms + (path_scale + detour) · propagation_ms
                  + access_ms(country, statistic)) · route_factor(country → site's continent)

* ``backbone_ms`` is :class:`~placement.latency.models.RouteLatencyModel` between the user's
  point (metro, or a country's representative point) and the site, ``propagation_ms`` its
  distance-proportional part; ``path_scale`` (fitted, ≥ ``1/inflation − 1``) corrects the
  datacentre-calibrated detour factor for user paths, ``detour`` (per country, fitted) adds the
  country's own detours (traffic leaving through a remote exchange);
* ``access_ms`` is the user side's access network (last mile, home broadband, mobile, peering
  detours, and the spread of users around their country's point), a random delay per user:
  a **lognormal** distribution per country with a fitted mean and standard deviation
  (:class:`AccessTable`); the table reports its mean, median (``p50``) or 95th percentile
  (``p95``) as asked by ``statistic``;
* ``route_factor`` (per country and continent of the other end, fitted) is how the country's
  networks reach that part of the world (transit through another continent, missing peering).

``access="demand"`` puts the access delay on the demand side only (users → datacentre sites, the
default of :func:`placement.latency.default_model`); ``access="both"`` on both ends (user to user,
what the RIPE Atlas country-pair table measures: a percentile of the sum of two independent
lognormals, by Fenton–Wilkinson moment matching, exact for the mean; both ends' detours and
route factors; between two points of one country the access sum is scaled by the country's
``self_access_factor`` column, fitted or set from a within-country round trip growing with the
country's area, and the route factors are 1); ``access="none"`` is the backbone model as
it is (site to site).

Hosted networks (``access="both"`` only): a share ``hosted_share`` of the networks registered to a
country answers from an interconnection hub abroad (``hosted_hub``, :func:`hub_points`: the
address blocks of a country hosted in, e.g., Amsterdam, as the RIPE Atlas table shows); a pair's
statistic is then that of the mixture over where its two ends answer from (own point or hub,
weights ``(1 − f_a)(1 − f_b)``, ``f_a(1 − f_b)``, ``(1 − f_a) f_b``, ``f_a f_b``), each place priced
by the formula above, a hosted end with no access, detour or route factor of its own
(:func:`mixture_statistic_ms`). The demand side keeps users where they are. Also with
``access="both"`` only, the round trip between two distinct *fitted* countries is multiplied by
the factor of their pair of UN M49 sub-regions (``subregion`` column;
``data/access_subregion_factors.csv``) and by each end's country factor towards the other end's
sub-region (``data/access_country_subregion_factors.csv``;
:meth:`AccessTable.subregion_pair_factors`), and, between any two distinct countries (fitted or
not), by the pair's smoothed residual factor (``data/access_pair_factors.csv``:
what the training pairs near both ends leave, :meth:`AccessTable.country_pair_factors`), and,
for any two points, by the path-ratio factor ``exp(β · (log r − r0))`` (r the backbone route
length over the great-circle distance, :func:`path_log_ratio`; ``path_ratio_exponent`` β and
``path_ratio_ref`` r0 in ``data/access_model.csv``, :meth:`AccessTable.path_ratio_factors`):
users' networks cut across where the backbone graph routes via its hubs.

Country stand-ins: a user point farther than 300 km (:data:`STANDIN_CITY_KM`) from every city
of 100,000 people or more of its country (``data/cities.csv``) stands for the whole country (the
RIPE Atlas table's points: Russia in Siberia, Canada in Saskatchewan, Australia in the desert),
not for users there; :func:`user_points` moves it to the population-weighted centroid of those
cities before the backbone is priced, on the user sides only (demand side with
``access="demand"``, both with ``"both"``; ``access="none"`` keeps every point). The fit does the
same, so the per-country terms no longer carry the stand-in's misplacement (Russia's route factor
towards Europe was 0.37 with the point in Siberia; 1.0 from European Russia).

Each country's access comes from ``data/access_latency.csv`` (fitted on RIPE Atlas user-level
country-pair round trips by ``scripts/fit_access.py``, level ``fitted``) or, for countries without
measurements, from a prior on its continent and its share of people using the internet (level
``prior``, detour prior, route factors 1), moved towards the terms of fitted countries near it
(land neighbours, and others by distance up to ~3,000 km; level ``neighbours``); a code missing from the table falls back to its
continent's prior (a ``continent`` column of the input) and then to the global prior. A point without ``country_code`` takes the
country of its nearest city of 100,000 people or more (``data/cities.csv``).

References
----------
.. [1] RIPE NCC, RIPE Atlas (user-level pings, 2025), aggregated to country pairs by
   input-output-hk/ouroboros-leios ``data/internet/country_rtt_stat.csv.gz``; see
   ``data/SOURCES.md``, "Access latency".
.. [2] Fenton, L. F. (1960), "The sum of log-normal probability distributions in scatter
   transmission systems", IRE Trans. Commun. Systems 8(1): 57–67.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import ndtr

from placement._resources import data_file
from placement.errors import ValidationError
from placement.geo import distance_matrix_km, haversine_km
from placement.latency.core import PairMatrices, TableModel, _check_param
from placement.latency.models import DistanceLatencyModel, RouteLatencyModel
from placement.validate import validate_latency_table

__all__ = [
    "ACCESS_SIDES",
    "STATISTICS",
    "AccessTable",
    "UserLatencyModel",
    "access_quantile_ms",
    "country_codes",
    "hub_points",
    "user_points",
]

#: Statistics a user model can report (over users of a demand point).
STATISTICS = ("mean", "p50", "p95")
#: Where the access delay is added.
ACCESS_SIDES = ("none", "demand", "both")
#: Standard normal quantiles of the percentiles.
_Z = {"p50": 0.0, "p95": 1.6448536269514722}
#: Smallest access mean used for the lognormal's shape (ms): a fitted mean of 0 with a spread
#: keeps a finite coefficient of variation (its percentiles are then 0 too).
MIN_ACCESS_MEAN_MS = 0.5
#: Continents (GeoNames codes) with their own prior; others (AN) use the global prior.
CONTINENTS = ("AF", "AS", "EU", "NA", "OC", "SA")
#: Internet-use share at which the prior's intercepts are stated.
PRIOR_SHARE_CENTER = 0.7
#: Columns of ``data/access_latency.csv``.
ACCESS_COLUMNS = [
    "country_code",
    "continent",
    "subregion",
    "internet_share",
    "access_mean_ms",
    "access_sd_ms",
    "access_p50_ms",
    "access_p95_ms",
    "level",
    "n_pairs",
    "detour",
    "self_access_factor",
    *(f"route_factor_{c}" for c in CONTINENTS),
    "hosted_share",
    "hosted_hub",
]
#: Columns of the per-country route terms (the other end's continent picks one factor).
ROUTE_FACTOR_COLUMNS = [f"route_factor_{c}" for c in CONTINENTS]

#: Round-trip propagation (ms) under which two same-country points are one point (~1 km).
_COINCIDENT_PROPAGATION_MS = 0.01


#: Largest backbone route length / great-circle distance in :func:`path_log_ratio`.
PATH_RATIO_MAX = 4.0


def path_log_ratio(path_km: npt.ArrayLike, distance_km: npt.ArrayLike) -> np.ndarray:
    """``log(path_km / distance_km)`` clipped to [0, log :data:`PATH_RATIO_MAX`]: how roundabout
    the backbone route between two points is (0 for points within 1 km of each other)."""
    path = np.asarray(path_km, float)
    gc = np.asarray(distance_km, float)
    r = np.clip(path / np.maximum(gc, 1.0), 1.0, PATH_RATIO_MAX)
    return np.where(gc >= 1.0, np.log(r), 0.0)


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(
            f"must be one of {', '.join(choices)}", table="parameter", field=name, value=value
        )
    return value


def access_quantile_ms(mean_ms: npt.ArrayLike, sd_ms: npt.ArrayLike, statistic: str) -> np.ndarray:
    """Mean or percentile of a lognormal access delay given its mean and standard deviation.

    Parameters
    ----------
    mean_ms, sd_ms : array_like
        Mean (floored at :data:`MIN_ACCESS_MEAN_MS`) and standard deviation (``>= 0``), ms.
    statistic : {"mean", "p50", "p95"}

    Returns
    -------
    numpy.ndarray
        ``mean_ms`` for ``"mean"``, else ``m · exp(z sigma − sigma²/2)`` (``= exp(mu + z sigma)``,
        ``mu = ln m − sigma²/2``) with ``sigma² = ln(1 + sd²/max(m, 0.5 ms)²)``.

    Examples
    --------
    >>> round(float(access_quantile_ms(20.0, 20.0, "p50")), 3)  # cv 1: median = mean / sqrt(2)
    14.142
    """
    _check_choice("statistic", statistic, STATISTICS)
    mean = np.maximum(np.asarray(mean_ms, dtype=float), 0.0)
    if statistic == "mean":
        return mean.copy()
    s = np.maximum(np.asarray(sd_ms, dtype=float), 0.0)
    sigma2 = np.log1p((s / np.maximum(mean, MIN_ACCESS_MEAN_MS)) ** 2)
    return mean * np.exp(_Z[statistic] * np.sqrt(sigma2) - sigma2 / 2.0)


# --------------------------------------------------------------------------------------------
# The per-country table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AccessTable:
    """Access delay per country: a lognormal with ``access_mean_ms`` and ``access_sd_ms``.

    Parameters
    ----------
    countries : pandas.DataFrame
        Columns of :data:`ACCESS_COLUMNS` (``access_p50_ms``/``access_p95_ms`` are derived and
        recomputed; ``detour`` defaults to 0, the ``route_factor_<continent>`` columns to 1),
        one row per ISO 3166-1 alpha-2 ``country_code``.
    params : dict
        ``path_scale``, ``self_access_factor`` (default 1); the prior:
        ``prior_mean_ms:<continent>``, ``prior_mean_ms_per_share``,
        ``prior_var_ms2:<continent>``, ``prior_var_ms2_per_share``, ``prior_detour:<continent>``,
        ``prior_detour_per_share``, ``global_mean_ms``, ``global_sd_ms``; ``max_access_cv``
        (the prior's sd is at most this times its mean; default unbounded).
    subregion_factors : pandas.DataFrame, optional
        ``subregion_a, subregion_b, factor`` (and ``n_pairs``): a factor on the user ↔ user
        round trip (``access="both"``) between two *fitted* countries (``level`` ``fitted``) of
        these UN M49 sub-regions (the ``subregion`` column; unordered pairs, ``a ≤ b``), what
        the countries' own terms leave of the sub-region pair's residual; default none (1).
    country_subregion_factors : pandas.DataFrame, optional
        ``country_code, subregion, factor`` (and ``n_pairs``): on the same round trips, a factor
        per end, of the end's country towards the other end's sub-region (what the sub-region
        pair factors leave); default none (1).
    pair_factors : pandas.DataFrame, optional
        ``country_a, country_b, factor`` (unordered, ``a < b``): a factor on the user ↔ user round
        trip (``access="both"``) between two distinct countries of any level, applied after all
        the others (the residuals of the training pairs near the two countries, smoothed: see
        :func:`placement.latency.access_fit.fit_access`, ``pair_smooth_km``); pairs not listed
        (and a country with itself) get 1; default none (1).
    """

    countries: pd.DataFrame
    params: dict[str, float]
    subregion_factors: pd.DataFrame | None = None
    country_subregion_factors: pd.DataFrame | None = None
    pair_factors: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        c = self.countries.copy()
        for col in ("country_code", "access_mean_ms", "access_sd_ms"):
            if col not in c.columns:
                raise ValidationError("required column missing", table="access", field=col)
        c["country_code"] = c["country_code"].astype(str)
        if c["country_code"].duplicated().any():
            raise ValidationError(
                "duplicate country_code",
                table="access",
                row=c.loc[c["country_code"].duplicated(), "country_code"].iloc[0],
                field="country_code",
            )
        for col in ("access_mean_ms", "access_sd_ms"):
            v = pd.to_numeric(c[col], errors="coerce").to_numpy(float)
            bad = ~np.isfinite(v) | (v < 0)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValidationError(
                    "must be a finite number >= 0",
                    table="access",
                    row=c["country_code"].iloc[i],
                    field=col,
                    value=c[col].iloc[i],
                )
            c[col] = v
        c["access_p50_ms"] = access_quantile_ms(c["access_mean_ms"], c["access_sd_ms"], "p50")
        c["access_p95_ms"] = access_quantile_ms(c["access_mean_ms"], c["access_sd_ms"], "p95")
        for col, default in (
            ("continent", ""),
            ("subregion", ""),
            ("level", "fitted"),
            ("n_pairs", 0),
            ("detour", 0.0),
            ("self_access_factor", float(self.params.get("self_access_factor", 1.0))),
            *((f, 1.0) for f in ROUTE_FACTOR_COLUMNS),
            ("hosted_share", 0.0),
            ("hosted_hub", ""),
        ):
            if col not in c.columns:
                c[col] = default
        for col, low, strict in (
            ("detour", -1.0, False),
            ("self_access_factor", 0.0, False),  # 0: no access sum between two users at one point
            *((f, 0.0, True) for f in ROUTE_FACTOR_COLUMNS),
        ):
            v = pd.to_numeric(c[col], errors="coerce").to_numpy(float)
            bad = ~np.isfinite(v) | (v < low) | ((v == low) & strict)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValidationError(
                    f"must be a finite number {'>' if strict else '>='} {low:g}",
                    table="access",
                    row=c["country_code"].iloc[i],
                    field=col,
                    value=c[col].iloc[i],
                )
            c[col] = v
        if "internet_share" not in c.columns:
            c["internet_share"] = np.nan
        _check_hosting(c)
        c["subregion"] = c["subregion"].fillna("").astype(str)
        object.__setattr__(self, "countries", c[ACCESS_COLUMNS].reset_index(drop=True))
        if self.subregion_factors is not None:
            object.__setattr__(
                self,
                "subregion_factors",
                _check_subregion_factors(self.subregion_factors, ("subregion_a", "subregion_b")),
            )
        if self.country_subregion_factors is not None:
            object.__setattr__(
                self,
                "country_subregion_factors",
                _check_subregion_factors(
                    self.country_subregion_factors, ("country_code", "subregion")
                ),
            )
        if self.pair_factors is not None:
            object.__setattr__(
                self,
                "pair_factors",
                _check_subregion_factors(
                    self.pair_factors, ("country_a", "country_b"), table="pair_factors"
                ),
            )
        _check_param("path_scale", self.params.get("path_scale", 0.0), low=-1.0)
        _check_param("self_access_factor", self.params.get("self_access_factor", 1.0), low=0.0)

    @classmethod
    def shipped(cls) -> AccessTable:
        """The fitted table shipped in ``data/access_latency.csv`` and ``data/access_model.csv``."""
        return _shipped_access()

    @property
    def path_scale(self) -> float:
        """Fitted extra share of the backbone's propagation delay on user paths."""
        return float(self.params.get("path_scale", 0.0))

    @property
    def self_access_factor(self) -> float:
        """Fitted factor on the two ends' access between users of the same country."""
        return float(self.params.get("self_access_factor", 1.0))

    def route_terms(
        self, country_code: npt.ArrayLike, continent: npt.ArrayLike | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-country route terms of each code: ``detour``, route factors and continent.

        Returns
        -------
        detour : numpy.ndarray
            Extra share of the backbone's propagation delay on paths from the country (a code not
            in the table: the detour prior of ``continent``, at least 0; else 0).
        factors : numpy.ndarray
            Shape (n, len(CONTINENTS)): the factor on the round trip from the country to a point
            on each continent (1 for a code not in the table).
        continent : numpy.ndarray
            The table's continent of the code, else ``continent`` when given, else ``""``.
        """
        codes = pd.Index(self.countries["country_code"])
        cc = np.atleast_1d(np.asarray(country_code, dtype=object)).astype(str)
        pos = codes.get_indexer(cc)
        found = pos >= 0
        at = np.maximum(pos, 0)
        detour = np.where(found, self.countries["detour"].to_numpy(float)[at], 0.0)
        factors = self.countries[ROUTE_FACTOR_COLUMNS].to_numpy(float)[at]
        factors[~found] = 1.0
        given = (
            np.full(cc.shape, "", dtype=object)
            if continent is None
            else np.atleast_1d(np.asarray(continent, dtype=object))
        )
        cont = np.where(found, self.countries["continent"].to_numpy(object)[at], given)
        if not found.all():
            share = np.full(cc.shape, PRIOR_SHARE_CENTER) - PRIOR_SHARE_CENTER
            p = self.params
            prior = (
                np.array([p.get(f"prior_detour:{c}", 0.0) for c in given], dtype=float)
                + p.get("prior_detour_per_share", 0.0) * share
            )
            detour = np.where(found, detour, np.maximum(prior, 0.0))
        return detour, factors, cont.astype(object)

    def self_factors(self, country_code: npt.ArrayLike) -> np.ndarray:
        """Factor on the two ends' access between users of the same country, per code (the
        table's ``self_access_factor``: the fitted factor times the country's area to a fitted
        power, as users at one country point spread over its area; the global
        ``self_access_factor`` for a code not in the table)."""
        codes = pd.Index(self.countries["country_code"])
        cc = np.atleast_1d(np.asarray(country_code, dtype=object)).astype(str)
        pos = codes.get_indexer(cc)
        col = self.countries["self_access_factor"].to_numpy(float)[np.maximum(pos, 0)]
        return np.where(pos >= 0, col, self.self_access_factor)

    def hosting(self, country_code: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Share of each code's networks answering from a hub abroad, and that hub's id.

        The table's ``hosted_share`` (0 to 1; 0 for a code not in the table) and ``hosted_hub``
        (a ``hub_id`` of ``data/network_hubs.csv``, ``""`` when the share is 0): address blocks
        registered to the country but hosted at a large interconnection hub, as the RIPE Atlas
        country pairs show (used with ``access="both"`` only, see :class:`UserLatencyModel`).
        """
        codes = pd.Index(self.countries["country_code"])
        cc = np.atleast_1d(np.asarray(country_code, dtype=object)).astype(str)
        pos = codes.get_indexer(cc)
        at = np.maximum(pos, 0)
        share = np.where(pos >= 0, self.countries["hosted_share"].to_numpy(float)[at], 0.0)
        hub = np.where(pos >= 0, self.countries["hosted_hub"].to_numpy(object)[at], "")
        return share, hub.astype(object)

    def prior(
        self, continent: npt.ArrayLike, internet_share: npt.ArrayLike | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Prior access mean and sd (ms) for a continent and internet-use share.

        An unknown continent gets the global prior; a missing share counts as
        :data:`PRIOR_SHARE_CENTER`.
        """
        cont = np.atleast_1d(np.asarray(continent, dtype=object))
        share = (
            np.full(cont.shape, PRIOR_SHARE_CENTER)
            if internet_share is None
            else np.asarray(internet_share, dtype=float)
        )
        share = np.where(np.isfinite(share), share, PRIOR_SHARE_CENTER) - PRIOR_SHARE_CENTER
        p = self.params
        mean = np.array([p.get(f"prior_mean_ms:{c}", np.nan) for c in cont], dtype=float)
        var = np.array([p.get(f"prior_var_ms2:{c}", np.nan) for c in cont], dtype=float)
        known = np.isfinite(mean)
        mean = np.where(known, mean + p.get("prior_mean_ms_per_share", 0.0) * share, np.nan)
        var = np.where(known, var + p.get("prior_var_ms2_per_share", 0.0) * share, np.nan)
        mean = np.where(known, np.maximum(mean, 0.0), p.get("global_mean_ms", 0.0))
        sd = np.where(known, np.sqrt(np.maximum(var, 0.0)), p.get("global_sd_ms", 0.0))
        return mean, np.minimum(sd, p.get("max_access_cv", np.inf) * mean)

    def lookup(
        self, country_code: npt.ArrayLike, continent: npt.ArrayLike | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Access ``mean_ms``, ``sd_ms`` and ``level`` for each code.

        ``level`` is the table's (``fitted``/``prior``/``calibrated``), or ``continent`` /
        ``global`` for a code not in the table (prior of ``continent`` when given and known).
        """
        codes = pd.Index(self.countries["country_code"])
        cc = np.atleast_1d(np.asarray(country_code, dtype=object)).astype(str)
        pos = codes.get_indexer(cc)
        found = pos >= 0
        mean = self.countries["access_mean_ms"].to_numpy(float)[np.maximum(pos, 0)]
        sd = self.countries["access_sd_ms"].to_numpy(float)[np.maximum(pos, 0)]
        level = self.countries["level"].to_numpy(object)[np.maximum(pos, 0)]
        if not found.all():
            cont = (
                np.full(cc.shape, "", dtype=object)
                if continent is None
                else np.atleast_1d(np.asarray(continent, dtype=object))
            )
            pm, ps = self.prior(cont)
            is_cont = np.array([f"prior_mean_ms:{c}" in self.params for c in cont])
            mean = np.where(found, mean, pm)
            sd = np.where(found, sd, ps)
            level = np.where(found, level, np.where(is_cont, "continent", "global"))
        return mean, sd, level

    def subregion_pair_factors(
        self, code_a: npt.ArrayLike, code_b: npt.ArrayLike, *, pairwise: bool
    ) -> np.ndarray:
        """Factor of :attr:`subregion_factors` between countries ``code_a`` and ``code_b``
        times the two ends' :attr:`country_subregion_factors` towards each other's sub-region
        (element-wise, or shape (len(a), len(b))): 1 unless they are two distinct fitted
        countries (and 1 for a pair or end not in the tables)."""
        a = np.asarray(code_a, dtype=object).astype(str)
        b = np.asarray(code_b, dtype=object).astype(str)
        shape = a.shape if pairwise else (len(a), len(b))
        f, g = self.subregion_factors, self.country_subregion_factors
        if (f is None or not len(f)) and (g is None or not len(g)):
            return np.ones(shape)
        t = self.countries
        sub = dict(
            zip(t["country_code"], t["subregion"].where(t["level"] == "fitted", ""), strict=True)
        )
        ua, ia = np.unique(a, return_inverse=True)
        ub, ib = np.unique(b, return_inverse=True)
        sa = [sub.get(c, "") for c in ua]
        sb = [sub.get(c, "") for c in ub]
        table: dict[tuple[str, str], float] = {}
        if f is not None:
            for x, y, v in zip(f["subregion_a"], f["subregion_b"], f["factor"], strict=True):
                table[(x, y)] = table[(y, x)] = float(v)
        end: dict[tuple[str, str], float] = {}
        if g is not None:
            for c, x, v in zip(g["country_code"], g["subregion"], g["factor"], strict=True):
                end[(c, x)] = float(v)

        def one(ca: str, x: str, cb: str, y: str) -> float:
            if not (x and y) or ca == cb:  # a country with itself: its own within-country terms
                return 1.0
            return table.get((x, y), 1.0) * end.get((ca, y), 1.0) * end.get((cb, x), 1.0)

        m = np.array(
            [
                [one(ca, x, cb, y) for cb, y in zip(ub, sb, strict=True)]
                for ca, x in zip(ua, sa, strict=True)
            ]
        ).reshape(len(ua), len(ub))
        return m[ia.ravel(), ib.ravel()] if pairwise else m[ia.ravel()][:, ib.ravel()]

    def path_ratio_factors(self, path_km: np.ndarray, distance_km: np.ndarray) -> np.ndarray:
        """Factor on the user ↔ user round trip from how roundabout the backbone route is:
        ``exp(path_ratio_exponent · (log r − path_ratio_ref))``, ``r = path_km / distance_km``
        clipped to [1, :data:`PATH_RATIO_MAX`]; 1 for two points within 1 km of each other (users
        of one country at its point) or when the table has no ``path_ratio_exponent``. Same
        shape as the inputs."""
        beta = float(self.params.get("path_ratio_exponent", 0.0))
        path = np.asarray(path_km, float)
        if beta == 0.0:
            return np.ones(path.shape)
        gc = np.asarray(distance_km, float)
        lr = path_log_ratio(path, gc)
        f = np.exp(beta * (lr - float(self.params.get("path_ratio_ref", 0.0))))
        return np.where(gc >= 1.0, f, 1.0)

    def country_pair_factors(
        self, code_a: npt.ArrayLike, code_b: npt.ArrayLike, *, pairwise: bool
    ) -> np.ndarray:
        """Factor of :attr:`pair_factors` between countries ``code_a`` and ``code_b``
        (element-wise, or shape (len(a), len(b))): 1 for a country with itself, a pair not
        listed, or no table."""
        a = np.asarray(code_a, dtype=object).astype(str)
        b = np.asarray(code_b, dtype=object).astype(str)
        shape = a.shape if pairwise else (len(a), len(b))
        f = self.pair_factors
        if f is None or not len(f):
            return np.ones(shape)
        keys = pd.Index(np.union1d(f["country_a"].to_numpy(str), f["country_b"].to_numpy(str)))
        ka, kb = keys.get_indexer(f["country_a"]), keys.get_indexer(f["country_b"])
        m = np.ones((len(keys) + 1, len(keys) + 1))  # last row/column: not listed
        m[ka, kb] = m[kb, ka] = f["factor"].to_numpy(float)
        ia = keys.get_indexer(a.ravel())
        ib = keys.get_indexer(b.ravel())
        ia, ib = np.where(ia < 0, len(keys), ia), np.where(ib < 0, len(keys), ib)
        out = m[ia, ib] if pairwise else m[ia][:, ib]
        return out.reshape(shape)

    def replace_countries(self, rows: pd.DataFrame) -> AccessTable:
        """A copy with the rows of ``rows`` (``country_code, access_mean_ms, access_sd_ms`` and
        optionally ``level``, ``n_pairs``) replacing or adding countries."""
        base = self.countries.set_index("country_code")
        new = rows.set_index("country_code")
        extra = new.index.difference(base.index)
        if len(extra):
            fill = {"continent": "", "level": "prior", "n_pairs": 0, "detour": 0.0}
            fill.update({"hosted_share": 0.0, "hosted_hub": ""})
            fill.update({f: 1.0 for f in ROUTE_FACTOR_COLUMNS})
            base = pd.concat([base, pd.DataFrame(fill, index=extra)])
        for col in new.columns:
            if col in base.columns:
                base.loc[new.index, col] = new[col]
        out = base.reset_index(names="country_code").sort_values("country_code", kind="stable")
        return AccessTable(
            out,
            dict(self.params),
            self.subregion_factors,
            self.country_subregion_factors,
            self.pair_factors,
        )


@cache
def hub_points() -> pd.DataFrame:
    """The interconnection hubs a country's hosted networks can answer from: ``hub_id`` (index),
    ``lat_deg``, ``lon_deg``, ``continent`` (``data/network_hubs.csv``)."""
    from placement import catalog

    h = catalog.network_hubs()
    return h.set_index("hub_id")[["lat_deg", "lon_deg", "continent"]]


def _check_hosting(c: pd.DataFrame) -> None:
    """Validate (in place) ``hosted_share`` (0 to 1) and ``hosted_hub`` (a known hub when the
    share is above 0, else ``""``)."""
    v = pd.to_numeric(c["hosted_share"], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(v) | (v < 0) | (v > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            "must be a number from 0 to 1",
            table="access",
            row=c["country_code"].iloc[i],
            field="hosted_share",
            value=c["hosted_share"].iloc[i],
        )
    c["hosted_share"] = v
    hub = c["hosted_hub"].fillna("").astype(str).to_numpy(object)
    if (v > 0).any():
        known = set(hub_points().index)
        for i in np.flatnonzero(v > 0):
            if hub[i] not in known:
                raise ValidationError(
                    "must be a hub_id of data/network_hubs.csv when hosted_share > 0",
                    table="access",
                    row=c["country_code"].iloc[i],
                    field="hosted_hub",
                    value=hub[i],
                )
    c["hosted_hub"] = np.where(v > 0, hub, "")


def _check_subregion_factors(
    f: pd.DataFrame, keys: tuple[str, str], *, table: str = "subregion_factors"
) -> pd.DataFrame:
    """Validate a factor table (the two ``keys`` columns and ``factor``, finite > 0)."""
    for col in (*keys, "factor"):
        if col not in f.columns:
            raise ValidationError("required column missing", table=table, field=col)
    out = f.copy()
    v = pd.to_numeric(out["factor"], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(v) | (v <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            "must be a finite number > 0",
            table=table,
            row=f"{out[keys[0]].iloc[i]}|{out[keys[1]].iloc[i]}",
            field="factor",
            value=out["factor"].iloc[i],
        )
    out["factor"] = v
    for col in keys:
        out[col] = out[col].fillna("").astype(str)
    return out.reset_index(drop=True)


@cache
def _shipped_access() -> AccessTable:
    countries = pd.read_csv(
        data_file("access_latency.csv"),
        keep_default_na=False,
        dtype={"country_code": str, "continent": str, "level": str},
        na_values={"internet_share": [""]},
    )
    model = pd.read_csv(data_file("access_model.csv"), keep_default_na=False)
    params = dict(zip(model["parameter"], model["value"].astype(float), strict=True))
    sub = pd.read_csv(data_file("access_subregion_factors.csv"), keep_default_na=False)
    end = pd.read_csv(
        data_file("access_country_subregion_factors.csv"),
        keep_default_na=False,
        dtype={"country_code": str},
    )
    pair = pd.read_csv(
        data_file("access_pair_factors.csv"),
        keep_default_na=False,
        dtype={"country_a": str, "country_b": str},
    )
    return AccessTable(countries, params, sub, end, pair)


@cache
def _city_points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = pd.read_csv(
        data_file("cities.csv"),
        keep_default_na=False,
        usecols=["country_code", "lat_deg", "lon_deg"],
        dtype={"country_code": str},
    )
    return (
        c["lat_deg"].to_numpy(float),
        c["lon_deg"].to_numpy(float),
        c["country_code"].to_numpy(object),
    )


def country_codes(points: pd.DataFrame, *, chunk: int = 2000) -> np.ndarray:
    """ISO alpha-2 country of each point: its ``country_code``, else its nearest city's.

    A point without a (non-empty) ``country_code`` takes the country of the nearest city of
    100,000 people or more in the shipped ``data/cities.csv``.
    """
    n = len(points)
    if "country_code" in points.columns:
        cc = points["country_code"].astype(object).to_numpy()
        missing = np.array([not isinstance(x, str) or x == "" for x in cc], dtype=bool)
        out = np.where(missing, "", cc).astype(object)
    else:
        out = np.full(n, "", dtype=object)
        missing = np.ones(n, dtype=bool)
    if missing.any():
        lat, lon, codes = _city_points()
        idx = np.flatnonzero(missing)
        plat = points["lat_deg"].to_numpy(float)[idx]
        plon = points["lon_deg"].to_numpy(float)[idx]
        for k in range(0, len(idx), chunk):
            d = distance_matrix_km(plat[k : k + chunk], plon[k : k + chunk], lat, lon)
            out[idx[k : k + chunk]] = codes[np.argmin(d, axis=1)]
    return out


#: A user point farther than this (km) from every city of 100,000 people or more of its country
#: (``data/cities.csv``) is not where the country's users are but a stand-in for the whole
#: country (the RIPE Atlas table puts the US in Kansas, Russia in Siberia, Canada in
#: Saskatchewan): :func:`user_points` moves it to the country's population-weighted centroid of
#: those cities. 5-fold CV by country (three salts): 14.1-14.4 -> 13.4-13.9 % median, 57.7-60.2
#: -> 54.6-56.4 % p90 (6 countries moved: AU, BR, CA, DZ, PG, RU); 200 km (13 countries) 14.0 %,
#: 0 (every country at its centroid) 14.1 %, 500 km 14.7 % on the first salt.
STANDIN_CITY_KM = 300.0


@cache
def _population_centroids() -> dict[str, tuple[np.ndarray, np.ndarray, float, float]]:
    """Per country of ``data/cities.csv``: its cities' latitudes and longitudes, and their
    population-weighted centroid (mean of the unit vectors, weights = population)."""
    c = pd.read_csv(
        data_file("cities.csv"),
        keep_default_na=False,
        usecols=["country_code", "lat_deg", "lon_deg", "population"],
        dtype={"country_code": str},
    )
    out = {}
    for code, g in c.groupby("country_code", sort=True):
        lat, lon = g["lat_deg"].to_numpy(float), g["lon_deg"].to_numpy(float)
        la, lo = np.radians(lat), np.radians(lon)
        w = np.maximum(g["population"].to_numpy(float), 0.0)
        if not w.sum() > 0:
            continue
        v = np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)]) @ w
        clat = float(np.degrees(np.arctan2(v[2], np.hypot(v[0], v[1]))))
        clon = float(np.degrees(np.arctan2(v[1], v[0])))
        out[str(code)] = (lat, lon, clat, clon)
    return out


def user_points(points: pd.DataFrame) -> pd.DataFrame:
    """The user points with each country stand-in moved to where the country's people are.

    A point farther than :data:`STANDIN_CITY_KM` from every city of 100,000 people or more of its
    country (``country_code``, or its nearest city's: :func:`country_codes`) gets the
    population-weighted centroid of those cities (``data/cities.csv``); other points (a city, a
    user's own place) are kept. Returns ``points`` itself when none moves, else a copy.
    """
    if not len(points):
        return points
    codes = country_codes(points)
    lat = points["lat_deg"].to_numpy(float)
    lon = points["lon_deg"].to_numpy(float)
    cent = _population_centroids()
    new_lat, new_lon = lat.copy(), lon.copy()
    for code in np.unique(codes.astype(str)):
        if code not in cent:
            continue
        clat, clon, mlat, mlon = cent[code]
        i = np.flatnonzero(codes == code)
        ok = np.isfinite(lat[i]) & np.isfinite(lon[i])
        i = i[ok]
        if not len(i):
            continue
        ulat, inv = np.unique(lat[i] + 1j * lon[i], return_inverse=True)
        d = distance_matrix_km(ulat.real, ulat.imag, clat, clon).min(axis=1)
        far = (d > STANDIN_CITY_KM)[inv.ravel()]
        new_lat[i[far]], new_lon[i[far]] = mlat, mlon
    if np.array_equal(new_lat, lat, equal_nan=True) and np.array_equal(
        new_lon, lon, equal_nan=True
    ):
        return points
    return points.assign(lat_deg=new_lat, lon_deg=new_lon)


def _continents(points: pd.DataFrame) -> np.ndarray | None:
    if "continent" not in points.columns:
        return None
    return points["continent"].astype(object).fillna("").to_numpy()


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserLatencyModel(TableModel):
    """Round trip between users (demand points) and sites, with the users' access network.

    Parameters
    ----------
    access : {"demand", "both", "none"}
        Where the access delay is added: the demand side (users → datacentre sites, default),
        both ends (user ↔ user: sites are user networks too), or nowhere (the backbone model).
    statistic : {"mean", "p50", "p95"}
        What ``latency_ms`` is, over the users of a demand point: the mean round trip (what the
        calibration data measure, default), the median or the 95th percentile.
    backbone : RouteLatencyModel or DistanceLatencyModel
        The model between the two points; default :class:`RouteLatencyModel` (fitted defaults).
    access_table : AccessTable, optional
        Per-country access delays; default :meth:`AccessTable.shipped`.
    path_scale : float, optional
        Extra share of the backbone's propagation delay on user paths (default: the fitted
        ``access_table.path_scale``); not applied with ``access="none"``.
    measured : pandas.DataFrame, optional
        A long table ``demand_id, site_id, latency_ms`` of measured pairs (same statistic) that
        replace the model's values; the table's ``source`` column says ``measured``.

    Notes
    -----
    The formula is the module docstring's. Tables have columns
    ``demand_id, site_id, distance_km, source, latency_ms`` and
    ``attrs = {"statistic": ..., "access": ...}``. Errors of ``access="both", statistic="mean"``
    on held-out RIPE Atlas country pairs are in ``docs/latency.md`` (summary in the README) and printed by
    ``scripts/fit_access.py``.
    """

    access: str = "demand"
    statistic: str = "mean"
    backbone: RouteLatencyModel | DistanceLatencyModel = field(default_factory=RouteLatencyModel)
    access_table: AccessTable | None = field(default=None, repr=False, compare=False)
    path_scale: float | None = None
    measured: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_choice("access", self.access, ACCESS_SIDES)
        _check_choice("statistic", self.statistic, STATISTICS)
        if not isinstance(self.backbone, (RouteLatencyModel, DistanceLatencyModel)):
            raise ValidationError(
                "must be a RouteLatencyModel or DistanceLatencyModel",
                table="parameter",
                field="backbone",
                value=type(self.backbone).__name__,
            )
        if self.access_table is None:
            object.__setattr__(self, "access_table", AccessTable.shipped())
        if self.path_scale is None:
            object.__setattr__(self, "path_scale", self.access_table.path_scale)  # type: ignore[union-attr]
        _check_param("path_scale", self.path_scale, low=-1.0)  # type: ignore[arg-type]
        if self.measured is not None:
            m = validate_latency_table(self.measured)[["demand_id", "site_id", "latency_ms"]]
            object.__setattr__(self, "measured", m)

    # -- pieces -------------------------------------------------------------------------------
    @property
    def access_ms(self) -> float:
        """The backbone's fixed round-trip delay (kept for code reading ``model.access_ms``)."""
        return float(self.backbone.access_ms)

    def replace(self, **changes: Any) -> UserLatencyModel:
        """A copy with some parameters changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def with_measurements(self, measured: pd.DataFrame) -> UserLatencyModel:
        """A copy whose tables use ``measured`` (``demand_id, site_id, latency_ms``) for the pairs
        it lists (``source = "measured"``) and the model elsewhere."""
        return self.replace(measured=measured)

    def point_access_ms(self, points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Access ``mean_ms`` and ``sd_ms`` of each point of a demand or sites table."""
        mean, sd, _ = self.access_table.lookup(  # type: ignore[union-attr]
            country_codes(points), _continents(points)
        )
        return mean, sd

    def point_terms(self, points: pd.DataFrame) -> _PointTerms:
        """Everything the model needs of each point of a demand or sites table."""
        codes = country_codes(points)
        cont_in = _continents(points)
        table = self.access_table
        mean, sd, _ = table.lookup(codes, cont_in)  # type: ignore[union-attr]
        detour, factors, cont = table.route_terms(codes, cont_in)  # type: ignore[union-attr]
        region = np.array([_CONTINENT_INDEX.get(c, -1) for c in cont], dtype=int)
        selff = table.self_factors(codes)  # type: ignore[union-attr]
        share, hub = table.hosting(codes)  # type: ignore[union-attr]
        return _PointTerms(
            codes.astype(str),
            mean,
            sd,
            detour,
            factors,
            region,
            selff,
            share,
            hub,
            points["lat_deg"].to_numpy(float),
            points["lon_deg"].to_numpy(float),
        )

    def _parts(
        self,
        base_ms: np.ndarray,
        prop_ms: np.ndarray,
        a: _PointTerms,
        b: _PointTerms,
        *,
        pairwise: bool,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Pieces of the formula (class docstring) for all pairs of ``a`` × ``b`` (shape of
        ``base_ms``) or element-wise (``pairwise``): ``latency = (path + statistic of an access
        delay with this mean and variance) · factor``; returns ``path, mean, var, factor``."""

        def col(x: np.ndarray) -> np.ndarray:  # demand-side values against base's shape
            return x if pairwise else x[:, None]

        def row(x: np.ndarray) -> np.ndarray:  # site-side values
            return x if pairwise else x[None, :]

        scale = self.path_scale + col(a.detour)
        mean, var = col(a.mean_ms), col(a.sd_ms) ** 2
        factor = a.factor_to(b.region, pairwise=pairwise)
        if self.access == "both":
            scale = scale + row(b.detour)
            mean, var = mean + row(b.mean_ms), var + row(b.sd_ms) ** 2
            other = b.factor_to(a.region, pairwise=pairwise)
            factor = factor * (other if pairwise else other.T)
            same = col(a.code) == row(b.code)
            if same.any():
                # the per-country factor stands for users spread over the country's area seen
                # from ONE country point (coincident ends, no backbone distance); ends apart
                # already carry their distance in the backbone: the global fitted factor
                coincide = prop_ms <= _COINCIDENT_PROPAGATION_MS
                k = np.where(coincide, col(a.self_factor), self.access_table.self_access_factor)  # type: ignore[union-attr]
                mean = np.where(same, k * mean, mean)
                var = np.where(same, k * k * var, var)
                factor = np.where(same, 1.0, factor)
        path = base_ms + scale * prop_ms
        return path, np.broadcast_to(mean, path.shape), np.broadcast_to(var, path.shape), factor

    def _combine(
        self,
        base_ms: np.ndarray,
        prop_ms: np.ndarray,
        a: _PointTerms | None,
        b: _PointTerms | None,
        *,
        pairwise: bool,
    ) -> np.ndarray:
        """The model's formula (class docstring) for all pairs of ``a`` × ``b`` (shape of
        ``base_ms``) or element-wise (``pairwise``), the points at their own places (no hosted
        share)."""
        if self.access == "none" or a is None or b is None:
            return base_ms
        path, mean, var, factor = self._parts(base_ms, prop_ms, a, b, pairwise=pairwise)
        return (path + access_quantile_ms(mean, np.sqrt(var), self.statistic)) * factor

    def _latency(
        self,
        c: dict[str, np.ndarray],
        a: _PointTerms | None,
        b: _PointTerms | None,
        *,
        pairwise: bool,
    ) -> np.ndarray:
        """:meth:`_combine`, and with ``access="both"`` the mixture over where each end's
        networks answer from: its own point, or (share ``hosted_share``) its country's hub."""
        lat = self._combine(c["latency_ms"], c["propagation_ms"], a, b, pairwise=pairwise)
        if self.access != "both" or a is None or b is None:
            return lat
        tab = self.access_table
        sub = tab.subregion_pair_factors(a.code, b.code, pairwise=pairwise)  # type: ignore[union-attr]
        sub = sub * tab.country_pair_factors(a.code, b.code, pairwise=pairwise)  # type: ignore[union-attr]
        sub = sub * tab.path_ratio_factors(
            c["path_km"], c.get("user_distance_km", c["distance_km"])
        )
        fa, fb = a.hosted_share, b.hosted_share
        if not ((fa > 0).any() or (fb > 0).any()):
            return lat * sub
        if pairwise:
            on = np.flatnonzero((fa > 0) | (fb > 0))
            ia = ib = on
        else:  # only the pairs with a hosted share, element-wise
            ia, ib = np.nonzero((fa[:, None] > 0) | (fb[None, :] > 0))
        ha, hb = a.at_hub().take(ia), b.at_hub().take(ib)
        ta, tb = a.take(ia), b.take(ib)
        cc = {k: (v[ia] if pairwise else v[ia, ib]) for k, v in c.items()}
        out = lat.copy()
        if pairwise:
            out[ia] = self._mixture(cc, ta, tb, ha, hb)
        else:
            out[ia, ib] = self._mixture(cc, ta, tb, ha, hb)
        return out * sub

    def _components_of(self, a: _PointTerms, b: _PointTerms) -> dict[str, np.ndarray]:
        """Backbone components between the points of ``a`` and ``b`` element-wise, computed on
        the distinct places of each side (the route model attaches every point to its graph)."""
        ua, ia = np.unique(a.lat_deg + 1j * a.lon_deg, return_inverse=True)
        ub, ib = np.unique(b.lat_deg + 1j * b.lon_deg, return_inverse=True)
        m = self.backbone.components(ua.real, ua.imag, ub.real, ub.imag)
        return {k: v[ia.ravel(), ib.ravel()] for k, v in m.items()}

    def _mixture(
        self,
        c: dict[str, np.ndarray],
        a: _PointTerms,
        b: _PointTerms,
        ha: _PointTerms,
        hb: _PointTerms,
    ) -> np.ndarray:
        """Element-wise statistic of the mixture over the four places of the two ends' networks
        (own point ``a`` / hub ``ha``, weights ``(1 − f_a)(1 − f_b)``, ``f_a(1 − f_b)``, …)."""
        fa, fb = a.hosted_share, b.hosted_share
        comps = []
        for w, ta, tb in (
            ((1 - fa) * (1 - fb), a, b),
            (fa * (1 - fb), ha, b),
            ((1 - fa) * fb, a, hb),
            (fa * fb, ha, hb),
        ):
            cc = c if ta is a and tb is b else self._components_of(ta, tb)
            parts = self._parts(cc["latency_ms"], cc["propagation_ms"], ta, tb, pairwise=True)
            comps.append((w, *parts))
        return mixture_statistic_ms(comps, self.statistic)

    def _table_attrs(self) -> dict[str, Any]:
        return {"statistic": self.statistic, "access": self.access}

    def _user_ends(self, a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The two ends with the user sides' country stand-ins moved (:func:`user_points`):
        the demand side unless ``access="none"``, the site side too with ``access="both"``."""
        if self.access == "none":
            return a, b
        return user_points(a), (user_points(b) if self.access == "both" else b)

    def _pair_matrices(self, demand: pd.DataFrame, sites: pd.DataFrame) -> PairMatrices:
        given_demand, given_sites = demand, sites
        demand, sites = self._user_ends(demand, sites)
        c = self.backbone.components(
            demand["lat_deg"], demand["lon_deg"], sites["lat_deg"], sites["lon_deg"]
        )
        if demand is not given_demand or sites is not given_sites:
            # the distance reported stays the one between the points as given
            c = dict(c)
            c["user_distance_km"] = c["distance_km"]
            c["distance_km"] = distance_matrix_km(
                given_demand["lat_deg"].to_numpy(float),
                given_demand["lon_deg"].to_numpy(float),
                given_sites["lat_deg"].to_numpy(float),
                given_sites["lon_deg"].to_numpy(float),
            )
        a = b = None
        if self.access != "none":
            a, b = self.point_terms(demand), self.point_terms(sites)
        lat = self._latency(c, a, b, pairwise=False)
        measured = np.zeros(lat.shape, dtype=bool)
        if self.measured is not None:
            di = pd.Index(demand["demand_id"]).get_indexer(self.measured["demand_id"])
            si = pd.Index(sites["site_id"]).get_indexer(self.measured["site_id"])
            ok = (di >= 0) & (si >= 0)
            lat = lat.copy()
            lat[di[ok], si[ok]] = self.measured["latency_ms"].to_numpy(float)[ok]
            measured[di[ok], si[ok]] = True
        return PairMatrices(c["distance_km"], lat, measured=measured)

    def pair_latency_ms(self, a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
        """Element-wise latency between row ``i`` of ``a`` (demand side) and row ``i`` of ``b``.

        ``a`` and ``b`` have ``lat_deg``, ``lon_deg`` and optionally ``country_code``,
        ``continent`` (same length). Measured overrides do not apply.
        """
        a, b = self._user_ends(a, b)
        c = self.backbone.components(
            a["lat_deg"], a["lon_deg"], b["lat_deg"], b["lon_deg"], pairwise=True
        )
        ta = tb = None
        if self.access != "none":
            ta, tb = self.point_terms(a), self.point_terms(b)
        return self._latency(c, ta, tb, pairwise=True)

    def demand_parts(
        self, a: pd.DataFrame, b: pd.DataFrame
    ) -> tuple[np.ndarray, np.ndarray, _PointTerms]:
        """Element-wise pieces of the demand-side latency from ``a`` (users) to ``b`` (sites):
        ``latency = (base_ms + statistic(access of a)) · factor`` (what :func:`calibrate`
        inverts). Returns ``base_ms``, ``factor`` and ``a``'s terms."""
        a = user_points(a)
        c = self.backbone.components(
            a["lat_deg"], a["lon_deg"], b["lat_deg"], b["lon_deg"], pairwise=True
        )
        ta, tb = self.point_terms(a), self.point_terms(b)
        base = c["latency_ms"] + (self.path_scale + ta.detour) * c["propagation_ms"]
        return base, ta.factor_to(tb.region, pairwise=True), ta


#: Index of each continent in the route-factor columns.
_CONTINENT_INDEX = {c: i for i, c in enumerate(CONTINENTS)}


@dataclass(frozen=True)
class _PointTerms:
    """Per-point values of :class:`UserLatencyModel` (one entry per point)."""

    code: np.ndarray
    mean_ms: np.ndarray
    sd_ms: np.ndarray
    detour: np.ndarray
    factors: np.ndarray  # (n, len(CONTINENTS))
    region: np.ndarray  # index into CONTINENTS, -1 if none
    self_factor: np.ndarray  # factor on the access sum between users of the same country
    hosted_share: np.ndarray  # share of the country's networks answering from its hub
    hub: np.ndarray  # that hub's id ("" when the share is 0)
    lat_deg: np.ndarray
    lon_deg: np.ndarray

    def factor_to(self, region: np.ndarray, *, pairwise: bool) -> np.ndarray:
        """Route factor from each point to points on ``region`` (1 where unknown): element-wise,
        or shape (n, len(region))."""
        f = np.concatenate([self.factors, np.ones((len(self.code), 1))], axis=1)
        r = np.where(region >= 0, region, f.shape[1] - 1)
        if pairwise:
            return f[np.arange(len(self.code)), r]
        return f[:, r]

    def take(self, idx: np.ndarray) -> _PointTerms:
        """The terms of the points at ``idx``."""
        return _PointTerms(*(getattr(self, f.name)[idx] for f in dataclasses.fields(self)))

    @staticmethod
    def of_hubs(hub_ids: npt.ArrayLike) -> _PointTerms:
        """Terms of networks hosted at these hubs (``hub_id`` of :func:`hub_points`)."""
        h = np.atleast_1d(np.asarray(hub_ids, dtype=object))
        n, z = len(h), np.zeros(len(h))
        ones = np.ones((n, len(CONTINENTS)))
        return _PointTerms(h, z, z, z, ones, np.full(n, -1), z + 1, z + 1, h, z, z).at_hub()

    def at_hub(self) -> _PointTerms:
        """The points' hosted networks: at their country's hub, a datacentre network (no access
        delay, detour or route factor of their own); at (0, 0) where the share is 0 (weight 0)."""
        n = len(self.code)
        lat, lon = np.zeros(n), np.zeros(n)
        region = np.full(n, -1)
        on = self.hosted_share > 0
        if on.any():
            hubs = hub_points().loc[self.hub[on]]
            lat[on], lon[on] = hubs["lat_deg"].to_numpy(float), hubs["lon_deg"].to_numpy(float)
            region[on] = [_CONTINENT_INDEX.get(c, -1) for c in hubs["continent"]]
        zero = np.zeros(n)
        return _PointTerms(
            np.array(["@" + str(h) for h in self.hub], dtype=object),
            zero,
            zero,
            zero,
            np.ones((n, len(CONTINENTS))),
            region,
            np.ones(n),
            zero,
            self.hub,
            lat,
            lon,
        )


def mixture_statistic_ms(
    components: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    statistic: str,
    *,
    iterations: int = 16,
) -> np.ndarray:
    """Mean or percentile of a mixture of round trips ``(path + A) · factor`` (``A`` lognormal).

    Parameters
    ----------
    components : list of (weight, path_ms, mean_ms, var_ms2, factor)
        Arrays of one shape; the weights sum to 1 element-wise.
    statistic : {"mean", "p50", "p95"}
        ``mean`` is exact (the weighted means); a percentile is the root of the mixture's
        distribution function (bisection between the components' own percentiles, to
        ``2^-iterations`` of that range).

    Returns
    -------
    numpy.ndarray
    """
    _check_choice("statistic", statistic, STATISTICS)
    w = [np.asarray(c[0], float) for c in components]
    vals = [
        (path + access_quantile_ms(mean, np.sqrt(var), statistic)) * fac
        for _, path, mean, var, fac in components
    ]
    if statistic == "mean":
        return sum(wi * v for wi, v in zip(w, vals, strict=True))  # type: ignore[return-value]
    q = 0.5 if statistic == "p50" else 0.95
    live = [wi > 0 for wi in w]
    lo = np.min([np.where(m, v, np.inf) for m, v in zip(live, vals, strict=True)], axis=0)
    hi = np.max([np.where(m, v, -np.inf) for m, v in zip(live, vals, strict=True)], axis=0)
    shape = np.broadcast(*[np.asarray(v) for v in vals]).shape
    params = []  # per component, where it weighs: indices, weight, path, mean, sigma, mu, factor
    for wi, on, (_, path, mean, var, fac) in zip(w, live, components, strict=True):
        k = np.flatnonzero(np.broadcast_to(on, shape))
        if not len(k):
            continue

        def sub(x: npt.ArrayLike, k: np.ndarray = k) -> np.ndarray:
            return np.broadcast_to(np.asarray(x, float), shape).reshape(-1)[k]

        m = np.maximum(sub(mean), 0.0)
        s2 = np.log1p(sub(var) / np.maximum(m, MIN_ACCESS_MEAN_MS) ** 2)
        mu = np.log(np.maximum(m, 1e-300)) - s2 / 2.0
        params.append((k, sub(wi), sub(path), m, np.sqrt(s2), mu, sub(fac)))

    def cdf(x: np.ndarray) -> np.ndarray:
        out = np.zeros(shape)
        flat, xf = out.reshape(-1), x.reshape(-1)
        for k, wk, path, m, s, mu, fac in params:
            a = xf[k] / fac - path  # the access delay at which this component reaches x
            with np.errstate(divide="ignore", invalid="ignore"):
                z = (np.log(np.maximum(a, 1e-300)) - mu) / s
            point = (m <= 0) | (s <= 0)  # no spread: all mass at path + mean
            f = np.where(point, (a >= m).astype(float), np.where(a > 0, ndtr(z), 0.0))
            flat[k] += wk * f
        return out

    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        below = cdf(mid) < q
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def great_circle_km(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """Element-wise great-circle distance between the rows of two point tables, km."""
    return haversine_km(a["lat_deg"], a["lon_deg"], b["lat_deg"], b["lon_deg"])
