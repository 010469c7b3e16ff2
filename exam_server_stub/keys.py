"""Typed application state (``web.AppKey``)."""

from __future__ import annotations

from aiohttp import web

from .exam import Exam
from .faults import Faults
from .metrics import Metrics
from .settings import ServerSettings
from .store import Writer
from .tokens import TokenSigner

SETTINGS = web.AppKey("settings", ServerSettings)
EXAM = web.AppKey("exam", Exam)
METRICS = web.AppKey("metrics", Metrics)
SIGNER = web.AppKey("signer", TokenSigner)
WRITER = web.AppKey("writer", Writer)
FAULTS = web.AppKey("faults", Faults)
