from __future__ import annotations

import re
from pathlib import Path

import supervision_dashboard
from supervision_dashboard.i18n import keys, t
from vigie.protocol import CandidateState, JuryRole


def test_every_key_used_in_the_code_is_translated() -> None:
    root = Path(supervision_dashboard.__file__).parent
    used: set[str] = set()
    for path in root.rglob("*.py"):
        used |= set(re.findall(r"\bt\(\s*\"([a-z_]+)\"", path.read_text(encoding="utf-8")))
    assert used, "the scan found no t(...) call"
    assert used - keys() == set()


def test_states_and_roles_read_in_both_languages() -> None:
    for state in CandidateState:
        assert t(state.value, "fr") != state.value and t(state.value, "en") != state.value
    for role in JuryRole:
        assert t(f"role_{role.value}", "fr") != t(f"role_{role.value}", "en") or role == "centre"
    assert t("lost", "fr") == "Déconnecté" and t("report", "fr") == "Procès-verbal"


def test_every_results_column_has_its_header_in_both_languages() -> None:
    from supervision_dashboard.pages.results import COLUMNS, DOCUMENTS

    for key in [*COLUMNS.values(), *DOCUMENTS.values()]:
        assert key in keys(), key
