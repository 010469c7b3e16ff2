from __future__ import annotations

import json
from typing import Any

from supervision_dashboard.heatmap import STATE_CODE, WIDTH, build_grid, diff_cells, figure


def _rows(centre: str, n: int, state: str = "in_progress") -> list[dict[str, Any]]:
    return [{"id": f"{centre}-{i:05d}", "centre": centre, "state": state} for i in range(1, n + 1)]


def test_cells_are_grouped_by_centre_and_padded_to_full_rows() -> None:
    rows = _rows("AMU", WIDTH + 3) + _rows("LILLE", 2)
    grid = build_grid(rows)
    assert len(grid.z) == 3  # AMU needs two rows, LILLE one
    assert grid.ids[0][0] == "AMU-00001" and grid.ids[1][2] == f"AMU-{WIDTH + 3:05d}"
    assert grid.z[1][3] is None and grid.ids[2][:2] == ["LILLE-00001", "LILLE-00002"]
    assert [c for _, c in grid.ticks] == ["AMU", "LILLE"]


def test_centres_with_incidents_come_first_and_switch_hides_healthy_cells() -> None:
    rows = _rows("AMU", 5) + _rows("LILLE", 5)
    rows[7]["state"] = "lost"
    grid = build_grid(rows)
    assert [c for _, c in grid.ticks] == ["LILLE", "AMU"]
    only = build_grid(rows, only_incidents=True)
    # A small matrix gets narrow rows (10 cells), a national one WIDTH cells.
    assert only.ids == [["LILLE-00003"] + [None] * 9]
    assert only.z[0][0] == STATE_CODE["lost"]


def test_same_shape_keeps_key_and_diff_names_changed_cells() -> None:
    rows = _rows("AMU", 12000 // 35) + _rows("LILLE", 300)
    before = build_grid(rows)
    rows[3] = dict(rows[3], state="finished")
    after = build_grid(rows)
    assert before.key == after.key
    assert diff_cells(before.z, after.z) == [(0, 3, STATE_CODE["finished"])]


def test_full_figure_at_12000_candidates_is_compact() -> None:
    from vigie.centres import default_centres

    centres = default_centres()
    weight = sum(c.weight for c in centres)
    rows = [r for c in centres for r in _rows(c.code, round(12000 * c.weight / weight))]
    size = len(json.dumps(figure(build_grid(rows)), separators=(",", ":")))
    assert len(rows) >= 11900
    assert size < 100_000, size


def test_legend_names_the_states_and_small_maps_hover_the_candidate() -> None:
    from supervision_dashboard.heatmap import COLOURS, STATE_ORDER
    from supervision_dashboard.i18n import t

    labels = [t(s.value) for s in STATE_ORDER]
    fig = figure(build_grid(_rows("AMU", 5)), labels=labels)
    trace = fig["data"][0]
    assert trace["showscale"] and trace["colorbar"]["ticktext"] == labels
    assert "Non terminé" in labels and trace["text"][0][0] == "AMU-00001"
    assert len(set(COLOURS.values())) == len(STATE_ORDER)


def test_incidents_only_with_no_incident_says_so() -> None:
    fig = figure(build_grid(_rows("AMU", 5), only_incidents=True), empty_text="Aucun incident")
    assert fig["layout"]["annotations"][0]["text"] == "Aucun incident"
