"""The MANGO chapter's sizes per profile (the MANGO paper: activation maximisation across
training)."""
from __future__ import annotations

from fclib.profiles import MANGO_SETTINGS

__all__ = ["MANGO_SETTINGS", "mango_settings"]


def mango_settings(profile: str, **overrides) -> dict:
    """:data:`MANGO_SETTINGS` of a profile with ``overrides`` (``None`` keeps a value)."""
    from fclib._util import profile_settings

    return profile_settings(MANGO_SETTINGS, profile, overrides, "MANGO setting")
