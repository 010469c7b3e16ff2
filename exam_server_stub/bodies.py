"""Request bodies: strict pydantic models (unknown fields rejected) and the parse helper."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vigie.protocol import ErrorCode

from .errors import ApiError

M = TypeVar("M", bound=BaseModel)
Id = Annotated[str, Field(min_length=1, max_length=64)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Login(_Body):
    candidate_id: Id
    centre: Id
    access_code: Annotated[str, Field(min_length=1, max_length=128)]


class JuryLogin(_Body):
    username: Id
    password: Annotated[str, Field(min_length=1, max_length=256)]


class AnswerIn(_Body):
    action_id: Id
    question_id: Id
    answer: dict[str, Any]
    final: bool
    client_ts: float


class Finish(_Body):
    action_id: Id
    client_ts: float


class Launch(_Body):
    reason: Reason
    duration_s: Annotated[float, Field(gt=0, le=24 * 3600)] | None = None


class ReasonOnly(_Body):
    reason: Reason


class Close(_Body):
    reason: Reason
    # Ending candidates' extra time at the close is explicit, never a side effect.
    end_extra_time: bool = False


class _Target(_Body):
    candidate_id: Id | None = None
    centre: Id | None = None

    @model_validator(mode="after")
    def _one_target(self) -> _Target:
        if (self.candidate_id is None) == (self.centre is None):
            raise ValueError("give exactly one of candidate_id or centre")
        return self


class ExtraTime(_Target):
    unit_id: Id
    seconds: Annotated[float, Field(gt=0, le=4 * 3600)]
    reason: Reason


class Message(_Target):
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    reason: Reason


def parse(model: type[M], raw: bytes) -> M:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(ErrorCode.MALFORMED_JSON, f"The body is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ApiError(ErrorCode.MALFORMED_JSON, "The body must be a JSON object.")
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ApiError(ErrorCode.INVALID_REQUEST, problems) from exc
