"""``vigie demo``: print the demo roster / credentials, or the demo session's shape."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from scenarios import ScenarioError, load_scenario
from vigie.centres import load_centres
from vigie.demo import (
    connection_test_code,
    demo_counts,
    generate_session,
    read_demo_counts,
    roster,
)

from .settings import DEFAULT_SEED


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="vigie demo", description="Demo roster and exam.")
    p.add_argument("--candidates", type=int, default=100)
    p.add_argument(
        "--demo-counts",
        type=Path,
        default=None,
        metavar="FILE",
        help='the JSON file {"CENTRE": count} given to vigie serve --demo-counts (instead of'
        " --candidates)",
    )
    p.add_argument(
        "--scenario",
        default=None,
        metavar="NAME",
        help="the roster vigie serve --scenario NAME holds (its centres and seed; --set applies)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="a scenario override, as given to vigie serve / rehearse",
    )
    p.add_argument(
        "--centre",
        dest="only",
        action="append",
        default=[],
        metavar="CODE",
        help="only this centre's candidates (repeatable): a faculty's real tablets",
    )
    p.add_argument("--seed", type=int, default=None, help=f"default {DEFAULT_SEED}")
    p.add_argument("--centres", type=Path, default=None)
    p.add_argument("--roster", type=Path, default=None, help="write the roster as CSV here")
    p.add_argument("--session", action="store_true", help="print the session's units as JSON")
    args = p.parse_args(argv)
    seed = DEFAULT_SEED if args.seed is None else args.seed
    if args.scenario is not None:
        try:
            scenario = load_scenario(args.scenario, args.overrides)
        except ScenarioError as exc:
            print(f"vigie demo: invalid scenario\n{exc}", file=sys.stderr)
            return 2
        counts = dict(scenario.centres)
        seed = scenario.seed if args.seed is None else args.seed
    elif args.demo_counts is not None:
        counts = read_demo_counts(args.demo_counts)
    else:
        counts = demo_counts(args.candidates, load_centres(args.centres))
    unknown = sorted(set(args.only) - set(counts))
    if unknown:
        print(f"vigie demo: no candidates in centre(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    people = roster(counts, seed)
    if args.only:
        people = [c for c in people if c.centre in args.only]
    if args.roster is not None:
        with args.roster.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["candidate_id", "centre", "birth_date", "access_code"])
            w.writerows((c.candidate_id, c.centre, c.birth_date, c.access_code) for c in people)
    if args.session:
        session = generate_session(seed)
        units = [
            {
                "unit_id": u.id,
                "kind": u.kind.value,
                "questions": len(u.questions),
                "dossiers": len({q.dossier_id for q in u.questions if q.dossier_id}),
                "images": sum(1 for q in u.questions if q.image_png is not None),
            }
            for u in session.units
        ]
        json.dump(units, sys.stdout, indent=2)
        print()
        return 0
    print("jury: national / national-demo, observer / observer-demo, centre-<CODE> / centre-demo")
    for centre in sorted(counts):
        code = connection_test_code(args.seed, centre)
        print(f"connection test: centre={centre} test_code={code}")
    for c in people[:5]:
        print(f"candidate: {c.candidate_id} centre={c.centre} access_code={c.access_code}")
    if len(people) > 5:
        print(f"... {len(people)} candidates in all (--roster FILE writes them all)")
    return 0
