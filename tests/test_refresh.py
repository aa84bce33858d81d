"""placement.refresh against a misbehaving local HTTP server: the cache is never corrupted."""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
import requests

from placement import catalog, refresh
from placement._resources import data_file
from placement.cli import main

TIMEOUT = 0.5


# ------------------------------------------------------------------------------ upstream payloads
def _regions_doc(mutate: dict[str, float] | None = None, keep: int | None = None) -> dict:
    shipped = pd.read_csv(data_file("sites.csv"), keep_default_na=False, na_values=[""])
    regs = shipped[shipped["kind"] == "region"]
    if keep is not None:
        regs = regs.head(keep)
    out = []
    for r in regs.itertuples():
        lat = (mutate or {}).get(r.site_id, r.lat_deg)
        out.append(
            {
                "id": f"{r.provider}-{r.region_code}",
                "provider": r.provider,
                "regionCode": r.region_code,
                "displayName": r.display_name,
                "regionType": "commercial",
                "location": {
                    "countryCode": r.country_code,
                    "city": r.city,
                    "latitude": lat,
                    "longitude": r.lon_deg,
                },
                "availabilityZones": None
                if pd.isna(r.availability_zones)
                else r.availability_zones,
            }
        )
    # a provider the catalog does not ship is ignored
    out.append({"provider": "hetzner", "regionCode": "fsn1", "regionType": "commercial"})
    return {"metadata": {"lastUpdated": "2026-03-01"}, "regions": out}


