"""One zone for the exam on screen and on paper; overseas centres also read their own clock."""

from __future__ import annotations

from supervision_dashboard.clock import clock, local_clock, stamp

T0 = 1737449970.0  # 2025-01-21 08:59:30 UTC


def test_times_are_on_the_exams_clock_whatever_the_hosts_zone() -> None:
    assert clock(T0) == "09:59:30"
    assert stamp(T0) == "21/01/2025 09:59:30 CET"
    assert clock(None) == "" and stamp("x") == ""


def test_overseas_centres_also_get_their_local_time() -> None:
    assert stamp(T0, "REUNION") == "21/01/2025 09:59:30 CET (12:59 Reunion)"
    assert local_clock(T0, "ANTILLES") == "04:59"
    assert local_clock(T0, "AMU") == "" and stamp(T0, "AMU") == "21/01/2025 09:59:30 CET"
