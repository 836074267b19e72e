"""Loopback load run: ``wrk`` against ``hpgeo serve`` on the simulated demo, twice, with the server's RSS after each.

Builds (or reuses) the demo in a data directory, starts ``hpgeo serve`` (127.0.0.1, a free port, 1 worker),
reads the flood item's TileJSON and makes the list of every tile inside its bounds from ``minzoom`` up
(at most ``--max-tiles``), then runs, twice in a row:

1. ``wrk -c 64 -d 60s`` on those tile URLs (a Lua script cycling through them: distinct tiles, no repeat
   within a pass);
2. ``wrk -c 64 -d 60s`` on ``/stac/search?collections=flood-extent&bbox=<item bbox>``;

reading ``VmRSS`` of the server process from ``/proc/<pid>/status`` after each. Errors are non-2xx responses
(counted by the Lua ``response`` hook) plus socket errors (connect, read, write, timeout; ``--timeout``).
Target: 0 errors, and RSS after the second run within 5 % of RSS after the first.

``python -m benchmarks load [--duration 60] [--connections 64] [--data-dir D]`` writes docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import morecantile

from benchmarks import machine_line, write_section
from benchmarks.tiles import _free_port, _wait

ROOT = Path(__file__).resolve().parents[1]
RELIABILITY = ROOT / "docs" / "reliability.md"
TITLE = "Loopback load (wrk)"

LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  paths = {%(paths)s}
  bad = 0
  idx = math.random(#paths) - 1
end
function request()
  idx = idx %% #paths + 1
  return wrk.format("GET", paths[idx])
end
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %%d, "duration_us": %%d, "non2xx": %%d, "connect": %%d, "read": %%d, "write": %%d, "timeout": %%d, "status": %%d, "p50_us": %%d, "p99_us": %%d, "max_us": %%d}\n',
    summary.requests, summary.duration, b, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def vm_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def tile_paths(base: str, max_tiles: int) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """Paths of distinct tiles inside the flood item's TileJSON bounds, from minzoom up; the item and its TileJSON."""
    item = httpx.get(f"{base}/stac/search", params={"collections": "flood-extent", "limit": 1}, timeout=30).json()["features"][0]
    tj_url = next(link["href"] for link in item["links"] if link["rel"] == "tilejson")
    tj = httpx.get(tj_url, timeout=30).json()
    tmpl = tj["tiles"][0]
    w, s, e, n = tj["bounds"]
    tms = morecantile.tms.get("WebMercatorQuad")
    out: list[str] = []
    for z in range(tj["minzoom"], tj["maxzoom"] + 1):
        for t in tms.tiles(w, s, e, n, [z]):
            if len(out) >= max_tiles:
                break
            url = tmpl.replace("{z}", str(t.z)).replace("{x}", str(t.x)).replace("{y}", str(t.y))
            out.append(url[len(base):] if url.startswith(base) else httpx.URL(url).raw_path.decode())
    return out, item, tj


def wrk(base: str, paths: list[str], workdir: Path, name: str, duration: int, connections: int, threads: int, timeout_s: int) -> dict[str, Any]:
    script = workdir / f"{name}.lua"
    script.write_text(LUA % {"paths": ", ".join(json.dumps(p) for p in paths)}, encoding="utf-8")
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", f"{timeout_s}s", "-s", str(script), base]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if p.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({p.returncode}): {p.stdout[-1000:]} {p.stderr[-1000:]}")
    r = json.loads(line[len("RESULT "):])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors"] = r["non2xx"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    return r


