"""The MANGO chapter's sizes per profile (the MANGO paper: activation maximisation across
training)."""
from __future__ import annotations

__all__ = ["MANGO_SETTINGS", "mango_settings"]

#: Sizes of the MANGO chapter per profile: generator training steps, units per layer,
#: layers (evenly spaced; ``None``: all) and evaluation budget of the snapshot search, units,
#: layers and budget of the Table 1 comparison, and neurons per label of the hub and
#: membership comparison (``labelled_units``, searched with ``budget``). ``None`` units:
#: every channel. The default keeps the chapter near 3 minutes on two cores (Nevergrad's
#: ask/tell costs tens of ms per evaluation); the full Table 1 is
#: ``table_budget=10_000, table_units=None, table_layers=None``.
MANGO_SETTINGS = {
    "smoke": dict(gan_steps=40, vqvae_steps=40, units=1, budget=30, table_units=1,
                  table_layers=1, table_budget=100, table_methods=["NG", "TT", "TT-b", "TT-s"],
                  coverage_samples=100,
                  layers=None, labelled_units=2),
    "default": dict(gan_steps=3000, vqvae_steps=800, units=1, budget=100, table_units=1,
                    table_layers=2, table_budget=200,
                    table_methods=["RS", "NG", "NG-K", "TT", "TT-b", "TT-s"],
                    coverage_samples=1000, layers=4, labelled_units=5),
    "fashion": dict(gan_steps=3000, vqvae_steps=800, units=1, budget=100, table_units=1,
                    table_layers=2, table_budget=200,
                    table_methods=["RS", "NG", "NG-K", "TT", "TT-b", "TT-s"],
                    coverage_samples=1000, layers=4, labelled_units=5),
    "paper": dict(gan_steps=20000, vqvae_steps=10000, units=8, budget=1000, table_units=None,
                  table_layers=None, table_budget=10_000,
                  table_methods=["RS", "NG", "NG-K", "TT", "TT-b", "TT-s"],
                  coverage_samples=1000, layers=None, labelled_units=20),
}


def mango_settings(profile: str, **overrides) -> dict:
    """:data:`MANGO_SETTINGS` of a profile with ``overrides`` (``None`` keeps a value)."""
    from fclib._util import profile_settings

    return profile_settings(MANGO_SETTINGS, profile, overrides, "MANGO setting")
