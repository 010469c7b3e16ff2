"""The one error type handlers raise; the middleware turns it into the JSON error shape."""

from __future__ import annotations

from vigie.protocol import ErrorCode

STATUS: dict[ErrorCode, int] = {
    ErrorCode.MALFORMED_JSON: 400,
    ErrorCode.MALFORMED_REQUEST: 400,
    ErrorCode.INVALID_REQUEST: 422,
    ErrorCode.BODY_TOO_LARGE: 413,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.TOKEN_EXPIRED: 401,
    ErrorCode.BAD_CREDENTIALS: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.UNKNOWN_UNIT: 404,
    ErrorCode.UNKNOWN_QUESTION: 404,
    ErrorCode.UNKNOWN_CANDIDATE: 404,
    ErrorCode.UNKNOWN_CENTRE: 404,
    ErrorCode.UNIT_NOT_LAUNCHED: 409,
    ErrorCode.UNIT_ALREADY_LAUNCHED: 409,
    ErrorCode.UNIT_CLOSED: 409,
    ErrorCode.UNIT_NOT_CLOSED: 409,
    ErrorCode.UNIT_REPLACED: 409,
    ErrorCode.OUTSIDE_TIME_WINDOW: 409,
    ErrorCode.QUESTION_LOCKED: 409,
    ErrorCode.QUESTION_FINAL: 409,
    ErrorCode.INVALID_ANSWER: 422,
    ErrorCode.CENTRE_PAUSED: 409,
    ErrorCode.CANDIDATE_PAUSED: 409,
    ErrorCode.CANDIDATE_NOT_PAUSED: 409,
    ErrorCode.CENTRE_NOT_PAUSED: 409,
    ErrorCode.ACTION_ID_REUSED: 409,
    ErrorCode.UNIT_FINISHED: 409,
    ErrorCode.CURSOR_EXPIRED: 410,
    ErrorCode.CONNECTION_CAP: 503,
    ErrorCode.INJECTED_FAULT: 503,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
}


class ApiError(Exception):
    """A refused request: nothing was changed."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        retry_after: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = STATUS[code]
        self.headers = dict(headers or {})
        if retry_after is not None:
            self.headers["Retry-After"] = str(retry_after)