def run(data_dir: Path, duration: int, connections: int, threads: int, max_tiles: int, timeout_s: int) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk; `make bench` does it when root)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPGEO_")}
    env.update(HPGEO_DATA_DIR=str(data_dir), HPGEO_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "hpgeo", "demo"], env=env, check=True, capture_output=True, cwd=ROOT, timeout=900)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    srv = subprocess.Popen([sys.executable, "-m", "hpgeo", "serve", "--host", "127.0.0.1", "--port", str(port)],
                           env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    runs: list[dict[str, Any]] = []
    try:
        _wait(f"{base}/healthz")
        paths, item, tj = tile_paths(base, max_tiles)
        w, s, e, n = item["bbox"]
        search = [f"/stac/search?collections=flood-extent&bbox={w:.5f},{s:.5f},{e:.5f},{n:.5f}"]
        rss0 = vm_rss_mib(srv.pid)
        with tempfile.TemporaryDirectory(prefix="hpgeo-load-") as tmp:
            for k in (1, 2):
                t = wrk(base, paths, Path(tmp), "tiles", duration, connections, threads, timeout_s)
                rss_t = vm_rss_mib(srv.pid)
                q = wrk(base, search, Path(tmp), "search", duration, connections, threads, timeout_s)
                rss_q = vm_rss_mib(srv.pid)
                runs.append({"run": k, "tiles": t, "search": q, "rss_after_tiles_mib": rss_t, "rss_mib": rss_q})
                print(json.dumps(runs[-1]), flush=True)
        alive = srv.poll() is None
    finally:
        srv.terminate()
        try:
            srv.wait(timeout=20)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
    return {"machine": machine_line(), "tiles": len(paths), "zooms": f"{tj['minzoom']}–{tj['maxzoom']}", "item": item["id"],
            "rss_start_mib": rss0, "runs": runs, "server_alive": alive, "duration": duration, "connections": connections,
            "threads": threads, "timeout_s": timeout_s}


def record(res: dict[str, Any]) -> None:
    def row(k: int, kind: str, r: dict[str, Any], rss: float) -> str:
        return (f"| {k} | {kind} | {r['requests']} | {r['rps']:.1f} | {r['p50_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | "
                f"{r['non2xx']} | {r['connect'] + r['read'] + r['write'] + r['timeout']} | {rss:.0f} MiB |\n")

    rows = "".join(row(x["run"], "tiles", x["tiles"], x["rss_after_tiles_mib"]) + row(x["run"], "search", x["search"], x["rss_mib"])
                   for x in res["runs"])
    r1, r2 = res["runs"][0]["rss_mib"], res["runs"][1]["rss_mib"]
    growth = 100 * (r2 - r1) / r1
    errors = sum(x[k]["errors"] for x in res["runs"] for k in ("tiles", "search"))
    body = (
        f"Machine: {res['machine']} (measured before the run; the server and wrk share these cores).\n\n"
        f"`hpgeo serve` (1 worker) on 127.0.0.1 with the simulated demo; `wrk -t {res['threads']} -c {res['connections']} "
        f"-d {res['duration']}s --timeout {res['timeout_s']}s` on (1) {res['tiles']} distinct tile URLs of the demo flood item "
        f"(`{res['item']}`, every tile inside its TileJSON bounds at zooms {res['zooms']}, cycled by a Lua script) and (2) "
        f"`/stac/search?collections=flood-extent&bbox=<its bbox>`; then the same again. RSS: `VmRSS` of the server process "
        f"after each wrk run (at start: {res['rss_start_mib']:.0f} MiB). Errors: non-2xx responses and socket errors "
        f"(connect, read, write, timeout).\n\n"
        "| run | URLs | requests | requests/s | p50 ms | p99 ms | non-2xx | socket errors | server RSS after |\n"
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|\n"
        f"{rows}\n"
        f"**{errors} errors; RSS after run 2 {r2:.0f} MiB vs {r1:.0f} MiB after run 1 ({growth:+.1f} %, target within ±5 %).**"
        f"{'' if res['server_alive'] else ' The server died during the run.'}\n"
    )
    write_section(TITLE, body, "python -m benchmarks load", path=RELIABILITY)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks load", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, help="Demo data directory to build or reuse (default: a temporary directory).")
    ap.add_argument("--duration", type=int, default=60, help="Seconds per wrk run (default 60).")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2).")
    ap.add_argument("--max-tiles", type=int, default=4000, help="At most this many distinct tiles (default 4000).")
    ap.add_argument("--timeout", type=int, default=10, help="wrk's socket timeout in seconds (default 10).")
    ap.add_argument("--no-record", action="store_true")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hpgeo-load-data-") as d:
        res = run(a.data_dir or Path(d), a.duration, a.connections, a.threads, a.max_tiles, a.timeout)
    if not a.no_record:
        record(res)
    r1, r2 = res["runs"][0]["rss_mib"], res["runs"][1]["rss_mib"]
    errors = sum(x[k]["errors"] for x in res["runs"] for k in ("tiles", "search"))
    return 0 if errors == 0 and abs(r2 - r1) <= 0.05 * r1 and res["server_alive"] else 1


if __name__ == "__main__":
    sys.exit(main())
