"""The words of the jury's actions on one candidate (pause, resume, end of time) and of
the reason categories, merged into :mod:`supervision_dashboard.i18n`'s table: kept apart
so that table stays readable."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "act_pause_candidate": ("Suspendre le candidat", "Pause the candidate"),
    "act_resume_candidate": ("Reprendre le candidat", "Resume the candidate"),
    "act_end_candidate": ("Mettre fin au temps", "End their time now"),
    "cand_paused_alone": (
        "Candidat suspendu seul : son centre compose.",
        "Paused alone: their centre works on.",
    ),
    "cand_paused_both": (
        "Le centre {centre} est suspendu lui aussi : après « Reprendre », la tablette reste"
        " en pause jusqu'à la reprise du centre.",
        "Centre {centre} is paused too: after « Resume » the tablet stays paused until the"
        " centre resumes.",
    ),
    "cand_centre_paused": (
        "Le centre {centre} est suspendu : le candidat l'est avec lui. « Suspendre » le garde"
        " en pause après la reprise du centre.",
        "Centre {centre} is paused, and the candidate with it. « Pause » keeps them paused"
        " after the centre resumes.",
    ),
    "confirm_end": (
        "Confirmer : mettre fin au temps de {cid} ({centre}) maintenant, sur l'épreuve {unit}."
        " {cid} perd {lost} de composition (fin prévue à {deadline}) et sa tablette termine"
        " l'épreuve. Cette décision est définitive. Motif : {reason}",
        "Confirm: end {cid}'s time ({centre}) now, on unit {unit}. {cid} loses {lost} of"
        " working time (due to end at {deadline}) and their tablet ends the unit. This cannot"
        " be undone. Reason: {reason}",
    ),
    "end_not_running": (
        "Le temps de ce candidat n'est pas en cours : rien à terminer.",
        "This candidate's time is not running: nothing to end.",
    ),
    "done_end": (
        "Temps de {cid} terminé : {lost} perdue(s).",
        "{cid}'s time ended: {lost} lost.",
    ),
    "category": ("Catégorie du motif", "Reason category"),
    "category_none": ("Catégorie (facultative)", "Category (optional)"),
    "category_invalid": ("Catégorie inconnue.", "Unknown category."),
    "cat_environment": ("Environnement", "Environment"),
    "cat_candidate": ("Candidat", "Candidate"),
    "cat_staff": ("Personnel", "Staff"),
    "cat_technical": ("Technique", "Technical"),
    "pv_category": ("Catégorie", "Category"),
    "pv_candidate_pauses": ("Suspensions individuelles", "Individual pauses"),
    "pv_time_ended": ("fin du temps : {d} retirée(s)", "time ended: {d} removed"),
    "pv_times_ended": ("Fins de temps imposées", "Times ended early"),
    # the server's refusals of these actions (vigie.protocol.ErrorCode values)
    "err_candidate_paused": ("Le candidat est déjà suspendu.", "The candidate is already paused."),
    "err_candidate_not_paused": (
        "Le candidat n'est pas suspendu (seul) : rien à reprendre.",
        "The candidate is not paused on their own: nothing to resume.",
    ),
    "err_centre_not_paused": (
        "Le centre n'est pas suspendu : rien à reprendre.",
        "The centre is not paused: nothing to resume.",
    ),
    "err_unit_finished": (
        "Le candidat a déjà terminé l'épreuve.",
        "The candidate already finished the unit.",
    ),
    "err_outside_time_window": (
        "Le temps du candidat est déjà écoulé.",
        "The candidate's time is already over.",
    ),
    # audit kinds, as the timeline and the procès-verbal name them
    "kind_candidate_pause": ("Suspension du candidat", "Candidate paused"),
    "kind_candidate_resume": ("Reprise du candidat", "Candidate resumed"),
    "kind_end_time": ("Fin du temps imposée par le jury", "Time ended by the jury"),
}
