"""The national view's refresh at 12,000 candidates: server-side work, bytes, and tablets' p99.

    .venv/bin/python bench/dashboard_refresh.py                       # part A only (in-process)
    .venv/bin/python bench/dashboard_refresh.py --live --tablets 600  # part A + part B (processes)

Part A drives the real Dash request path (Flask test client -> ``_dash-update-component``)
on a feed holding 12,000 rows that churn like a running unit (progress changes, a few
state flips, then a centre dropping at once), and prints the p50/p95 of the server-side
time per refresh and the bytes of each answer, next to the baseline of re-sending the
full figure every time (what a naive view would send).

Part B starts the real ``vigie serve --demo N`` and asyncio tablets heartbeating over
websockets, measures their heartbeat round-trip p99 without a dashboard, then with
``vigie dashboard`` and ten jurors refreshing the national view, and prints the ratio.
Figures depend on the machine: say how loaded it was when you quote them.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid
from typing import Any

from vigie.centres import default_centres
from vigie.protocol import CandidateState


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- synthetic feed -------------------------------------------------------------------
def make_rows(n: int, now: float, rng: random.Random) -> list[dict[str, Any]]:
    centres = default_centres()
    weight = sum(c.weight for c in centres)
    rows: list[dict[str, Any]] = []
    for c in centres:
        for i in range(1, round(n * c.weight / weight) + 1):
            pos = rng.randrange(100)
            rows.append({
                "id": f"{c.code}-{i:05d}", "centre": c.code, "state": "in_progress",
                "last_hb": now - rng.random() * 5, "unit_id": "U1", "position": pos,
                "answered": pos, "question_count": 100, "progress": pos / 100,
                "deadline": now + 3 * 3600, "extra_time_s": 0, "battery": rng.randrange(20, 100),
                "network": "wifi", "reconnects": 0, "disconnected_s": 0,
            })  # fmt: skip
    return rows


def counts_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    national = {s.value: 0 for s in CandidateState}
    centres: dict[str, dict[str, int]] = {}
    for r in rows:
        national[r["state"]] += 1
        per = centres.setdefault(r["centre"], {s.value: 0 for s in CandidateState})
        per[r["state"]] += 1
    return {"national": national, "centres": centres}


def churn(
    rows: list[dict[str, Any]], rng: random.Random, progress: int, flips: int, storm: str | None
) -> list[dict[str, Any]]:
    changed = []
    for r in rng.sample(rows, progress):
        pos = min(99, r["position"] + 1)
        r.update(position=pos, answered=pos, progress=pos / 100)
        changed.append(r)
    for r in rng.sample(rows, flips):
        r["state"] = rng.choice(["late", "lost", "in_progress", "in_progress"])
        changed.append(r)
    if storm:
        for r in rows:
            if r["centre"] == storm:
                r["state"] = "lost"
                changed.append(r)
    return [dict(r) for r in changed]


# --- part A ---------------------------------------------------------------------------
def part_a(n: int, refreshes: int, jurors: int) -> None:
    from supervision_dashboard.app import create_app
    from supervision_dashboard.context import JurySession
    from supervision_dashboard.feed import Feed
    from supervision_dashboard.heatmap import build_grid, figure
    from supervision_dashboard.jury_client import JuryIdentity

    rng = random.Random(2022)
    now = time.time()
    rows = make_rows(n, now, rng)
    app, ctx = create_app("http://127.0.0.1:9")  # never polled: the feed is installed below
    feed = Feed(ctx.server_url, "bench-token")
    feed.state.apply_snapshot({"cursor": 1, "server_ts": now, "unit_id": "U1",
                               "counts": counts_of(rows), "candidates": rows})  # fmt: skip
    feed.last_ok = time.monotonic()
    ctx.feeds.install(feed)
    sid = "bench"
    ctx._sessions[sid] = JurySession(JuryIdentity("bench-token", "national", "national", None))
    client = app.server.test_client()
    with client.session_transaction() as s:
        s["sid"] = sid
    deps = client.get("/_dash-dependencies").get_json()
    cb = next(d for d in deps if d["output"].startswith("..heatmap.figure"))
    outputs = []
    for part in cb["output"].strip(".").split("..."):
        ident, prop = part.split(".", 1)
        outputs.append({"id": ident, "property": prop})
    views = [uuid.uuid4().hex for _ in range(jurors)]

    def refresh(view: str, tick: int) -> tuple[float, int]:
        body = {
            "output": cb["output"], "outputs": outputs,
            "inputs": [{"id": "tick", "property": "n_intervals", "value": tick},
                       {"id": "only-incidents", "property": "value", "value": []}],
            "state": [{"id": "view-id", "property": "data", "value": view}],
            "changedPropIds": ["tick.n_intervals"],
        }  # fmt: skip
        t0 = time.perf_counter()
        resp = client.post("/_dash-update-component", json=body)
        elapsed = time.perf_counter() - t0
        if resp.status_code not in (200, 204):
            raise SystemExit(f"refresh failed: {resp.status_code} {resp.data[:300]!r}")
        return elapsed, len(resp.data)

    first = [refresh(v, 0) for v in views]
    times: list[float] = []
    sizes: list[int] = []
    storm_times: list[float] = []
    storm_sizes: list[int] = []
    cursor = 1
    for tick in range(1, refreshes + 1):
        storm = "PARIS-CITE" if tick == refreshes // 2 else None
        changed = churn(rows, rng, progress=170, flips=20, storm=storm)
        cursor += 1
        with feed.lock:
            feed.state.apply_changes({"cursor": cursor, "server_ts": time.time(),
                                      "counts": counts_of(rows), "candidates": changed})  # fmt: skip
        for v in views:
            elapsed, size = refresh(v, tick)
            (storm_times if storm else times).append(elapsed)
            (storm_sizes if storm else sizes).append(size)
    full = len(json.dumps(figure(build_grid(rows)), separators=(",", ":")))
    print(f"== part A: national view, {len(rows)} candidates, {jurors} juror(s), "
          f"{refreshes} refreshes (170 progress changes + 20 state flips each, "
          f"one refresh with a whole centre lost)")  # fmt: skip
    print(f"first load     : {statistics.mean(t for t, _ in first) * 1000:7.1f} ms  "
          f"{max(s for _, s in first) / 1024:7.1f} KiB")  # fmt: skip
    print(f"refresh        : p50 {p(times, .5) * 1000:6.1f} ms  p95 {p(times, .95) * 1000:6.1f} ms  "
          f"max {max(times) * 1000:6.1f} ms")  # fmt: skip
    print(f"refresh bytes  : p50 {p(sizes, .5) / 1024:6.1f} KiB  p95 {p(sizes, .95) / 1024:6.1f} KiB  "
          f"max {max(sizes) / 1024:6.1f} KiB")  # fmt: skip
    print(f"storm refresh  : {max(storm_times) * 1000:6.1f} ms  {max(storm_sizes) / 1024:6.1f} KiB")
    print(f"baseline (full figure every refresh): {full / 1024:6.1f} KiB "
          f"-> refresh p95 is {p(sizes, .95) / full:.1%} of it")  # fmt: skip
    verdict = p(times, 0.95) < 0.1 and p(sizes, 0.95) < 100_000 and max(storm_sizes) < 100_000
    print(f"target (p95 < 100 ms, < 100 KB): {'met' if verdict else 'NOT met'}")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--candidates", type=int, default=12000)
    ap.add_argument("--refreshes", type=int, default=40)
    ap.add_argument("--jurors", type=int, default=1)
    ap.add_argument("--live", action="store_true", help="also run part B (real processes)")
    ap.add_argument("--tablets", type=int, default=600)
    ap.add_argument("--hold", type=float, default=30.0, help="seconds per phase of part B")
    args = ap.parse_args()
    part_a(args.candidates, args.refreshes, args.jurors)
    if args.live:
        from bench_dashboard_live import part_b  # type: ignore[import-not-found]

        part_b(args.tablets, args.hold)


if __name__ == "__main__":
    main()
