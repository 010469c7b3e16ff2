from __future__ import annotations

import copy
from typing import Any

from supervision_dashboard.feed import FeedState


def test_snapshot_then_changes_merge_rows_and_counts(
    snapshot: dict[str, Any], changes: dict[str, Any]
) -> None:
    state = FeedState()
    first = state.apply_snapshot(snapshot)
    assert len(first) == 5 and all(old is None for old, _ in first)
    assert state.cursor == 1000 and state.unit_id == "U1"
    v1 = state.version

    changed = state.apply_changes(changes)
    assert {new["id"] for _, new in changed} == {"AMU-00001", "LILLE-00002"}
    old, new = next(p for p in changed if p[1]["id"] == "AMU-00001")
    assert old is not None and old["state"] == "in_progress" and new["state"] == "lost"
    assert state.rows["AMU-00001"]["state"] == "lost"
    assert state.rows["AMU-00002"]["reconnects"] == 1  # untouched rows stay
    assert state.cursor == 1003
    assert state.unit_id == "U1"  # a changes answer without unit_id keeps the unit
    assert state.counts["national"]["lost"] == 2
    assert state.version == v1 + 1
    assert state.row_version["AMU-00001"] == state.version
    assert state.row_version["AMU-00002"] == v1


def test_identical_changes_do_not_bump_the_version(
    snapshot: dict[str, Any], changes: dict[str, Any]
) -> None:
    state = FeedState()
    state.apply_snapshot(snapshot)
    state.apply_changes(changes)
    version = state.version
    again = copy.deepcopy(changes)
    again["cursor"] = 1004
    assert state.apply_changes(again) == []
    assert state.version == version
    assert state.cursor == 1004


def test_resnapshot_drops_rows_the_server_no_longer_has(snapshot: dict[str, Any]) -> None:
    state = FeedState()
    state.apply_snapshot(snapshot)
    smaller = copy.deepcopy(snapshot)
    smaller["candidates"] = smaller["candidates"][:2]
    smaller["cursor"] = 5000
    state.apply_snapshot(smaller)
    assert set(state.rows) == {"AMU-00001", "AMU-00002"}
    assert set(state.row_version) == set(state.rows)
    assert state.snapshots == 2 and state.cursor == 5000
