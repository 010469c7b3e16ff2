"""One line of the procès-verbal, as the juror reads it: times on the exam's clock,
durations, causes, audit kinds and reasons in words (the page, the CSV, the HTML and the
PDF all render through here, and the candidate's timeline shares the words)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from supervision_dashboard.clock import stamp
from supervision_dashboard.i18n import t
from supervision_dashboard.rows import duration


def cause_text(reason: Any, lang: str) -> str:
    key = f"cause_{reason}"
    text = t(key, lang)
    return t("cause_unknown", lang) if text == key else text


def render_episode(ep: Mapping[str, Any], lang: str) -> dict[str, str]:
    if ep.get("end") is not None:
        end = stamp(ep.get("end"), ep.get("centre"))
    elif ep.get("unfinished"):
        end = t("pv_not_back", lang)
    else:
        end = t("pv_ongoing", lang)
    return {
        "candidate_id": str(ep.get("candidate_id", "")),
        "centre": str(ep.get("centre") or ""),
        "unit_id": str(ep.get("unit_id") or ""),
        "start": stamp(ep.get("start"), ep.get("centre")),
        "end": end,
        "duration": duration(num(ep.get("duration_s")), lang),
        "cause": cause_text(ep.get("cause"), lang),
    }


def num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def actor_text(actor: Any, lang: str) -> str:
    text = str(actor or "")
    if text.startswith("jury:"):
        return t("pv_actor_jury", lang, name=text.removeprefix("jury:"))
    return t("pv_actor_candidate", lang) if text == "candidate" else text


# The server writes a time ended early as a negative extra time whose reason it prefixes
# (in English, for its own log): the procès-verbal says it in words, with the jury's reason.
_ENDED_PREFIXES = ("time ended by the jury: ", "extra time ended at the close: ")


def ended_reason(reason: Any) -> str:
    text = str(reason or "")
    for prefix in _ENDED_PREFIXES:
        if text.startswith(prefix):
            return text.removeprefix(prefix)
    return text


def render_extra(item: Mapping[str, Any], lang: str) -> dict[str, str]:
    cid = item.get("candidate_id")
    # A centre grant is one decision: shown once, never summed over its candidates.
    target = str(cid) if cid else t("pv_whole_centre", lang, centre=item.get("centre") or "")
    seconds = num(item.get("seconds"))
    if seconds is not None and seconds < 0:  # their time ended early: what they lost
        shown = t("pv_time_ended", lang, d=duration(-seconds, lang))
    else:
        shown = duration(seconds, lang)
    return {
        "ts": stamp(item.get("ts"), item.get("centre")),
        "unit_id": str(item.get("unit_id") or ""),
        "target": target,
        "duration": shown,
        "reason": ended_reason(item.get("reason")),
        "actor": actor_text(item.get("actor"), lang),
    }


def event_details(kind: str, data: Any, lang: str) -> str:
    """What an audit event says, in words; answer contents are never part of it."""
    if not isinstance(data, Mapping):
        return ""
    parts: list[str] = []
    for key in ("unit_id", "question_id", "seconds", "text", "reason", "category"):
        value = data.get(key)
        if value in (None, ""):
            continue
        if key == "seconds":
            value = duration(num(value), lang)
        if key == "category":
            word = t(f"cat_{value}", lang)
            value = word if word != f"cat_{value}" else value
        parts.append(f"{t(f'pv_{key}', lang)} : {value}" if lang == "fr" else f"{key}: {value}")
    if kind == "disconnect" and data.get("reason"):
        parts = [cause_text(data.get("reason"), lang)]
    if kind == "launch" and data.get("deadline") is not None:
        parts.append(t("pv_deadline", lang, t=stamp(data.get("deadline"))))
    return " · ".join(str(p) for p in parts)


def kind_text(kind: Any, lang: str) -> str:
    key = f"kind_{kind}"
    text = t(key, lang)
    return str(kind) if text == key else text


def render_event(item: Mapping[str, Any], lang: str) -> dict[str, str]:
    kind = str(item.get("kind", ""))
    details = event_details(kind, item.get("data"), lang)
    cid = item.get("candidate_id")
    if cid:  # a candidate's own pause, resume or end of time: whose
        details = " · ".join(p for p in (f"{t('pv_candidate_id', lang)} : {cid}", details) if p)
    return {
        "ts": stamp(item.get("ts"), item.get("centre")),
        "kind": kind_text(kind, lang),
        "centre": str(item.get("centre") or t("national", lang)),
        "actor": actor_text(item.get("actor"), lang),
        "details": details,
    }


def render_fraud(item: Mapping[str, Any], lang: str) -> dict[str, str]:
    return {
        "ts": stamp(item.get("ts")),
        "candidate_id": str(item.get("candidate_id", "")),
        "centre": str(item.get("centre", "")),
        "path": str(item.get("path", ""))[:200],
    }
