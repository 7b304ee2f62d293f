"""The JSON view of a profile report: the documented contract (kind "torchenv.profile",
schema_version, torchenv_version), the same envelope every command uses."""

from __future__ import annotations

import json

from ..model.codec import to_json
from ..model.profile import PROFILE_KIND, PROFILE_SCHEMA_VERSION, ProfileReport
from .envelope import envelope


def profile_to_dict(report: ProfileReport) -> dict:
    body = to_json(report)
    body["ms_lost_per_step"] = round(report.total_ms_lost(), 4)
    # the rules file is the knowledge a profile report is judged by
    return envelope(
        PROFILE_KIND,
        body,
        schema_version=PROFILE_SCHEMA_VERSION,
        knowledge_version=report.rules_version or None,
        torchenv_version=report.torchenv_version,
    )


def render_profile_json(report: ProfileReport) -> str:
    return json.dumps(profile_to_dict(report), indent=2)
