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
