from collections import Counter

from scenarios import load_scenario
from simulator.identity import partition, wave_order
from vigie.demo import access_code, roster


def test_every_candidate_once_in_wave_order() -> None:
    s = load_scenario("ecnp-2022-01-21")
    ids = list(wave_order(s))
    assert len(ids) == s.total_tablets == len({i.candidate_id for i in ids})
    waves = [i.wave for i in ids]
    assert waves == sorted(waves)
    for number, wave in enumerate(s.waves, start=1):
        in_wave = [i for i in ids if i.wave == number]
        assert {i.centre for i in in_wave} == set(wave.centres)
        assert len(in_wave) == s.wave_tablets(wave)


def test_centres_of_a_wave_are_interleaved() -> None:
    s = load_scenario("ecnp-2022-01-21")
    first = list(wave_order(s))[: len(s.waves[0].centres)]
    assert {i.centre for i in first} == set(s.waves[0].centres)


def test_identities_match_the_server_demo_roster() -> None:
    s = load_scenario("smoke")
    server_side = {c.candidate_id: c.access_code for c in roster(s.centres, s.seed)}
    fleet_side = {i.candidate_id: i.access_code for i in wave_order(s)}
    assert fleet_side == server_side
    assert fleet_side["AMIENS-00001"] == access_code(s.seed, "AMIENS-00001")


def test_workers_partition_without_overlap() -> None:
    s = load_scenario("smoke")
    parts = [list(partition(s, i, 3)) for i in range(3)]
    seen = Counter(i.candidate_id for part in parts for i in part)
    assert len(seen) == s.total_tablets and set(seen.values()) == {1}
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    # each worker still goes wave by wave
    for part in parts:
        assert [i.wave for i in part] == sorted(i.wave for i in part)


def test_bad_worker_index() -> None:
    import pytest

    s = load_scenario("smoke")
    with pytest.raises(ValueError, match="out of range"):
        list(partition(s, 3, 3))


def test_the_fleet_never_logs_in_as_a_real_centres_candidate() -> None:
    from simulator.run.check import sampled
    from simulator.run.plan import steps

    s = load_scenario("edn-2025-lyon-sud", ["real_tablets.centres=[GRENOBLE]"])
    ids = list(wave_order(s))
    assert "GRENOBLE" not in {i.centre for i in ids}
    assert len(ids) == s.simulated_tablets == s.total_tablets - s.centres["GRENOBLE"]
    # every other candidate still plays, once, in its wave; no worker gets a real one
    assert len({i.candidate_id for i in ids}) == len(ids)
    parts = [i for w in range(3) for i in partition(s, w, 3)]
    assert sorted(i.candidate_id for i in parts) == sorted(i.candidate_id for i in ids)
    # the shape's targets and the target check's sampled logins leave them out too
    assert steps(s)[-1].users == s.simulated_tablets
    assert steps(s)[1].users - steps(s)[0].users == s.wave_tablets(s.waves[1])
    assert all(i.centre != "GRENOBLE" for picks in sampled(s).values() for i in picks)
