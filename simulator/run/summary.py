"""A plain-text summary of a run record, per wave (for ``vigie load`` and logs)."""

from __future__ import annotations

from simulator.record import OP_ANSWER, OP_HEARTBEAT, OP_WS_CONNECT, RunRecord


def summary_lines(record: RunRecord) -> list[str]:
    peak = max((s.sockets_open for s in record.samples), default=0)
    cpu = max((s.generator_cpu for s in record.samples), default=0.0)
    rss = max((s.generator_rss_mb or 0.0 for s in record.samples), default=0.0)
    mem = f", memory peak {rss:,.0f} MiB" if rss else ""
    lines = [
        f"{record.scenario}: {record.planned_tablets():,} tablets planned, "
        f"{peak:,} sockets open at most, generator CPU peak {cpu:.0%} of a core{mem}",
    ]
    for wave in record.waves:
        hb = wave.ops.get(OP_HEARTBEAT)
        ans = wave.ops.get(OP_ANSWER)
        ws = wave.ops.get(OP_WS_CONNECT)
        failed = sum(t.failed() for t in wave.ops.values())
        total = sum(t.count for t in wave.ops.values())
        lines.append(
            f"  wave {wave.number} ({wave.name}): {wave.planned_tablets:,} planned, "
            f"ws connects {ws.succeeded() if ws else 0:,}/{ws.count if ws else 0:,}, "
            f"heartbeat p99 {_ms(hb.latency.percentile(0.99) if hb else None)}, "
            f"answer p99 {_ms(ans.latency.percentile(0.99) if ans else None)}, "
            f"failures {failed:,}/{total:,}"
        )
    lines += [f"  note: {n}" for n in record.notes]
    return lines


def print_summary(record: RunRecord) -> None:
    print("\n".join(summary_lines(record)))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"
