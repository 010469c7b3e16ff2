"""The run record: what the fleet runner saw during a run, and all the certifier reads.

The runner (``simulator.runner``) fills one :class:`RunRecord` on the Locust master:
per-wave :class:`OpTally` objects from Locust request events, and a :class:`Sample`
about once a second (users, open sockets, generator CPU, the target's metrics). The
certifier (``simulator.certify``) turns it into a verdict and a report, possibly
later and elsewhere: the record round-trips through JSON (``to_json``/``from_json``,
``save``/``load``) so a run can be judged again without replaying it.

Stdlib only: this package is imported by gevent-patched Locust processes.
Names may grow (additive), never change: ``from_json`` ignores keys it does not know,
so a record written by a newer runner still loads.

One module per part of the record: ``ops`` (operation names, tallies, latency
histograms), ``timeline`` (waves and once-a-second samples), ``outcomes`` (faults,
reconciliation, real tablets) and ``document`` (the whole record, its JSON and file).
Everything is importable from ``simulator.record`` itself, the contract's one path.
"""

from __future__ import annotations

from simulator.record.document import RECORD_FORMAT, RunRecord
from simulator.record.ops import (
    OP_ANSWER,
    OP_FINISH,
    OP_HEARTBEAT,
    OP_KEY,
    OP_LOGIN,
    OP_NAMES,
    OP_PACKAGE,
    OP_QUESTION,
    OP_WS_CONNECT,
    LatencyHistogram,
    OpTally,
    bucket_ms,
)
from simulator.record.outcomes import FaultRun, RealCentreRun, Reconciliation
from simulator.record.timeline import Sample, WaveRecord

__all__ = [
    "OP_ANSWER",
    "OP_FINISH",
    "OP_HEARTBEAT",
    "OP_KEY",
    "OP_LOGIN",
    "OP_NAMES",
    "OP_PACKAGE",
    "OP_QUESTION",
    "OP_WS_CONNECT",
    "RECORD_FORMAT",
    "FaultRun",
    "LatencyHistogram",
    "OpTally",
    "RealCentreRun",
    "Reconciliation",
    "RunRecord",
    "Sample",
    "WaveRecord",
    "bucket_ms",
]
