from pathlib import Path

import pytest

from vigie.centres import default_centres, load_centres


def test_default_centres_are_the_35_faculties() -> None:
    centres = default_centres()
    assert len(centres) == 35
    assert len({c.code for c in centres}) == 35
    assert all(c.weight > 0 for c in centres)


def test_duplicate_code_is_rejected(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("centres:\n  - {code: A, name: a}\n  - {code: A, name: b}\n")
    with pytest.raises(ValueError, match="appears twice"):
        load_centres(f)


def test_not_a_mapping_is_rejected(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("- 1\n")
    with pytest.raises(ValueError, match="'centres' list"):
        load_centres(f)
