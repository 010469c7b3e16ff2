from simulator.certify.generator import generator_load, hot_between
from simulator.record import Sample


def _samples(cpus: list[float]) -> list[Sample]:
    return [
        Sample(t=float(i), wave=1, users=0, sockets_open=0, generator_cpu=c)
        for i, c in enumerate(cpus)
    ]


def test_a_short_spike_does_not_make_a_run_generator_bound() -> None:
    load = generator_load(_samples([0.3, 0.95, 0.97, 0.4, 0.3] * 4))
    assert not load.bound
    assert load.peak_cpu == 0.97 and load.seconds_over == 4.0


def test_cpu_held_over_the_limit_makes_it_generator_bound_from_the_stretch_start() -> None:
    load = generator_load(_samples([0.3] * 10 + [0.9] * 8 + [0.5]))
    assert load.bound and load.bound_from == 10.0
    assert load.to_json()["bound"] is True


def test_the_limit_is_a_setting() -> None:
    cpus = [0.7] * 20
    assert not generator_load(_samples(cpus)).bound
    assert generator_load(_samples(cpus), limit=0.6).bound
    assert hot_between(_samples(cpus), 3, 5, 0.6) and not hot_between(_samples(cpus), 30, 50, 0.6)


def test_no_samples_is_not_bound() -> None:
    assert not generator_load([]).bound


def _fleet(points: list[tuple[int, int, float | None]]) -> list[Sample]:
    """(tablets connected, Locust users, generator MiB) a second."""
    return [
        Sample(t=float(i), wave=1, users=u, sockets_open=n, generator_cpu=0.1, generator_rss_mb=mib)
        for i, (n, u, mib) in enumerate(points)
    ]


def test_peak_memory_and_what_it_is_per_tablet() -> None:
    load = generator_load(_fleet([(0, 0, 90.0), (500, 500, 140.0), (1000, 1000, 200.0)]))
    assert load.peak_rss_mb == 200.0 and load.tablets_at_rss_peak == 1000
    assert load.rss_per_tablet_kib == 204.8
    assert load.to_json()["peak_rss_mb"] == 200.0
    assert load.to_json()["rss_per_tablet_kib"] == 204.8


def test_a_peak_after_the_fleet_left_is_divided_by_the_fleet_it_held() -> None:
    # Memory is not given back: the last sample, at the stop, may be the highest.
    load = generator_load(_fleet([(800, 800, 150.0), (1000, 1000, 199.0), (0, 0, 200.0)]))
    assert load.peak_rss_mb == 200.0 and load.tablets_at_rss_peak == 1000


def test_tablets_refused_every_socket_are_counted_as_users() -> None:
    load = generator_load(_fleet([(0, 0, 90.0), (0, 512, 100.0)]))
    assert load.tablets_at_rss_peak == 512 and load.rss_per_tablet_kib == 200.0


def test_memory_not_measured_or_no_tablet_gives_no_figure() -> None:
    old = generator_load(_samples([0.3, 0.4]))  # a record from before memory was measured
    assert old.peak_rss_mb is None and old.rss_per_tablet_kib is None
    assert old.to_json()["rss_per_tablet_kib"] is None
    idle = generator_load(_fleet([(0, 0, 90.0), (0, 0, None)]))
    assert idle.peak_rss_mb == 90.0 and idle.rss_per_tablet_kib is None
