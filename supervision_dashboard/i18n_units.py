"""The words of the national jury's unit controls (launch, close, replace), merged into
:mod:`supervision_dashboard.i18n`'s table: kept apart so that table stays readable."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "units_title": ("Épreuves de la session", "The session's units"),
    "units_hint": (
        "Lancement et clôture pour tous les centres à la fois : un motif est obligatoire, "
        "chaque décision est confirmée puis enregistrée par le serveur à votre nom.",
        "Launch and close for every centre at once: a reason is required, each decision is "
        "confirmed, then recorded by the server in your name.",
    ),
    "units_national_only": (
        "Le lancement, la clôture et le remplacement des épreuves sont réservés au jury national.",
        "Launching, closing and replacing units is for the national jury only.",
    ),
    "units_col_unit": ("Épreuve", "Unit"),
    "units_col_state": ("État", "State"),
    "units_col_times": ("Horaires", "Times"),
    "units_col_action": ("Action", "Action"),
    "unit_state_not_launched": ("Non lancée", "Not launched"),
    "unit_state_running": ("En cours", "Running"),
    "unit_state_closed": ("Close", "Closed"),
    "unit_state_replaced": ("Annulée et remplacée", "Cancelled and replaced"),
    "unit_times_running": (
        "lancée à {launch} · fin nationale prévue à {deadline}",
        "launched at {launch} · national end at {deadline}",
    ),
    "unit_times_closed": (
        "lancée à {launch} · close à {close}",
        "launched {launch} · closed {close}",
    ),
    "unit_replaced_by": ("remplacée par {backup}", "replaced by {backup}"),
    "unit_replaces": (
        "épreuve de secours : compte à la place de {unit}",
        "backup unit: counts instead of {unit}",
    ),
    "unit_working": (
        "{n} candidat(s) composent encore sur leur temps supplémentaire (jusqu'à {t})",
        "{n} candidate(s) still work on their extra time (until {t})",
    ),
    "launch_warn_working": (
        "Attention : {n} candidat(s) composent encore sur leur temps supplémentaire de {unit}, "
        "jusqu'à {t} ({who}) : le serveur refusera ce lancement avant la fin de leur temps.",
        "Warning: {n} candidate(s) still work on their extra time of {unit}, until {t} "
        "({who}): the server will refuse this launch until their time is over.",
    ),
    "unit_launch": ("Lancer", "Launch"),
    "unit_close": ("Clore", "Close"),
    "units_unreadable": (
        "État des épreuves indisponible : {why}",
        "The units' state is unavailable: {why}",
    ),
    "confirm_launch": (
        "Lancer l'épreuve {unit} ({title}, {duration}) maintenant, dans tous les centres. "
        "Les sujets téléchargés s'ouvrent sur les {n} tablettes connectées ; chaque candidat "
        "reçoit son tiers-temps prévu. Motif : {reason}",
        "Launch unit {unit} ({title}, {duration}) now, in every centre. The downloaded "
        "subjects open on the {n} connected tablets; each candidate gets their planned extra "
        "time. Reason: {reason}",
    ),
    "confirm_close": (
        "Clore l'épreuve {unit} ({title}) maintenant, dans tous les centres : le temps "
        "national s'arrête. {who} Motif : {reason}",
        "Close unit {unit} ({title}) now, in every centre: the national time stops. {who} "
        "Reason: {reason}",
    ),
    "close_keeps_none": (
        "Aucun candidat n'a de temps supplémentaire : l'épreuve se termine pour tous.",
        "No candidate has extra time: the unit ends for everyone.",
    ),
    "close_keeps": (
        "{n} candidat(s) gardent leur temps supplémentaire et composent après la clôture : {who}.",
        "{n} candidate(s) keep their extra time and work on after the close: {who}.",
    ),
    "overtime_item": ("{cid} ({centre}, +{d})", "{cid} ({centre}, +{d})"),
    "and_more": ("… et {n} autres", "… and {n} more"),
    "done_launch": (
        "Épreuve {unit} lancée ; fin nationale prévue à {deadline}.",
        "Unit {unit} launched; national end at {deadline}.",
    ),
    "done_close": ("Épreuve {unit} close à {t}. {who}", "Unit {unit} closed at {t}. {who}"),
    "done_close_none": (
        "Aucun candidat ne compose après la clôture.",
        "Nobody works on after the close.",
    ),
    "done_close_keeps": (
        "{n} candidat(s) composent encore sur leur temps supplémentaire : {who}.",
        "{n} candidate(s) still work on their extra time: {who}.",
    ),
    "overtime_until": ("{cid} (jusqu'à {t})", "{cid} (until {t})"),
    "unit_not_actionable": (
        "Cette action ne s'applique plus à l'épreuve {unit} ({state}).",
        "This action no longer applies to unit {unit} ({state}).",
    ),
    "launch_refused_already": (
        "Cette épreuve a déjà été lancée.",
        "This unit was already launched.",
    ),
    "launch_refused_other": (
        "L'épreuve {unit} est en cours : closez-la avant d'en lancer une autre.",
        "Unit {unit} is running: close it before launching another.",
    ),
    "launch_refused_overtime": (
        "Des candidats composent encore sur leur temps supplémentaire de l'épreuve "
        "précédente : lancement refusé jusqu'à la fin de leur temps.",
        "Candidates still work on their extra time of the previous unit: launch refused "
        "until their time is over.",
    ),
    "err_unit_replaced": (
        "Cette épreuve fait déjà partie d'un remplacement (une seule fois par épreuve).",
        "This unit is already part of a replacement (once per unit).",
    ),
    "err_unknown_unit": ("Épreuve inconnue du serveur.", "Unknown unit."),
    # the replacement, on the results page
    "replace_title": (
        "Remplacer une épreuve annulée par une épreuve de secours",
        "Replace a cancelled unit with a backup unit",
    ),
    "replace_cancelled": ("Épreuve annulée", "Cancelled unit"),
    "replace_backup": ("Épreuve de secours", "Backup unit"),
    "replace_known": (
        "{unit} annulée : {backup} compte à sa place.",
        "{unit} cancelled: {backup} counts in its place.",
    ),
    "replace_pick": ("Choisir une épreuve…", "Choose a unit…"),
    "replace_button": ("Remplacer", "Replace"),
    "replace_choose": (
        "Choisissez l'épreuve annulée et l'épreuve de secours.",
        "Choose the cancelled unit and the backup unit.",
    ),
    "replace_same": (
        "L'épreuve de secours doit être une autre épreuve.",
        "The backup must be another unit.",
    ),
    "replace_confirm": (
        "Annuler l'épreuve {unit} ({title}) et compter à sa place l'épreuve de secours "
        "{backup} ({btitle}), composée à part. {unit} ne comptera plus pour aucun candidat ; "
        "{backup} compte à sa place (notes, rangs A et B, départages) dans tous les résultats "
        "suivants. Décision définitive, une seule fois par épreuve. Motif : {reason}",
        "Cancel unit {unit} ({title}) and count backup unit {backup} ({btitle}), sat in its "
        "own time, in its place. {unit} no longer counts for any candidate; {backup} counts "
        "instead (marks, rank A and B, tie rules) in every later result. Final, once per "
        "unit. Reason: {reason}",
    ),
    "replace_done": (
        "Épreuve {unit} annulée : {backup} compte à sa place (décision de {actor}).",
        "Unit {unit} cancelled: {backup} counts in its place (decided by {actor}).",
    ),
    "replace_wait": (
        "Les résultats seront calculés une fois {backup} composée et close.",
        "The results will be computed once {backup} has been sat and closed.",
    ),
    "unit_option": ("{unit} — {title} ({state})", "{unit} — {title} ({state})"),
}
