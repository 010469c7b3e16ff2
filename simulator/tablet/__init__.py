"""One simulated exam tablet: a Locust user that follows the whole vigie protocol.

A tablet logs in, pre-downloads its encrypted units, keeps a websocket with
heartbeats, waits for the national launch, fetches the key, answers question after
question with lognormal think times, honours progressive dossiers and the jury's
instructions, and finishes. Network trouble never stops it: the socket reconnects with
exponential backoff and full jitter, answers given offline wait in a queue and are
re-sent with the same action ids.

The rooms (``docs/tablet.md``):

- :mod:`.backoff`: the one retry helper (exponential backoff, full jitter, bounded,
  ``Retry-After`` honoured);
- :mod:`.failures`: the one error classification (what Locust sees, what to do next);
- :mod:`.api`: the HTTP calls, typed with :mod:`vigie.wire.http`;
- :mod:`.link`: the websocket, typed with :mod:`vigie.wire.ws`: heartbeats, pushes,
  reconnects;
- :mod:`.offline`: the queue of answers not on the server yet;
- :mod:`.beats`: acknowledged heartbeats, counted in bulk for Locust and the tally;
- :mod:`.ledger`: the process's ledger of acknowledged answers (reconciled at the end);
- :mod:`.state`: units, progress, the jury's instructions (bookkeeping, no I/O);
- :mod:`.exam`: the exam flow (sit a unit, answer, finish);
- :mod:`.user`: :class:`Tablet`, which wires them, and the Locust :class:`TabletUser`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .user import Tablet, TabletUser

__all__ = ["Tablet", "TabletUser"]


def __getattr__(name: str) -> Any:
    # Lazy: importing locust monkey-patches the process with gevent, which the rooms
    # (and their tests) must not trigger; the Locust processes import it first anyway.
    if name in __all__:
        from . import user

        return getattr(user, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
