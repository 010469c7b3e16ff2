"""The words of the candidate grids' room, seat and answer columns, the pending-answers alert
and the national banner of pauses and extensions, merged into
:mod:`supervision_dashboard.i18n`'s table: kept apart so that table stays readable."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # columns of the candidate grids
    "col_room": ("Salle", "Room"),
    "col_seat": ("Place", "Seat"),
    "col_last_answer": ("Dernière réponse", "Last answer"),
    "col_pending": ("Réponses en attente", "Answers pending"),
    # the centre view's room filter
    "room_filter": ("Salle", "Room"),
    "room_all": ("Toutes les salles", "Every room"),
    # the pending-answers alert (the 2023 database failure's first sign)
    "alert_pending": (
        "Réponses non reçues par le serveur : {cid} ({n} en attente sur la tablette connectée)",
        "Answers not reaching the server: {cid} ({n} pending on the connected tablet)",
    ),
    "group_pending": (
        "{n} tablette(s) aux réponses en attente",
        "{n} tablet(s) with answers pending",
    ),
    # the national banner of active pauses and extensions
    "banner_centres_paused": ("Centres en pause : {centres}", "Centres paused: {centres}"),
    "banner_candidates_paused": (
        "{n} candidat(s) en pause individuelle",
        "{n} candidate(s) paused alone",
    ),
    "banner_overtime": (
        "{n} candidat(s) composent au-delà de la fin nationale ({end}), jusqu'à {t}",
        "{n} candidate(s) working beyond the national end ({end}), until {t}",
    ),
}
