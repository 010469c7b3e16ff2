"""Every word the jury reads, in French (default) and English: the one place to translate.

The users are French medical professors on exam day, so the French column uses the
jury's own vocabulary (« Candidats », « Temps supplémentaire », « Procès-verbal »).
"""

from __future__ import annotations

from typing import Literal

from supervision_dashboard.i18n_candidate import TEXTS as _CANDIDATE_TEXTS
from supervision_dashboard.i18n_grid import TEXTS as _GRID_TEXTS
from supervision_dashboard.i18n_units import TEXTS as _UNIT_TEXTS

Lang = Literal["fr", "en"]
LANGS: tuple[Lang, ...] = ("fr", "en")
DEFAULT_LANG: Lang = "fr"

_TABLE: dict[str, tuple[str, str]] = {
    # states (vigie.protocol.CandidateState values)
    "not_connected": ("Non connecté", "Not connected"),
    "waiting": ("En attente", "Waiting"),
    "in_progress": ("En composition", "In progress"),
    # « En retard » read as "arrived late": what is late is the tablet's signal.
    "late": ("Signal tardif", "Late"),
    "lost": ("Déconnecté", "Lost"),
    "paused": ("En pause", "Paused"),
    "finished": ("Terminé", "Finished"),
    "unfinished": ("Non terminé", "Not finished"),
    # connection, a fact apart from the state (a paused centre's tablet can be lost)
    "col_connection": ("Connexion", "Connection"),
    "conn_on": ("Connectée", "Connected"),
    "conn_off": ("Déconnectée", "Disconnected"),
    "conn_never": ("Jamais connectée", "Never connected"),
    "centre_paused": ("centre en pause", "centre paused"),
    "last_seen": ("vu à {t}", "last seen {t}"),
    "count_connected": ("tablettes connectées", "tablets connected"),
    # roles
    "role_national": ("Jury national", "National jury"),
    "role_centre": ("Jury de centre", "Centre jury"),
    "role_observer": ("Observateur", "Observer"),
    # chrome
    "title": ("Vigie · supervision nationale", "Vigie · national supervision"),
    "login": ("Connexion", "Log in"),
    "logout": ("Déconnexion", "Log out"),
    "username": ("Identifiant", "Username"),
    "password": ("Mot de passe", "Password"),
    "bad_credentials": ("Identifiant ou mot de passe incorrect.", "Wrong username or password."),
    "csrf_failed": (
        "Formulaire expiré : reconnectez-vous depuis cette page.",
        "This form expired: log in again from this page.",
    ),
    "server_unreachable": ("Serveur d'examen injoignable.", "Exam server unreachable."),
    "national_view": ("Vue nationale", "National view"),
    "centre_view": ("Vue du centre", "Centre view"),
    "candidate_view": ("Candidat", "Candidate"),
    "report": ("Procès-verbal", "Incident report"),
    # results (national jury, once the units are closed)
    "results": ("Résultats", "Results"),
    "results_title": ("Résultats et analyse des questions", "Results and question analysis"),
    "results_national_only": (
        "Les résultats sont réservés au jury national.",
        "Results are for the national jury only.",
    ),
    "results_refresh": ("Recalculer", "Recompute"),
    "results_summary": (
        "Règles {rules} (version {version}) · {candidates} candidats, {ranked} classés · "
        "correction en {seconds} s",
        "Rules {rules} (version {version}) · {candidates} candidates, {ranked} ranked · "
        "corrected in {seconds} s",
    ),
    "results_no_decision": ("Aucune décision du jury appliquée.", "No jury decision applied."),
    "results_decision": (
        "{question} neutralisée par {actor} : {reason}",
        "{question} neutralised by {actor}: {reason}",
    ),
    "results_replacement": (
        "{unit} remplacée par {backup} ({actor}) : {reason}",
        "{unit} replaced by {backup} ({actor}): {reason}",
    ),
    "results_marks": ("Distribution des notes (sur 20)", "Distribution of marks (out of 20)"),
    "results_unit_stats": (
        "{unit} : {present} présents, moyenne {mean}, écart type {sd}",
        "{unit}: {present} present, mean {mean}, SD {sd}",
    ),
    "results_questions": ("Analyse des questions (docimologie)", "Question analysis"),
    "results_look": ("{n} question(s) à examiner : {ids}", "{n} question(s) to look at: {ids}"),
    "results_look_none": ("Aucune question à examiner.", "No question to look at."),
    "results_hint": (
        "Choisissez une question dans le tableau, donnez le motif, puis neutralisez-la.",
        "Pick a question in the table, give the reason, then neutralise it.",
    ),
    "results_neutralise": ("Neutraliser la question", "Neutralise the question"),
    "results_choose": ("Choisissez d'abord une question.", "Pick a question first."),
    "results_confirm": (
        "Neutraliser {question} ? Motif : {reason}. Les notes et le classement seront "
        "recalculés ; la décision est enregistrée à votre nom.",
        "Neutralise {question}? Reason: {reason}. Marks and ranking will be recomputed; the "
        "decision is recorded under your name.",
    ),
    "results_done": (
        "{question} neutralisée ; résultats recalculés.",
        "{question} neutralised; results recomputed.",
    ),
    "results_docs": ("Documents à signer", "Documents to sign"),
    "doc_ranking_html": ("Classement (à imprimer)", "Ranking (printable)"),
    "doc_ranking_csv": ("Classement (CSV)", "Ranking (CSV)"),
    "doc_recap_html": ("État récapitulatif des notes (à imprimer)", "Marks summary (printable)"),
    "doc_recap_csv": ("État récapitulatif (CSV)", "Marks summary (CSV)"),
    "err_unit_not_closed": (
        "Les résultats seront disponibles après la clôture des épreuves.",
        "Results are available once the units are closed.",
    ),
    "col_question_id": ("Question", "Question"),
    "col_unit": ("Épreuve", "Unit"),
    "col_format": ("Format", "Format"),
    "col_rank": ("Rang A/B", "Rank A/B"),
    "col_weight": ("Coefficient", "Weight"),
    "col_answered": ("Réponses", "Answers"),
    "col_success": ("Réussite %", "Success %"),
    "col_discrimination": ("Discrimination", "Discrimination"),
    "col_flags": ("À examiner", "To look at"),
    "candidates": ("Candidats", "Candidates"),
    "centre": ("Centre", "Centre"),
    "national": ("National", "National"),
    "total": ("Total", "Total"),
    "incidents": ("Incidents", "Incidents"),
    "only_incidents": ("Incidents seulement", "Incidents only"),
    "no_incident_now": ("Aucun incident en cours.", "No incident now."),
    "no_candidate": ("Aucun candidat.", "No candidate."),
    "alerts": ("Alertes", "Alerts"),
    "no_alert": ("Aucune alerte.", "No alert."),
    "feed_waiting": ("Connexion au flux du serveur…", "Connecting to the server feed…"),
    "feed_stale": ("Flux interrompu depuis {s} s", "Feed interrupted for {s} s"),
    "updated": ("Mis à jour {t}", "Updated {t}"),
    "local_time": (" — heure locale {t} ({zone})", " — local time {t} ({zone})"),
    "banner_stale": (
        "Flux du serveur d'examen interrompu depuis {s} s : les chiffres affichés datent de {t}"
        " et ne sont plus à jour.",
        "The exam server's feed has been interrupted for {s} s: the figures shown date from {t}"
        " and are no longer current.",
    ),
    "banner_never": (
        "Serveur d'examen injoignable : aucune donnée reçue.",
        "Exam server unreachable: no data received.",
    ),
    "search_placeholder": ("Rechercher un candidat…", "Find a candidate…"),
    "search_none": ("Aucun candidat ne correspond.", "No candidate matches."),
    "heatmap": ("Carte des candidats par centre", "Candidates by centre"),
    # grid columns
    "col_id": ("Candidat", "Candidate"),
    "col_state": ("État", "State"),
    "col_age": ("Dernier signal", "Last heartbeat"),
    "col_question": ("Question", "Question"),
    "col_progress": ("Progression", "Progress"),
    "col_left": ("Temps restant", "Time left"),
    "col_extra": ("Temps suppl.", "Extra time"),
    "col_planned": ("Tiers-temps", "Planned extra"),
    "col_incident": ("Temps d'incident", "Incident time"),
    "col_to_grant": ("Incident à accorder", "Incident to grant"),
    "planned_missing_cell": ("⚠ {have} / {d} dus", "⚠ {have} of {d} due"),
    "col_battery": ("Batterie", "Battery"),
    "col_reconnects": ("Reconnexions", "Reconnects"),
    "col_disconnected": ("Temps déconnecté", "Time disconnected"),
    # candidate view
    "timeline": ("Journal d'audit", "Audit timeline"),
    "fraud_alerts": ("Tentatives de fraude", "Fraud attempts"),
    "ts_server": ("Horodatage serveur", "Server time"),
    "ts_client": ("Horodatage tablette", "Tablet time"),
    "event": ("Événement", "Event"),
    "actor": ("Auteur", "Actor"),
    "details": ("Détails", "Details"),
    "no_fraud": ("Aucune tentative de fraude.", "No fraud attempt."),
    "reveal_answers": (
        "Afficher / masquer le contenu des réponses",
        "Show / hide the answers' contents",
    ),
    "reveal_note": (
        "(jury national ; chaque consultation est tracée)",
        "(national jury; each reveal is audited)",
    ),
    "answer_content": ("Réponse", "Answer"),
    "answer_final": ("validée", "final"),
    "acked": ("{n} consigne(s) confirmée(s) par la tablette", "{n} instruction(s) confirmed"),
    # actions
    "actions": ("Actions du jury", "Jury actions"),
    "act_extra_candidate": (
        "Temps supplémentaire (candidat)",
        "Extra time (candidate)",
    ),
    "act_extra_centre": ("Temps supplémentaire (centre)", "Extra time (centre)"),
    "act_incident_centre": (
        "Accorder le temps d'incident proposé (centre)",
        "Grant the proposed incident time (centre)",
    ),
    "incident_proposed": (
        "Proposé : {n} candidat(s), {d} au total (temps déconnecté, arrondi à la minute)",
        "Proposed: {n} candidate(s), {d} in all (time disconnected, rounded up to the minute)",
    ),
    "incident_none": ("Aucun temps d'incident à accorder.", "No incident time to grant."),
    "act_pause": ("Suspendre le centre", "Pause the centre"),
    "act_resume": ("Reprendre le centre", "Resume the centre"),
    "act_message": ("Message au centre", "Message to the centre"),
    "act_message_candidate": ("Message au candidat", "Message to the candidate"),
    "minutes": ("Minutes", "Minutes"),
    "proposed_extra": (
        "Proposé : {m} min de temps supplémentaire d'incident (déconnecté {d} depuis le"
        " dernier signal)",
        "Proposed: {m} min of incident extra time (disconnected {d} since the last heartbeat)",
    ),
    "choose_action": ("Choisir une action.", "Choose an action."),
    "reason": ("Motif (obligatoire)", "Reason (required)"),
    "message_text": ("Texte du message", "Message text"),
    "submit": ("Valider", "Submit"),
    "confirm": (
        "Confirmer : {what} — {target}. Motif : {reason}",
        "Confirm: {what} — {target}. Reason: {reason}",
    ),
    "reason_required": ("Le motif est obligatoire.", "A reason is required."),
    "minutes_required": (
        "Indiquer un nombre de minutes positif.",
        "Give a positive number of minutes.",
    ),
    "text_required": ("Le message est vide.", "The message is empty."),
    "done": ("Action enregistrée : {what}.", "Action recorded: {what}."),
    "refused": ("Refusé par le serveur : {msg}", "Refused by the server: {msg}"),
    "refused_code": ("Refusé par le serveur (code {code}).", "Refused by the server ({code})."),
    # the server's refusals (vigie.protocol.ErrorCode values), in words
    "err_forbidden": (
        "Action non autorisée pour ce rôle ou ce centre.",
        "Not allowed for this role or centre.",
    ),
    "err_unauthenticated": (
        "Session expirée : reconnectez-vous.",
        "Session expired: log in again.",
    ),
    "err_token_expired": ("Session expirée : reconnectez-vous.", "Session expired: log in again."),
    "err_unit_not_launched": ("Aucune épreuve en cours.", "No unit is running."),
    "err_unit_closed": ("L'épreuve est close.", "The unit is closed."),
    "err_unit_already_launched": ("Une épreuve est déjà en cours.", "A unit is already running."),
    "err_centre_paused": ("Le centre est déjà suspendu.", "The centre is already paused."),
    "err_unknown_candidate": ("Candidat inconnu.", "Unknown candidate."),
    "err_unknown_centre": ("Centre inconnu.", "Unknown centre."),
    "err_invalid_request": (
        "Demande refusée par le serveur (données invalides ou action sans objet).",
        "Request refused by the server (invalid or pointless).",
    ),
    "err_cursor_expired": ("Flux à recharger.", "Feed to reload."),
    "no_unit": ("Aucune épreuve en cours.", "No unit in progress."),
    # alerts
    "alert_lost": ("Tablette déconnectée : {cid}", "Tablet lost: {cid}"),
    "alert_loop": (
        "Boucle de reconnexion : {cid} ({n} reconnexions en {m} min)",
        "Reconnect loop: {cid} ({n} reconnects in {m} min)",
    ),
    "alert_mass": (
        "Centre {centre} : {n} tablettes perdues simultanément ({pct} %)",
        "Centre {centre}: {n} tablets lost at once ({pct}%)",
    ),
    "alert_fraud": ("Tentative de fraude : {cid} → {path}", "Fraud attempt: {cid} → {path}"),
    "alert_planned": (
        "Tiers-temps non appliqué : {cid} (échéance sans ses {m} min prévues)",
        "Planned extra time missing: {cid} (deadline without their {m} min)",
    ),
    "alert_battery": (
        "Batterie faible : {cid} ({pct} %), apporter un chargeur",
        "Low battery: {cid} ({pct}%), bring a charger",
    ),
    "group_battery": ("{n} batterie(s) faible(s)", "{n} low battery alert(s)"),
    "group_planned": ("{n} tiers-temps non appliqué(s)", "{n} planned extra time missing"),
    "group_mass": ("{n} perte(s) simultanée(s)", "{n} mass loss(es)"),
    "group_lost": ("{n} tablette(s) déconnectée(s)", "{n} tablet(s) lost"),
    "group_loop": ("{n} boucle(s) de reconnexion", "{n} reconnect loop(s)"),
    "group_fraud": ("{n} tentative(s) de fraude", "{n} fraud attempt(s)"),
    "since": ("depuis {d}", "for {d}"),
    "ack": ("Pris en compte", "Acknowledge"),
    "acked_by": ("pris en compte par {who} à {t}", "acknowledged by {who} at {t}"),
    # report
    "report_title": ("Procès-verbal d'incidents", "Incident report"),
    "report_incidents": ("Incidents (déconnexions)", "Incidents (disconnections)"),
    "report_extra": ("Temps supplémentaire accordé", "Extra time granted"),
    "report_events": (
        "Événements (lancements, clôtures, suspensions, messages)",
        "Events (launches, closes, pauses, messages)",
    ),
    "report_fraud": ("Alertes de fraude", "Fraud alerts"),
    "pv_summary": ("Synthèse par centre", "Summary per centre"),
    "pv_generated": ("Établi le", "Generated on"),
    "pv_unit_times": (
        "Lancement : {launch} · fin nationale prévue : {deadline} · clôture : {close}",
        "Launched: {launch} · national end: {deadline} · closed: {close}",
    ),
    "pv_not_closed": ("non close", "not closed"),
    "pv_all_units": (
        "Toutes les épreuves de la journée : {units}",
        "Every unit of the day: {units}",
    ),
    "pv_by_unit": ("Par épreuve :", "Per unit:"),
    "export_pdf": ("PDF", "PDF"),
    "pv_signatures": ("Membres du jury et signatures", "Jury members and signatures"),
    "pv_member": ("Nom", "Name"),
    "pv_quality": ("Qualité", "Role"),
    "pv_signature": ("Signature", "Signature"),
    "pv_centre": ("Centre", "Centre"),
    "pv_candidates": ("Candidats", "Candidates"),
    "pv_incidents": ("Incidents", "Incidents"),
    "pv_unfinished": ("Non terminés", "Not finished"),
    "pv_time_disconnected": ("Temps déconnecté (total)", "Time disconnected (total)"),
    "pv_reconnects": ("Reconnexions", "Reconnects"),
    "pv_extra_centre": ("Temps suppl. du centre", "Centre extra time"),
    "pv_extra_candidates": ("Temps suppl. individuels", "Individual extra time grants"),
    "pv_candidate_id": ("Candidat", "Candidate"),
    "pv_unit_id": ("Épreuve", "Unit"),
    "pv_start": ("Début", "Start"),
    "pv_end": ("Fin", "End"),
    "pv_duration": ("Durée", "Duration"),
    "pv_cause": ("Cause", "Cause"),
    "pv_ts": ("Heure", "Time"),
    "pv_target": ("Bénéficiaire", "Granted to"),
    "pv_reason": ("Motif", "Reason"),
    "pv_actor": ("Auteur", "By"),
    "pv_kind": ("Événement", "Event"),
    "pv_details": ("Détails", "Details"),
    "pv_path": ("Adresse demandée", "Path requested"),
    "pv_question_id": ("Question", "Question"),
    "pv_seconds": ("Durée", "Duration"),
    "pv_text": ("Texte", "Text"),
    "pv_deadline": ("fin prévue {t}", "scheduled end {t}"),
    "pv_not_back": ("non revenu avant la clôture", "not back before the close"),
    "pv_ongoing": ("en cours", "ongoing"),
    "pv_whole_centre": ("tout le centre {centre}", "the whole centre {centre}"),
    "pv_actor_jury": ("jury : {name}", "jury: {name}"),
    "pv_actor_candidate": ("candidat", "candidate"),
    # causes of a disconnection (vigie.protocol.DisconnectReason values)
    "cause_heartbeat_timeout": ("plus de signal de la tablette", "no heartbeat from the tablet"),
    "cause_network": ("coupure réseau", "network cut"),
    "cause_client_close": ("fermeture par la tablette", "closed by the tablet"),
    "cause_protocol_error": ("erreur de la tablette", "tablet protocol error"),
    "cause_server_shutdown": ("arrêt du serveur", "server shutdown"),
    "cause_superseded": ("nouvelle connexion de la tablette", "superseded by a new connection"),
    "cause_unknown": ("inconnue", "unknown"),
    # audit kinds, as the timeline and the procès-verbal name them
    "kind_login": ("Authentification", "Login"),
    "kind_connect": ("Connexion de la tablette", "Tablet connected"),
    "kind_disconnect": ("Déconnexion de la tablette", "Tablet disconnected"),
    "kind_answer": ("Réponse", "Answer"),
    "kind_answer_change": ("Réponse modifiée", "Answer changed"),
    "kind_finish": ("Fin de l'épreuve (candidat)", "Unit finished (candidate)"),
    "kind_launch": ("Lancement de l'épreuve", "Unit launched"),
    "kind_close": ("Clôture de l'épreuve", "Unit closed"),
    "kind_pause": ("Suspension du centre", "Centre paused"),
    "kind_resume": ("Reprise du centre", "Centre resumed"),
    "kind_extra_time": ("Temps supplémentaire", "Extra time"),
    "kind_message": ("Message", "Message"),
    "kind_instruction_ack": ("Consigne reçue par la tablette", "Instruction confirmed"),
    "kind_fraud": ("Tentative de fraude", "Fraud attempt"),
    "kind_answers_viewed": ("Consultation des réponses", "Answers viewed"),
    "export_csv": ("Exporter (CSV)", "Export (CSV)"),
    # the Monday connection test (docs/connection-test.md)
    "connection_test": ("Test de connexion", "Connection test"),
    "ct_intro": (
        "Test technique du lundi matin : chaque tablette ouvre /tablet/connection-test.html"
        " avec le code de test du centre.",
        "Monday's technical test: each tablet opens /tablet/connection-test.html with the"
        " centre's test code.",
    ),
    "ct_centres": ("Par centre", "Per centre"),
    "ct_slowest": ("Tablettes les plus lentes", "Slowest tablets"),
    "ct_tablets_title": ("Toutes les tablettes (dernier rapport)", "Every tablet (latest report)"),
    "ct_test_code": ("Code de test", "Test code"),
    "ct_tablets": ("Tablettes testées", "Tablets tested"),
    "ct_ready": ("Prêtes", "Ready"),
    "ct_ready_of": ("{ready} / {n} prêtes", "{ready} / {n} ready"),
    "ct_rtt": ("Aller-retour méd. / p95 / max (ms)", "Round trip med. / p95 / max (ms)"),
    "ct_download": ("Téléchargement méd. / p95 / max (s)", "Download med. / p95 / max (s)"),
    "ct_throughput": ("Débit méd. / min (Mbit/s)", "Throughput med. / min (Mbit/s)"),
    "ct_reconnects": ("Reconnexions", "Reconnects"),
    "ct_tablet": ("Tablette", "Tablet"),
    "ct_download_s": ("Téléchargement (s)", "Download (s)"),
    "ct_mbps": ("Débit (Mbit/s)", "Throughput (Mbit/s)"),
    "ct_rtt_p95": ("Aller-retour p95 (ms)", "Round trip p95 (ms)"),
    "ct_problems": ("À revoir", "To check"),
    "ct_verdict": ("Verdict", "Verdict"),
    "ct_yes": ("prête", "ready"),
    "ct_no": ("à revoir", "to check"),
    "print_html": ("Version imprimable", "Printable version"),
    "empty": ("Néant.", "None."),
    "forbidden": ("Accès refusé à ce centre.", "Access to this centre is refused."),
    "page_failed": (
        "Cette page n'a pas pu être affichée ; réessayez.",
        "This page could not be shown; try again.",
    ),
    "not_found": ("Introuvable.", "Not found."),
    "back": ("Retour", "Back"),
    "language": ("English", "Français"),
}
_TABLE.update(_UNIT_TEXTS)
_TABLE.update(_CANDIDATE_TEXTS)
_TABLE.update(_GRID_TEXTS)


def t(key: str, lang: str = DEFAULT_LANG, **fields: object) -> str:
    """The text for ``key`` in ``lang``; an unknown key shows as itself so a gap is visible."""
    pair = _TABLE.get(key)
    text = key if pair is None else pair[1 if lang == "en" else 0]
    return text.format(**fields) if fields else text


def keys() -> frozenset[str]:
    return frozenset(_TABLE)
