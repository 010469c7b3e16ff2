"""Upload the dashboards to an existing Grafana with grafana-client.

Dashboards keep their fixed uids, so a second push overwrites the first instead of
adding copies; they go into one folder, found by title or created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from grafana_client.api import GrafanaApi

from dashboards.boards import all_dashboards
from dashboards.builder import JSON

DEFAULT_FOLDER = "vigie"
PUSH_MESSAGE = "vigie grafana push"


@dataclass(frozen=True, slots=True)
class Pushed:
    uid: str
    title: str
    url: str  # as Grafana answers it, relative to its root


def _folder_uid(api: Any, title: str) -> str:
    for folder in api.folder.get_all_folders():
        if folder.get("title") == title:
            return str(folder["uid"])
    created = api.folder.create_folder(title)
    return str(created["uid"])


def push(
    url: str,
    token: str | None,
    folder: str = DEFAULT_FOLDER,
    boards: dict[str, JSON] | None = None,
    timeout_s: float = 10.0,
) -> list[Pushed]:
    """Create or overwrite every dashboard; raises grafana_client's exceptions on refusal.

    ``token`` is a service-account token (Bearer); without one, credentials in the URL
    (http://user:password@host:3000) are used.
    """
    api: Any = cast(Any, GrafanaApi).from_url(url, credential=token or None, timeout=timeout_s)
    folder_uid = _folder_uid(api, folder)
    pushed: list[Pushed] = []
    for board in (boards or all_dashboards()).values():
        # "id": None lets Grafana match on uid: ids differ from one Grafana to another.
        payload = {
            "dashboard": {**board, "id": None},
            "folderUid": folder_uid,
            "overwrite": True,
            "message": PUSH_MESSAGE,
        }
        answer = api.dashboard.update_dashboard(payload)
        pushed.append(Pushed(board["uid"], board["title"], str(answer.get("url", ""))))
    return pushed
