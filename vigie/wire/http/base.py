"""What every body of the HTTP API builds on: the strict request and plain response bases,
the shared field types, the error body any route may answer, and the one JSON encoder.

Requests forbid unknown fields so that a client's typo is a ``422 invalid_request``, never
a field silently ignored; responses do not, so that a client may meet fields added later.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from vigie.protocol import ErrorCode

Id = Annotated[str, Meta(min_length=1, max_length=64)]
Reason = Annotated[
    str, Meta(min_length=1, max_length=500, description="why: kept in the audit trail")
]


class _Request(msgspec.Struct, forbid_unknown_fields=True):
    pass


class _Response(msgspec.Struct):
    pass


# --- errors ---------------------------------------------------------------------------
class ErrorBody(_Response):
    code: Annotated[str, Meta(description="an ErrorCode, or `internal` for a server bug")]
    message: Annotated[str, Meta(description="for humans")]


class ErrorResponse(_Response):
    error: ErrorBody


ERROR_CODES: tuple[str, ...] = (*(c.value for c in ErrorCode), "internal")


class Health(_Response):
    status: str


encoder = msgspec.json.Encoder()
