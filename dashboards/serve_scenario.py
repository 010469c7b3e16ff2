"""Container entry point: ``vigie serve --scenario $SCENARIO``, its database in ``$DATA_DIR``.

In docker compose the fleet (Locust master and workers) logs in with identities derived
from the scenario and its seed, so the exam server must hold exactly that roster.

    python -m dashboards.serve_scenario [--print] [vigie serve options...]

reads ``SCENARIO`` (a shipped name or a file; default ecnp-2022-01-21), ``PORT`` (8080)
and ``DATA_DIR`` (/data), and runs ``vigie serve --scenario`` bound to 0.0.0.0 (inside the
container: compose publishes it on the host's 127.0.0.1 only). Extra options, e.g.
``--max-connections 0`` to lift the 2022 cap, are passed through and win.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from scenarios import load_scenario

DEFAULT_SCENARIO = "ecnp-2022-01-21"


def serve_argv(env: dict[str, str], extra: Sequence[str]) -> list[str]:
    ref = env.get("SCENARIO", DEFAULT_SCENARIO)
    data = Path(env.get("DATA_DIR", "/data"))
    data.mkdir(parents=True, exist_ok=True)
    # The roster and the knobs are vigie serve --scenario's (scenarios.serving), as the
    # fleet's; only where the database lives is the container's.
    name = load_scenario(ref).name
    return [
        "serve",
        f"--scenario={ref}",
        "--host=0.0.0.0",
        f"--port={env.get('PORT', '8080')}",
        f"--db={data / f'{name}.sqlite3'}",
        *extra,  # argparse keeps the last value: the user's options win
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    dry_run = "--print" in args
    args = [a for a in args if a != "--print"]
    command = serve_argv(dict(os.environ), args)
    if dry_run:
        print(json.dumps(command))
        return 0
    from vigie.cli import main as vigie_main

    return vigie_main(command)


if __name__ == "__main__":
    sys.exit(main())