GOOD = json.dumps(_regions_doc()).encode()
GOOD2 = json.dumps(_regions_doc({"aws:us-east-1": 39.5})).encode()
ABSURD = json.dumps(_regions_doc({"aws:us-east-1": 500.0})).encode()
FEW = json.dumps(_regions_doc(keep=10)).encode()
CARBON = (
    "Google Cloud Region,Location,Google CFE,Grid carbon intensity (gCO2eq / kWh)\n"
    + "\n".join(f"region{i},X,0.5,{100 + i}" for i in range(40))
    + "\nus-east1,South Carolina,0.31,111.11\n"
).encode()
CARBON_BAD = CARBON.replace(b"111.11", b"-5")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    flaky_count: ClassVar[dict[str, int]] = {}

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def handle(self) -> None:
        # clients that give up first (the timeout and truncation tests) are expected: no traceback
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send(self, body: bytes, code: int = 200, length: int | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path
        if path == "/good":
            self._send(GOOD)
        elif path == "/good2":
            self._send(GOOD2)
        elif path == "/carbon":
            self._send(CARBON)
        elif path == "/carbon-bad":
            self._send(CARBON_BAD)
        elif path == "/500":
            self._send(b"oops", 500)
        elif path == "/404":
            self._send(b"nope", 404)
        elif path.startswith("/flaky"):
            n = self.flaky_count.get(path, 0)
            self.flaky_count[path] = n + 1
            if n < 2:
                self._send(b"busy", 503)
            else:
                self._send(GOOD2)
        elif path == "/slow":
            time.sleep(4 * TIMEOUT)
            self._send(GOOD2)
        elif path == "/truncated":
            self._send(GOOD2[:1000], length=len(GOOD2))
            self.close_connection = True
        elif path == "/crash":
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD2)))
            self.end_headers()
            self.wfile.write(GOOD2[:5000])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        elif path == "/schema":
            self._send(json.dumps({"zones": []}).encode())
        elif path == "/notjson":
            self._send(b"<html>maintenance</html>")
        elif path == "/absurd":
            self._send(ABSURD)
        elif path == "/few":
            self._send(FEW)
        elif path == "/huge-declared":
            self._send(b"x" * 300_000)
        elif path == "/huge-streamed":
            # no Content-Length: the size cap must be enforced while streaming
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for _ in range(100):
                    self.wfile.write(b"x" * 10_000)
            except OSError:
                pass
        elif path == "/redirect-out":
            self.send_response(302)
            self.send_header("Location", "https://evil.example.com/regions.json")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/redirect-in":
            self.send_response(301)
            self.send_header("Location", "/good2")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/redirect-loop":
            self.send_response(302)
            self.send_header("Location", "/redirect-loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(b"?", 404)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    s = requests.Session()
    s.trust_env = False  # no proxy for 127.0.0.1
    yield s
    s.close()


def _refresh(server: str, session: requests.Session, cache: Path, path: str, **kw: object):
    table = str(kw.pop("table", "sites"))
    kw.setdefault("retries", 0)
    kw.setdefault("timeout_s", TIMEOUT)
    (rep,) = refresh.refresh(
        [table],
        cache_dir=cache,
        allow_hosts=("127.0.0.1",),
        allow_insecure_localhost=True,
        session=session,
        urls={table: server + path},
        sleep=lambda s: None,
        **kw,
    )
    return rep


def _snapshot(cache: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(cache.iterdir())}


@pytest.fixture
def primed(server: str, session: requests.Session, tmp_path: Path) -> Path:
    """A cache holding a first successful refresh of the sites table."""
    rep = _refresh(server, session, tmp_path, "/good")
    assert rep.status == "updated", rep.reason
    return tmp_path


# ------------------------------------------------------------------------------------- success
def test_success_replaces_cache_and_records_sha256(
    server: str, session: requests.Session, primed: Path
) -> None:
    before = (primed / "sites.csv").read_bytes()
    rep = _refresh(server, session, primed, "/good2")
    assert rep.status == "updated" and rep.ok
    data = (primed / "sites.csv").read_bytes()
    assert data != before
    assert rep.sha256 == hashlib.sha256(data).hexdigest()
    entry = json.loads((primed / "manifest.json").read_text())["tables"]["sites"]
    assert entry["sha256"] == rep.sha256
    assert entry["url"] == server + "/good2"
    assert entry["bytes"] == len(GOOD2)
    assert entry["payload_sha256"] == hashlib.sha256(GOOD2).hexdigest()
    assert entry["vintage"] == "2026-03-01"
    assert entry["retrieved_utc"].endswith("Z")
    shipped = catalog.regions()
    assert entry["rows"] == len(shipped)  # regions refreshed, local zones carried over
    # the shipped snapshot is untouched
    assert shipped.attrs["source"] == "shipped"
    assert shipped.set_index("site_id").loc["aws:us-east-1", "lat_deg"] != pytest.approx(39.5)
    # same download again: unchanged, files identical
    snap = _snapshot(primed)
    again = _refresh(server, session, primed, "/good2")
    assert again.status == "unchanged"
    assert _snapshot(primed) == snap
    assert [p.name for p in primed.iterdir() if p.name.startswith(".")] == []


def test_loader_uses_cache_only_on_request(
    server: str, session: requests.Session, primed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refresh(server, session, primed, "/good2")
    monkeypatch.setenv("PLACEMENT_CACHE_DIR", str(primed))
    cached = catalog.regions(source="cache")
    assert cached.attrs["source"] == "cache"
    assert cached.attrs["vintage"] == "2026-03-01"
    assert cached.set_index("site_id").loc["aws:us-east-1", "lat_deg"] == pytest.approx(39.5)
    assert catalog.regions().attrs["source"] == "shipped"
    with pytest.warns(UserWarning, match="carbon.csv"):  # carbon not cached: shipped, said so
        s = catalog.sites(providers="aws", source="cache", max_age_years=None)
    assert s.attrs["source"] == {"sites": "cache", "carbon": "shipped"}
    # a tampered cache file is ignored (sha256 mismatch), with a warning
    (primed / "sites.csv").write_bytes((primed / "sites.csv").read_bytes() + b"\n")
    with pytest.warns(UserWarning, match="no intact cached copy"):
        fallback = catalog.regions(source="cache")
    assert fallback.attrs["source"] == "shipped"
    with pytest.raises(catalog.ValidationError, match="source"):
        catalog.regions(source="internet")


def test_carbon_refresh_updates_region_rows(
    server: str, session: requests.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rep = _refresh(server, session, tmp_path, "/carbon", table="carbon")
    assert rep.status == "updated", rep.reason
    monkeypatch.setenv("PLACEMENT_CACHE_DIR", str(tmp_path))
    c = catalog.carbon(source="cache").set_index(["level", "code"])
    assert c.loc[("region", "gcp:us-east1"), "carbon_g_per_kwh"] == pytest.approx(111.11)
    shipped = catalog.carbon().set_index(["level", "code"])
    assert len(c) >= len(shipped)
    snap = _snapshot(tmp_path)
    bad = _refresh(server, session, tmp_path, "/carbon-bad", table="carbon")
    assert bad.status == "failed" and "out of range" in bad.reason
    assert _snapshot(tmp_path) == snap


def test_retries_with_exponential_backoff(
    server: str, session: requests.Session, tmp_path: Path
) -> None:
    delays: list[float] = []
    (rep,) = refresh.refresh(
        ["sites"],
        cache_dir=tmp_path,
        allow_hosts=("127.0.0.1",),
        allow_insecure_localhost=True,
        session=session,
        urls={"sites": server + "/flaky-1"},
        timeout_s=TIMEOUT,
        retries=3,
        backoff_s=0.25,
        sleep=delays.append,
    )
    assert rep.status == "updated" and rep.attempts == 3
    assert delays == [0.25, 0.5]


# ------------------------------------------------------------------------------------- failures
FAULTS = [
    ("/500", "HTTP 500"),
    ("/404", "HTTP 404"),
    ("/slow", "timed out after 0.5 s"),
    ("/truncated", "truncated download"),
    ("/crash", "truncated download"),
    ("/schema", "'regions' list"),
    ("/notjson", "not valid JSON"),
    ("/absurd", "field 'lat_deg'"),
    ("/few", "implausible row count 10"),
    ("/huge-declared", "payload too large: 300000 bytes declared"),
    ("/huge-streamed", "payload too large: more than 100000 bytes"),
    ("/redirect-out", "host 'evil.example.com' is not in the allow-list"),
    ("/redirect-loop", "too many redirects"),
]


@pytest.mark.parametrize(("path", "message"), FAULTS, ids=[f[0] for f in FAULTS])
def test_fault_leaves_cache_intact(
    server: str, session: requests.Session, primed: Path, path: str, message: str
) -> None:
    snap = _snapshot(primed)
    t0 = time.monotonic()
    rep = _refresh(server, session, primed, path, max_bytes=100_000)
    assert rep.status == "failed" and not rep.ok
    assert message in rep.reason
    assert rep.sha256 == "" and rep.path == ""
    assert _snapshot(primed) == snap  # byte-identical data and manifest
    assert time.monotonic() - t0 < 5


def test_retryable_fault_reports_attempts(
    server: str, session: requests.Session, primed: Path
) -> None:
    snap = _snapshot(primed)
    rep = _refresh(server, session, primed, "/500", retries=2)
    assert rep.attempts == 3 and "gave up after 3 attempts" in rep.reason
    assert _snapshot(primed) == snap


def test_redirect_within_allow_list_is_followed(
    server: str, session: requests.Session, primed: Path
) -> None:
    rep = _refresh(server, session, primed, "/redirect-in")
    assert rep.status == "updated"
    assert rep.url == server + "/good2"


def test_https_only_and_initial_host_checked(
    server: str, session: requests.Session, primed: Path
) -> None:
    snap = _snapshot(primed)
    (rep,) = refresh.refresh(
        ["sites"], cache_dir=primed, allow_hosts=("127.0.0.1",), urls={"sites": server + "/good2"}
    )
    assert rep.status == "failed" and "https only" in rep.reason
    (rep,) = refresh.refresh(["sites"], cache_dir=primed, allow_hosts=("example.org",))
    assert "'raw.githubusercontent.com' is not in the allow-list" in rep.reason
    (rep,) = refresh.refresh(
        ["sites"], cache_dir=primed, urls={"sites": "file:///etc/passwd"}, allow_hosts=("",)
    )
    assert rep.status == "failed" and "https only" in rep.reason
    assert _snapshot(primed) == snap


def test_unknown_table_and_bad_parameters(tmp_path: Path) -> None:
    with pytest.raises(refresh.ValidationError, match="unknown table 'cities'"):
        refresh.refresh(["cities"], cache_dir=tmp_path)
    with pytest.raises(refresh.ValidationError, match="retries"):
        refresh.refresh(["sites"], cache_dir=tmp_path, retries=-1)


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLACEMENT_CACHE_DIR", str(tmp_path / "c"))
    assert refresh.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("PLACEMENT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert refresh.default_cache_dir() == tmp_path / "x" / "placement"


# ------------------------------------------------------------------------------------------- CLI
def test_cli_refresh_offline_fails_cleanly(
    primed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = _snapshot(primed)
    code = main(["data", "refresh", "--cache-dir", str(primed), "--allow-host", "127.0.0.1"])
    err = capsys.readouterr().err
    assert code == 4
    lines = err.strip().splitlines()
    assert len(lines) == len(refresh.SOURCES)  # one line per table, every one failed
    assert all("failed" in ln and "not in the allow-list" in ln for ln in lines)
    assert "Traceback" not in err
    assert _snapshot(primed) == snap


def test_cli_status(primed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "status", "--cache-dir", str(primed), "--format", "json"]) == 0
    rows = {r["table"]: r for r in json.loads(capsys.readouterr().out)}
    sha = hashlib.sha256((primed / "sites.csv").read_bytes()).hexdigest()
    assert rows["sites"]["cached"] and rows["sites"]["valid"] and rows["sites"]["sha256"] == sha
    assert rows["sites"]["vintage"] == "2026-03-01"
    assert not rows["carbon"]["cached"]


def test_cli_refresh_unknown_table(primed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "refresh", "nope", "--cache-dir", str(primed)]) == 2
    err = capsys.readouterr().err
    assert "unknown table 'nope'" in err and len(err.strip().splitlines()) == 1
