"""The server's garbage-collector watch: each collection's pause, by generation."""

from __future__ import annotations

import gc

from prometheus_client import CollectorRegistry, Histogram

from exam_server_stub.gcwatch import GcWatch


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def pauses() -> Histogram:
    return Histogram("t_gc_pause_seconds", "t", ["generation"], registry=CollectorRegistry())


def count(h: Histogram, generation: str) -> float:
    for metric in h.collect():
        for s in metric.samples:
            if s.name.endswith("_count") and s.labels["generation"] == generation:
                return s.value
    return 0.0


def test_each_collection_is_timed_into_its_generation() -> None:
    clock = Clock()
    watch = GcWatch(pauses(), clock)
    watch("start", {"generation": 2})
    clock.t += 0.120
    watch("stop", {"generation": 2, "collected": 10})
    watch("start", {"generation": 0})
    clock.t += 0.001
    watch("stop", {"generation": 0})
    assert count(watch.pauses, "2") == 1 and count(watch.pauses, "0") == 1
    assert abs(watch.longest_s - 0.120) < 1e-9
    watch("stop", {"generation": 1})  # a stop without its start (installed mid-collection)
    assert count(watch.pauses, "1") == 0


def test_installed_it_sees_the_real_collector_and_removed_it_is_gone() -> None:
    watch = GcWatch(pauses())
    watch.install()
    try:
        gc.collect()
    finally:
        watch.remove()
    assert count(watch.pauses, "2") == 1
    assert watch not in gc.callbacks
    gc.collect()
    assert count(watch.pauses, "2") == 1


def test_what_survived_is_frozen_every_few_seconds_and_the_freezes_counted() -> None:
    import asyncio

    from prometheus_client import Counter

    from exam_server_stub.gcwatch import freeze_every

    freezes = Counter("t_gc_freezes", "t", registry=CollectorRegistry())

    async def run_a_little() -> None:
        task = asyncio.create_task(freeze_every(0.01, freezes))
        await asyncio.sleep(0.1)
        task.cancel()

    gc.unfreeze()
    try:
        asyncio.run(run_a_little())
        assert gc.get_freeze_count() > 1000  # this process's objects, out of the collector's sight
        done = next(iter(freezes.collect())).samples[0].value
        assert 3 <= done <= 10  # one per 10 ms over 0.1 s
    finally:
        gc.unfreeze()
