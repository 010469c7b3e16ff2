"""Marks and ranking of every candidate: pure, from the answers, the keys and the rules.

Points are exact integers, so a tie is a real tie; the ranking follows the arrêté du 20
juillet 2015, art. 11 (:mod:`.marking` says how). The parts: :mod:`.sitting` (what a
correction reads), :mod:`.marking` (the correction and the ranking), :mod:`.document`
(the results, their marks as text and JSON), :mod:`.traces` (the trace for appeals),
:mod:`.table` (the stored answers as one column per question).
Every name is re-exported here, so that ``from vigie.correction.results import X`` keeps
working wherever ``X`` is defined.
"""

from __future__ import annotations

from .document import CandidateResult as CandidateResult
from .document import Results as Results
from .document import ratio_text as ratio_text
from .marking import correct as correct
from .marking import parse_answer as parse_answer
from .sitting import Decisions as Decisions
from .sitting import Neutralisation as Neutralisation
from .sitting import Person as Person
from .sitting import Replacement as Replacement
from .sitting import Sitting as Sitting
from .sitting import corrected_units as corrected_units
from .table import AnswerTable as AnswerTable
from .traces import TraceLine as TraceLine
from .traces import show_answer as show_answer
from .traces import show_key as show_key
from .traces import trace as trace

__all__ = [
    "AnswerTable",
    "CandidateResult",
    "Decisions",
    "Neutralisation",
    "Person",
    "Replacement",
    "Results",
    "Sitting",
    "TraceLine",
    "correct",
    "corrected_units",
    "parse_answer",
    "ratio_text",
    "show_answer",
    "show_key",
    "trace",
]
