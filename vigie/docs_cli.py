"""``vigie docs``: write the generated documents (``docs/openapi.json``, ``docs/wire.md``).

``--check`` writes nothing and exits 1 when a committed file differs from what the types
and the route table say (CI runs the same comparison as a test).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def generated() -> dict[str, Callable[[], bytes]]:
    from exam_server_stub.openapi import spec
    from vigie.wire.reference import markdown

    return {"openapi.json": spec, "wire.md": lambda: markdown().encode()}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="vigie docs", description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=Path("docs"), help="where the docs live")
    ap.add_argument("--check", action="store_true", help="only say which files are stale")
    args = ap.parse_args(argv)
    stale = []
    for name, make in generated().items():
        path, body = args.dir / name, make()
        if path.exists() and path.read_bytes() == body:
            continue
        stale.append(name)
        if not args.check:
            path.write_bytes(body)
            print(f"wrote {path}")
    if args.check and stale:
        print(f"stale: {', '.join(stale)} (run: vigie docs)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
