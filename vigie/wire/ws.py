"""The tablet websocket's messages: JSON text frames, discriminated by ``type``.

One definition for the server (which decodes what tablets send and encodes what it
sends), the simulated tablets, and ``docs/`` (generated from these types). msgspec
because the heartbeat is the server's hottest path: decoding and checking one costs
about a microsecond (``bench/wire_heartbeat.py`` measures it against hand-checked
orjson, the code it replaced).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from vigie.protocol import InstructionKind, MsgType

Seconds = Annotated[float, Meta(ge=0)]
Count = Annotated[int, Meta(ge=0)]
UnixTs = Annotated[float, Meta(description="unix seconds, UTC")]


class _ToServer(msgspec.Struct, tag_field="type", forbid_unknown_fields=True):
    """What a tablet sends: strict, an unknown field is a protocol error (1008)."""


class _ToTablet(msgspec.Struct, tag_field="type"):
    """What the server sends: a tablet ignores fields it does not know (room to grow)."""


# --- tablet -> server ---------------------------------------------------------------
class Heartbeat(_ToServer, tag=MsgType.HEARTBEAT.value):
    """Every ``heartbeat_interval_s``: the tablet is alive, and where it is in its unit."""

    seq: Annotated[int, Meta(ge=0, description="increases by one per heartbeat")]
    unit_id: Annotated[str | None, Meta(description="unit on screen; null while waiting")]
    position: Annotated[
        Count,
        Meta(description="0-based index in the unit of the question on screen (0 while waiting)"),
    ]
    answered: Annotated[Count, Meta(description="questions of this unit answered on the tablet")]
    battery: Annotated[
        Annotated[int, Meta(ge=0, le=100)] | None,
        Meta(description="percent; null where the browser does not tell (no Battery API)"),
    ]
    network: Annotated[
        str, Meta(max_length=16, description='"wifi", "ethernet", "cellular", "none", "unknown"')
    ]
    client_ts: Annotated[float, Meta(description="unix seconds, the tablet's clock")]


class InstructionAck(_ToServer, tag=MsgType.INSTRUCTION_ACK.value):
    """Confirms instructions received on an ``hb_ack`` (they ride on every ack until then)."""

    ids: Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(max_length=1000)]


TabletMessage = Heartbeat | InstructionAck


# --- server -> tablet ---------------------------------------------------------------
class Instruction(msgspec.Struct, omit_defaults=True):
    """A jury instruction for one tablet; shown, then confirmed with an ``ack`` message."""

    id: Annotated[str, Meta(description="unique; the tablet confirms it with an ack")]
    kind: InstructionKind
    unit_id: str | None = None
    seconds: Annotated[float | None, Meta(description="extra_time: seconds added")] = None
    deadline: Annotated[
        float | None, Meta(description="the candidate's new deadline (unix s) after it")
    ] = None
    text: Annotated[str | None, Meta(description="message: the text to show")] = None
    reason: str | None = None


class UnitInfo(msgspec.Struct):
    """One unit as one candidate sees it (``GET /me``, login, ``welcome``)."""

    unit_id: str
    title: str
    kind: str
    question_count: Count
    duration_s: Annotated[float, Meta(gt=0)]
    state: str
    launched_at: float | None
    deadline: Annotated[
        float | None, Meta(description="this candidate's deadline, extra time and pauses included")
    ]
    extra_time_s: Seconds
    finished: bool
    package_sha256: str
    backup: Annotated[
        bool,
        Meta(
            description="a backup unit (sat only if the jury launches it in place of a cancelled"
            " one): not downloaded, not waited for, until launched"
        ),
    ] = False


class Welcome(_ToTablet, tag=MsgType.WELCOME.value):
    """First message on every socket."""

    server_ts: UnixTs
    candidate_id: str
    heartbeat_interval_s: Annotated[float, Meta(gt=0)]
    units: list[UnitInfo]


class HeartbeatAck(_ToTablet, tag=MsgType.HEARTBEAT_ACK.value):
    """The answer to each heartbeat, with every instruction not yet confirmed."""

    seq: int
    server_ts: UnixTs
    instructions: list[Instruction]


class LaunchPush(_ToTablet, tag=MsgType.LAUNCH.value):
    """The national launch of a unit: fetch its key now."""

    unit_id: str
    launched_at: UnixTs
    deadline: Annotated[float | None, Meta(description="this candidate's own deadline")]


class CloseUnitPush(_ToTablet, tag=MsgType.CLOSE_UNIT.value):
    """The unit is closed nationally."""

    unit_id: str
    closed_at: UnixTs


ServerMessage = Welcome | HeartbeatAck | LaunchPush | CloseUnitPush

#: Shared, thread-safe codecs (a Decoder is cheaper to reuse than to build).
tablet_decoder: msgspec.json.Decoder[TabletMessage] = msgspec.json.Decoder(TabletMessage)
server_decoder: msgspec.json.Decoder[ServerMessage] = msgspec.json.Decoder(ServerMessage)
encoder = msgspec.json.Encoder()
