"""placement.refresh for the compute list prices: Azure Retail Prices API (paged), the SkyPilot
catalog copies of the AWS / Google price lists, and an AWS Price List offer file.

No network: the payloads are small recorded fixtures (``tests/fixtures``) written from the
documented response formats, served by a local HTTP server.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests

from placement import costs, refresh
from placement.cache import read_manifest
from placement.costs import CostModel
from placement.errors import ValidationError

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    base = ""

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _send(self, body: bytes, code: int = 200) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        page1 = _fixture("azure_retail_prices_page1.json")
        if path == "/azure":
            self._send(page1.replace(b"{BASE}", self.base.encode()))
        elif path == "/azure/page2":
            self._send(_fixture("azure_retail_prices_page2.json"))
        elif path == "/azure-offsite":
            self._send(page1.replace(b"{BASE}", b"https://evil.example.com"))
        elif path == "/azure-negative":
            doc = json.loads(page1.replace(b"{BASE}", b""))
            doc["NextPageLink"] = None
            doc["Items"][4]["retailPrice"] = -1
            self._send(json.dumps(doc).encode())
        elif path == "/aws-catalog":
            self._send(_fixture("skypilot_aws_vms.csv"))
        elif path == "/aws-offer":
            self._send(_fixture("aws_ec2_offer_excerpt.json"))
        else:
            self._send(b"?", 404)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    _Handler.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield _Handler.base
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    s = requests.Session()
    s.trust_env = False  # no proxy for 127.0.0.1
    yield s
    s.close()


def _refresh(server: str, session: requests.Session, cache: Path, table: str, path: str):
    (rep,) = refresh.refresh(
        [table],
        cache_dir=cache,
        allow_hosts=("127.0.0.1",),
        allow_insecure_localhost=True,
        session=session,
        urls={table: server + path},
        retries=0,
        timeout_s=2,
        sleep=lambda s: None,
    )
    return rep


def test_price_sources_are_registered_with_public_endpoints() -> None:
    assert refresh.SOURCES["compute_prices_azure"].url.startswith(
        "https://prices.azure.com/api/retail/prices?$filter="
    )
    assert "Standard_D2s_v5" in refresh.SOURCES["compute_prices_azure"].url
    assert refresh.SOURCES["compute_prices_aws"].url.endswith("/catalogs/v7/aws/vms.csv")
    assert refresh.SOURCES["compute_prices_gcp"].url.endswith("/catalogs/v7/gcp/vms.csv")
    assert "prices.azure.com" in refresh.DEFAULT_ALLOWED_HOSTS


def test_azure_pages_followed_linux_pay_as_you_go_kept(server, session, tmp_path) -> None:
    rep = _refresh(server, session, tmp_path, "compute_prices_azure", "/azure")
    assert rep.status == "updated", rep.reason
    assert rep.attempts == 2  # two pages
    cached = pd.read_csv(tmp_path / "compute_prices_azure.csv")
    price = cached.set_index("region_code")["usd_per_hour_2vcpu"]
    # eastus: the latest Linux pay-as-you-go meter (not the 2023 one, Windows or Spot)
    assert price.to_dict() == {
        "brazilsouth": 0.152,
        "eastus": 0.096,
        "japaneast": 0.124,
        "swedencentral": 0.106,
        "uksouth": 0.099,  # not the Low Priority meter
        "westeurope": 0.115,
    }
    per_vcpu = cached.set_index("region_code")["usd_per_vcpu_hour"]
    assert per_vcpu["eastus"] == pytest.approx(0.048)
    entry = read_manifest(tmp_path)["tables"]["compute_prices_azure"]
    assert entry["vintage"] == "2025-02-01"  # the latest effectiveStartDate
    assert entry["rows"] == 6

    # the cache overlays the shipped table: Azure regions added or replaced, others shipped
    shipped = costs.compute_prices()
    merged = costs.compute_prices(source="cache", cache_dir=str(tmp_path))
    assert merged.attrs["source"] == "cache:azure"
    key = merged["provider"] + ":" + merged["region_code"]
    by_key = dict(zip(key, merged["usd_per_vcpu_hour"], strict=True))
    assert by_key["azure:westeurope"] == pytest.approx(0.0575)
    assert by_key["azure:centralus"] == pytest.approx(3.471 / 64, rel=1e-5)  # the snapshot
    assert (merged["provider"] == "aws").sum() == (shipped["provider"] == "aws").sum()
    assert len(merged) == len(shipped) + 5  # eastus replaced, five regions added

    sites = pd.DataFrame(
        {
            "site_id": ["azure:westeurope"],
            "provider": ["azure"],
            "region_code": ["westeurope"],
            "lat_deg": [52.4],
            "lon_deg": [4.9],
        }
    )
    with pytest.raises(ValidationError, match="compute_usd_per_vcpu_hour"):
        CostModel(view="customer", baseline_vcpu=1).site_costs(sites)  # not in the snapshot


def test_cost_model_reads_the_cache_when_asked(server, session, tmp_path, monkeypatch) -> None:
    assert _refresh(server, session, tmp_path, "compute_prices_azure", "/azure").ok
    monkeypatch.setenv("PLACEMENT_CACHE_DIR", str(tmp_path))
    sites = pd.DataFrame(
        {
            "site_id": ["azure:westeurope"],
            "provider": ["azure"],
            "region_code": ["westeurope"],
            "lat_deg": [52.4],
            "lon_deg": [4.9],
        }
    )
    model = CostModel(view="customer", baseline_vcpu=2, compute_price_source="cache")
    got = model.site_costs(sites).loc["azure:westeurope"]
    assert got["compute_usd_per_vcpu_hour"] == pytest.approx(0.0575)
    assert got["compute_usd_per_year"] == pytest.approx(2 * 8760 * 0.0575)


def test_azure_next_page_off_the_allow_list_is_refused(server, session, tmp_path) -> None:
    rep = _refresh(server, session, tmp_path, "compute_prices_azure", "/azure-offsite")
    assert rep.status == "failed"
    assert "evil.example.com" in rep.reason and "allow-list" in rep.reason
    assert not (tmp_path / "compute_prices_azure.csv").exists()


def test_azure_bad_price_rejected_naming_region(server, session, tmp_path) -> None:
    rep = _refresh(server, session, tmp_path, "compute_prices_azure", "/azure-negative")
    assert rep.status == "failed"
    assert "westeurope" in rep.reason and "retailPrice" in rep.reason
    assert not (tmp_path / "compute_prices_azure.csv").exists()


def test_skypilot_catalog_copy_of_the_aws_price_list(server, session, tmp_path) -> None:
    rep = _refresh(server, session, tmp_path, "compute_prices_aws", "/aws-catalog")
    assert rep.status == "updated", rep.reason
    cached = pd.read_csv(tmp_path / "compute_prices_aws.csv").set_index("region_code")
    assert len(cached) == 12  # ap-east-2 has no on-demand price: left out
    assert cached.loc["sa-east-1", "usd_per_hour_2vcpu"] == pytest.approx(0.153)
    assert cached.loc["mx-central-1", "usd_per_vcpu_hour"] == pytest.approx(0.0504)
    assert set(cached["reference_instance"]) == {"m5.large"}
    merged = costs.compute_prices(source="cache", cache_dir=str(tmp_path))
    key = merged["provider"] + ":" + merged["region_code"]
    assert "aws:sa-east-1" in set(key)  # the snapshot lacks São Paulo
    assert dict(zip(key, merged["usd_per_vcpu_hour"], strict=True))["aws:af-south-1"] == (
        pytest.approx(3.048 / 48, rel=1e-5)  # regions the download lacks keep the snapshot
    )


def test_aws_price_list_offer_file_parsed() -> None:
    df, vintage, n = refresh.SOURCES["compute_prices_aws"].convert(
        _fixture("aws_ec2_offer_excerpt.json")
    )
    assert vintage == "2026-11-01" and n == 2
    price = df.set_index("region_code")["usd_per_hour_2vcpu"].to_dict()
    # Windows and capacity-reservation SKUs are not the on-demand Linux price
    assert price == {"sa-east-1": 0.153, "us-east-1": 0.096}
    assert df["source"].str.contains("AWS Price List bulk API").all()


def test_aws_offer_with_two_regions_is_an_implausible_refresh(server, session, tmp_path) -> None:
    # one or two regions of an offer file would replace little; the row-count bounds say so
    rep = _refresh(server, session, tmp_path, "compute_prices_aws", "/aws-offer")
    assert rep.status == "failed" and "implausible row count 2" in rep.reason


def test_gcp_catalog_converter_takes_the_reference_size() -> None:
    csv = (
        b"InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,"
        b"AvailabilityZone,Price,SpotPrice\n"
        b"n2-standard-2,2.0,8.0,,,,us-central1,us-central1-a,0.097118,0.03\n"
        b"n2-standard-2,2.0,8.0,,,,us-central1,us-central1-b,0.097118,0.03\n"
        b"n2-standard-4,4.0,16.0,,,,us-central1,us-central1-a,0.194236,0.06\n"
        b"n2-standard-2,2.0,8.0,,,,southamerica-east1,southamerica-east1-a,0.154166,0.05\n"
    )
    df, _, n = refresh.SOURCES["compute_prices_gcp"].convert(csv)
    assert n == 2
    got = df.set_index("region_code")["usd_per_vcpu_hour"]
    assert got["us-central1"] == pytest.approx(0.048559)
    assert got["southamerica-east1"] == pytest.approx(0.077083)
    with pytest.raises(ValidationError, match="Price"):
        refresh.SOURCES["compute_prices_gcp"].convert(csv.replace(b"0.154166", b"abc"))
    with pytest.raises(ValidationError, match="no priced row"):
        refresh.SOURCES["compute_prices_gcp"].convert(csv.replace(b"n2-standard-2,", b"e2-x,"))
