"""The jury's documents: état récapitulatif des notes and classement (CSV, printable HTML),
the results as JSON, and a candidate's trace for appeals.

Byte-identical for the same inputs: no clock, no path, no dict order left to chance.
CSV files follow the French spreadsheet convention (``;`` separator, decimal comma).
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import orjson

from .results import CandidateResult, Results, TraceLine

RECAP = "etat-recapitulatif"
RANKING = "classement"


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


def _yes(flag: bool) -> str:
    return "oui" if flag else "non"


def recap_header(r: Results) -> list[str]:
    cols = ["Candidat", "Centre", "Date de naissance"]
    for u in r.units:
        cols += [f"{u.id} présent", f"{u.id} points", f"{u.id} /{r.rules.mark_scale}"]
    s = r.rules.mark_scale
    cols += [f"Rang A /{s}", f"Rang B /{s}", f"Note globale /{s}",
             f"Rang A ≥ {_plain(r.rules.rank_a_minimum)}/{s}", "Part EDN /100", "Rang"]  # fmt: skip
    return cols


def recap_row(r: Results, c: CandidateResult) -> list[str]:
    row = [c.candidate_id, c.person.centre, c.person.birth_date]
    for pts, m, p in zip(c.unit_points, r.unit_max, c.present, strict=True):
        row += [_yes(p), r.points_text(pts, True), r.mark_text(pts, m, True)]
    row += [
        r.mark_text(c.rank_a, r.rank_a_max, True),
        r.mark_text(c.rank_b, r.rank_b_max, True),
        r.mark_text(c.total, r.total_max, True),
        _yes(r.meets_rank_a_minimum(c)),
        r.matching_share_text(c, True),
        str(c.rank) if c.rank is not None else "non classé",
    ]
    return row


def ranking_header(r: Results) -> list[str]:
    s = r.rules.mark_scale
    return ["Rang", "Candidat", "Centre", f"Note globale /{s}",
            *(f"{u.id} /{s}" for u in r.units), "Date de naissance", "Départagé par",
            f"Rang A ≥ {_plain(r.rules.rank_a_minimum)}/{s}"]  # fmt: skip


def ranking_row(r: Results, c: CandidateResult) -> list[str]:
    return [
        str(c.rank),
        c.candidate_id,
        c.person.centre,
        r.mark_text(c.total, r.total_max, True),
        *(r.mark_text(p, m, True) for p, m in zip(c.unit_points, r.unit_max, strict=True)),
        c.person.birth_date,
        c.decided_by,
        _yes(r.meets_rank_a_minimum(c)),
    ]


def recap_rows(r: Results) -> list[list[str]]:
    return [recap_row(r, c) for c in r.candidates]


def ranking_rows(r: Results) -> list[list[str]]:
    return [ranking_row(r, c) for c in r.ranking]


def recap_csv(r: Results, rows: list[list[str]] | None = None) -> str:
    return _csv(recap_header(r), rows if rows is not None else recap_rows(r))


def ranking_csv(r: Results, rows: list[list[str]] | None = None) -> str:
    return _csv(ranking_header(r), rows if rows is not None else ranking_rows(r))


TRACE_HEADER = ["Unité", "Question", "Format", "Rang", "Poids", "Réponse", "Corrigé",
                "Discordances", "Points", "Règle appliquée"]  # fmt: skip


def trace_csv(lines: Sequence[TraceLine]) -> str:
    return _csv(
        TRACE_HEADER,
        (
            [
                t.unit_id,
                t.question_id,
                t.format,
                t.rank,
                str(t.weight),
                t.answer,
                t.key,
                "" if t.discordances is None else str(t.discordances),
                t.points.replace(".", ","),
                t.rule,
            ]
            for t in lines
        ),
    )


def trace_json(lines: Sequence[TraceLine]) -> list[dict[str, Any]]:
    return [
        {
            "unit_id": t.unit_id,
            "question_id": t.question_id,
            "format": t.format,
            "rank": t.rank,
            "weight": t.weight,
            "answer": t.answer,
            "key": t.key,
            "discordances": t.discordances,
            "points": t.points,
            "rule": t.rule,
        }
        for t in lines
    ]


ANALYSIS_HEADER = ["Unité", "Question", "Format", "Rang", "Poids", "Présents", "Réponses",
                   "Réussite", "Discrimination", "À examiner"]  # fmt: skip


def analysis_csv(analysis: dict[str, Any]) -> str:
    return _csv(
        ANALYSIS_HEADER,
        (
            [q["unit_id"], q["question_id"], q["format"], q["rank"], str(q["weight"]),
             str(q["present"]), str(q["answered"]), f"{q['success']:.4f}".replace(".", ","),
             f"{q['discrimination']:.4f}".replace(".", ","), ", ".join(q["flags"])]
            for q in analysis["questions"]
        ),
    )  # fmt: skip


def dump_json(doc: Any) -> str:
    """Sorted keys, two-space indent, UTF-8 as is: stable bytes (orjson: the stdlib's
    indenting encoder is pure Python, seconds for 12,000 candidates)."""
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"


def results_json(r: Results) -> str:
    return dump_json(r.to_json())


# --- printable HTML ----------------------------------------------------------------------
_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; margin: 1.5cm; color: #000; }
h1 { font-size: 15pt; margin: 0 0 .3em; } h2 { font-size: 11pt; margin: 1em 0 .3em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #555; padding: 2px 4px; }
th { background: #e8e8e8; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
thead { display: table-header-group; } tr { page-break-inside: avoid; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 1em; margin: 0; }
dt { font-weight: bold; } .sign { margin-top: 2em; display: flex; gap: 4em; }
.sign div { border-top: 1px solid #000; padding-top: .3em; min-width: 18em; }
@media print { body { margin: 0; } @page { size: A4 landscape; margin: 1.2cm; } }
""".strip()


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _meta(r: Results) -> str:
    rules = r.rules
    items = [
        ("Règles de correction", f"{rules.name} version {rules.version} (sha256 {rules.sha256[:16]}…)"),
        ("Épreuves corrigées", ", ".join(
            f"{u.id} « {u.title} » ({len(u.questions)} questions, barème {_plain(Fraction(m, rules.unit))} points)"
            for u, m in zip(r.units, r.unit_max, strict=True))),
        ("Source", _source(r)),
        ("Candidats", f"{len(r.candidates)} inscrits, {len(r.ranking)} classés"),
        ("Note minimale de rang A", f"{_plain(rules.rank_a_minimum)}/{rules.mark_scale}"),
    ]  # fmt: skip
    decisions = [
        f"question {n.question_id} neutralisée : {n.reason} ({n.actor})"
        for n in r.decisions.neutralised
    ] + [
        f"épreuve {p.unit_id} annulée, remplacée par {p.backup_id} : {p.reason} ({p.actor})"
        for p in r.decisions.replacements
    ]
    items.append(("Décisions du jury", "; ".join(decisions) if decisions else "aucune"))
    if rules.neutralised == "full_credit":
        items.append(("Question neutralisée", "crédit plein à chaque candidat"))
    else:
        items.append(("Question neutralisée", "retirée du barème"))
    return "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items) + "</dl>"


