"""Part B's jurors (bench/dashboard_refresh.py --live): N browsers' worth of national refreshes.

    python bench/dash_jurors.py http://127.0.0.1:8050 --jurors 50 --hold 39

One thread per juror: it logs in through the form (CSRF token and cookie, as a browser
does), reads the Dash dependencies, then posts the national view's refresh callback every
1.5 s until ``--hold`` seconds have passed, and the process prints one JSON line: the
refreshes, errors, and the p50/p95 of their time and size. A process of its own, so that
the jurors' client work is not counted in the dashboard's nor the tablets'.
"""

from __future__ import annotations

import argparse
import json
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any


def p(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _national_body(cb: dict[str, Any], view: str, tick: int) -> dict[str, Any]:
    outputs = []
    for part in cb["output"].strip(".").split("..."):
        ident, prop = part.split(".", 1)
        outputs.append({"id": ident, "property": prop})
    return {
        "output": cb["output"], "outputs": outputs,
        "inputs": [{"id": "tick", "property": "n_intervals", "value": tick},
                   {"id": "only-incidents", "property": "value", "value": []}],
        "state": [{"id": "view-id", "property": "data", "value": view}],
        "changedPropIds": ["tick.n_intervals"],
    }  # fmt: skip


def jurors_main(url: str, jurors: int, duration_s: float, period_s: float) -> None:
    """Ten browsers' worth of national refreshes (one thread per juror); prints a JSON summary."""
    import threading

    import urllib3

    pool = urllib3.PoolManager(maxsize=jurors + 2)
    latencies: list[float] = []
    sizes: list[int] = []
    errors = [0]
    lock = threading.Lock()

    def juror(k: int) -> None:
        user, password = (
            ("national", "national-demo") if k % 2 == 0 else ("observer", "observer-demo")
        )
        # The login form carries a CSRF token bound to the cookie it sets.
        form = pool.request("GET", url + "/login", redirect=False)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.data.decode())
        first = form.headers.get("Set-Cookie", "").split(";")[0]
        fields = {"username": user, "password": password, "csrf_token": csrf[1] if csrf else ""}
        resp = pool.request("POST", url + "/login", fields=fields, headers={"Cookie": first},
                            encode_multipart=False, redirect=False)  # fmt: skip
        cookie = resp.headers.get("Set-Cookie", "").split(";")[0]
        headers = {"Cookie": cookie, "Content-Type": "application/json"}
        deps = json.loads(pool.request("GET", url + "/_dash-dependencies", headers=headers).data)
        cb = next(d for d in deps if d["output"].startswith("..heatmap.figure"))
        view = uuid.uuid4().hex
        end = time.monotonic() + duration_s
        tick = 0
        while time.monotonic() < end:
            start = time.monotonic()
            body = json.dumps(_national_body(cb, view, tick)).encode()
            r = pool.request("POST", url + "/_dash-update-component", body=body, headers=headers)
            with lock:
                if r.status in (200, 204):
                    latencies.append(time.monotonic() - start)
                    sizes.append(len(r.data))
                else:
                    errors[0] += 1
            tick += 1
            time.sleep(max(0.0, period_s - (time.monotonic() - start)))

    threads = [threading.Thread(target=juror, args=(k,)) for k in range(jurors)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(duration_s + 60)
    print(json.dumps({"refreshes": len(latencies), "errors": errors[0],
                      "p50_ms": round(p(latencies, .5) * 1000, 1) if latencies else None,
                      "p95_ms": round(p(latencies, .95) * 1000, 1) if latencies else None,
                      "p50_bytes": p(sizes, .5) if sizes else None,
                      "p95_bytes": p(sizes, .95) if sizes else None}))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("url", help="the dashboard")
    ap.add_argument("--jurors", type=int, default=10)
    ap.add_argument("--hold", type=float, default=30.0, help="seconds of refreshes")
    ap.add_argument("--period", type=float, default=1.5, help="seconds between refreshes")
    args = ap.parse_args()
    jurors_main(args.url, args.jurors, args.hold, args.period)


if __name__ == "__main__":
    main()
