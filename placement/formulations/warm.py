"""Warm starts made to respect a problem's fixings and site count before any solver sees them."""

from __future__ import annotations

import numpy as np

from placement.formulations.data import ModelData

__all__ = ["repair_start"]


def repair_start(data: ModelData, idx: np.ndarray) -> tuple[np.ndarray | None, bool]:
    """A warm start made to respect the fixings and the site count: (open mask, repaired).

    Forbidden sites are dropped and must-open sites added; then the site whose removal
    raises the demand-weighted nearest latency least is dropped, or the one that lowers it
    most added (a demand point without an open allowed site counts as very far), until the
    count is allowed. The mask is None when there is nothing to start from.
    """
    m = data.n_sites
    given = np.zeros(m, dtype=bool)
    given[idx] = True
    mask = (given & ~data.forbidden) | data.must_open
    available = int((~data.forbidden).sum())
    if data.n_sites_exact is not None:
        lo = hi = data.n_sites_exact
    else:
        lo = max(data.min_sites or 0, 1)
        hi = data.max_sites if data.max_sites is not None else m
    hi = min(hi, available)
    if not mask.any() or lo > hi:
        return None, False
    ok = data.usable_primary()
    pi, pj, lat = data.pair_i[ok], data.pair_j[ok], data.latency_ms[ok]
    w = data.weight[pi]
    far = 10.0 * (float(lat.max()) if len(lat) else 1.0) + 1.0
    while mask.sum() > hi:
        # loss of closing j: its demand moves to the second-nearest open site
        sel = mask[pj]
        loss = np.zeros(m)
        if sel.any():
            order = np.lexsort((pj[sel], lat[sel], pi[sel]))
            si, sj, sl = pi[sel][order], pj[sel][order], lat[sel][order]
            first = np.flatnonzero(np.r_[True, si[1:] != si[:-1]])
            nxt = np.minimum(first + 1, len(si) - 1)
            has_second = (first + 1 < len(si)) & (si[nxt] == si[first])
            d2 = np.where(has_second, sl[nxt], far)
            moved = data.weight[si[first]] * (d2 - sl[first])
            loss = np.bincount(sj[first], weights=moved, minlength=m)
        loss[~mask | data.must_open] = np.inf
        if not np.isfinite(loss.min()):
            return None, False
        mask[int(np.argmin(loss))] = False
    while mask.sum() < lo:
        d1 = np.full(data.n_demand, far)
        sel = mask[pj]
        np.minimum.at(d1, pi[sel], lat[sel])
        gain = np.bincount(pj, weights=w * np.maximum(d1[pi] - lat, 0.0), minlength=m)
        gain[mask | data.forbidden] = -1.0
        mask[int(np.argmax(gain))] = True
    return mask, not np.array_equal(mask, given)