def _numeric(header: Sequence[str]) -> set[int]:
    """Columns right-aligned: marks, points, ranks."""
    marks = {i for i, h in enumerate(header) if "/" in h and "≥" not in h}
    return marks | {i for i, h in enumerate(header) if h == "Rang" or h.endswith(" points")}


def _plain(value: Fraction) -> str:
    """A whole number as such, else with a decimal comma."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):g}".replace(".", ",")


def _source(r: Results) -> str:
    src = r.source
    if not src:
        return "—"
    return (
        f"base {src.get('database', '?')}, graine {src.get('seed', '?')}, "
        f"{src.get('answer_rows', '?')} réponses enregistrées lues "
        f"(dernier numéro {src.get('last_answer_seq', '?')})"
    )


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    out = ["<table><thead><tr>", *(f"<th>{_e(h)}</th>" for h in header), "</tr></thead><tbody>"]
    for row in rows:
        cells = (
            f'<td class="n">{_e(v)}</td>' if i in numeric else f"<td>{_e(v)}</td>"
            for i, v in enumerate(row)
        )
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _page(title: str, r: Results, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="fr">\n<head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>\n{_CSS}\n</style></head>\n<body>\n"
        f"<h1>{_e(title)}</h1>\n{_meta(r)}\n{body}\n"
        '<div class="sign"><div>Le président du jury</div><div>Date et signature</div></div>\n'
        "</body>\n</html>\n"
    )


def recap_html(r: Results, rows: list[list[str]] | None = None) -> str:
    body = "<h2>Notes par candidat</h2>\n" + _table(
        recap_header(r), rows if rows is not None else recap_rows(r), _numeric(recap_header(r))
    )
    return _page("État récapitulatif des notes", r, body)


def ranking_html(r: Results, rows: list[list[str]] | None = None) -> str:
    body = "<h2>Classement par ordre de mérite</h2>\n" + _table(
        ranking_header(r),
        rows if rows is not None else ranking_rows(r),
        _numeric(ranking_header(r)),
    )
    return _page("Classement par ordre de mérite", r, body)


def write_all(r: Results, out: Path, analysis: dict[str, Any] | None = None) -> list[Path]:
    """The four jury documents, the JSON results (and question analysis); the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    recap, ranking = recap_rows(r), ranking_rows(r)
    docs = {
        f"{RECAP}.csv": recap_csv(r, recap),
        f"{RECAP}.html": recap_html(r, recap),
        f"{RANKING}.csv": ranking_csv(r, ranking),
        f"{RANKING}.html": ranking_html(r, ranking),
        "resultats.json": results_json(r),
    }
    if analysis is not None:
        docs["analyse-questions.csv"] = analysis_csv(analysis)
        docs["analyse.json"] = dump_json(analysis)
    paths = []
    for name, text in docs.items():
        p = out / name
        p.write_text(text, encoding="utf-8", newline="\n")
        paths.append(p)
    return paths
