"""``vigie correct DB``: score every candidate of a server's database, rank, write the documents."""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .docimology import analyse
from .report import trace_csv, write_all
from .results import correct, trace
from .rules import RulesError, load_rules
from .source import CorrectionRefused, read_sitting


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="vigie correct",
        description="Correct a session from an exam server's SQLite database: marks per unit, "
        "rank A / rank B, global mark, ranking with the tie rules, the jury's documents "
        "(docs/correction.md).",
    )
    p.add_argument("db", type=Path, help="the server's SQLite database (vigie serve --db)")
    p.add_argument("--out", type=Path, default=Path("results"), help="output folder (./results)")
    p.add_argument("--rules", type=Path, default=None, help="a rules file (default: vigie-edn)")
    p.add_argument(
        "--units", default=None, help="comma-separated units to correct (default: every closed one)"
    )
    p.add_argument(
        "--trace", action="append", default=[], metavar="CANDIDATE",
        help="also write this candidate's trace (repeatable)",
    )  # fmt: skip
    p.add_argument("--trace-all", action="store_true", help="write every candidate's trace")
    return p.parse_args(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        rules = load_rules(args.rules)
    except (OSError, RulesError) as exc:
        print(f"vigie correct: rules: {exc}", file=sys.stderr)
        return 2
    units = [u.strip() for u in args.units.split(",") if u.strip()] if args.units else None
    t0 = time.perf_counter()
    c0 = time.process_time()
    # Millions of answer strings, none of them in a cycle: the cyclic collector would only
    # rescan them, again and again, while they load.
    gc.disable()
    try:
        sitting = read_sitting(args.db, units)
    except FileNotFoundError:
        print(f"vigie correct: no database at {args.db}", file=sys.stderr)
        return 2
    except CorrectionRefused as exc:
        print(f"vigie correct: {exc}", file=sys.stderr)
        return 3
    finally:
        gc.enable()
    t1 = time.perf_counter()
    gc.disable()
    try:
        results = correct(sitting, rules)
    finally:
        gc.enable()
    t2 = time.perf_counter()
    paths = write_all(results, args.out, analyse(sitting, results))
    known = {p.candidate_id for p in sitting.people}
    wanted = sorted(known) if args.trace_all else args.trace
    explained: dict[Any, Any] = {}  # each distinct answer explained once for all traces
    for cid in wanted:
        if cid not in known:
            print(f"vigie correct: no candidate {cid!r}", file=sys.stderr)
            return 2
        p = args.out / "traces" / f"{cid}.csv"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(
            trace_csv(trace(sitting, rules, cid, explained)), encoding="utf-8", newline="\n"
        )
        paths.append(p)
    t3 = time.perf_counter()
    scored = sum(len(u.questions) for u in results.units)
    print(
        f"corrected {len(results.candidates)} candidates x {scored} questions "
        f"({', '.join(u.id for u in results.units)}) under {rules.label()}: "
        f"{len(results.ranking)} ranked, {len(results.decisions.to_json())} jury decision(s)"
    )
    print(
        f"read {t1 - t0:.2f} s ({sitting.source['answer_rows']} answer rows), "
        f"score+rank {t2 - t1:.2f} s, analysis+write {t3 - t2:.2f} s, total {t3 - t0:.2f} s "
        f"(CPU {time.process_time() - c0:.2f} s)"
    )
    for p in paths[:8]:
        print(f"  {p}")
    if len(paths) > 8:
        print(f"  ... and {len(paths) - 8} more under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
