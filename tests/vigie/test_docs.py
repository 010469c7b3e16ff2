"""The generated docs (docs/openapi.json, docs/wire.md) are what the types say, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigie.docs_cli import main

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_committed_docs_are_fresh() -> None:
    assert main(["--check", "--dir", str(DOCS)]) == 0, "docs are stale: run vigie docs"


def test_check_names_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dir", str(tmp_path)]) == 0  # writes both
    (tmp_path / "wire.md").write_text("# edited by hand\n")
    assert main(["--check", "--dir", str(tmp_path)]) == 1
    assert "wire.md" in capsys.readouterr().err
    assert (tmp_path / "wire.md").read_text() == "# edited by hand\n"  # --check writes nothing


def test_every_wire_type_is_in_the_reference() -> None:
    import importlib
    import pkgutil

    import msgspec

    from vigie.wire import http, ws
    from vigie.wire.reference import SECTIONS

    listed = {t for _, _, ts in SECTIONS for t in ts}
    # http is a package: its bodies are defined in its modules, which are walked too, so that
    # a type defined there (and perhaps not re-exported) cannot escape the reference.
    parts = [importlib.import_module(f"{http.__name__}.{m.name}") for m in pkgutil.iter_modules(http.__path__)]  # fmt: skip
    assert parts, "vigie.wire.http has no modules: this test would check nothing"
    for module in (ws, http, *parts):
        for name in dir(module):
            t = getattr(module, name)
            if not isinstance(t, type) or not issubclass(t, msgspec.Struct):
                continue
            if not name.startswith("_") and t.__module__ == module.__name__:
                assert t in listed, f"{module.__name__}.{name} is missing from docs/wire.md"
