"""Code-aware cache keys of the pipeline's stages: what an artefact was made from,
parameters *and* code.

Every cached artefact's key hashes the parameters that make it, the key of the artefact it
is computed from (its parent), and a fingerprint of the code of the stage that computes it:
the stage's own modules (:data:`STAGE_MODULES`) and functions of the pipeline that shape
its artefact (:data:`STAGE_FUNCTIONS`), and every ``fclib`` module they import, followed
transitively. The fingerprinting itself lives in :mod:`fclib.store` (below every other
package, so that ``snn`` and ``ttfs`` key their caches without importing the pipeline);
this module names the stages.
"""
from __future__ import annotations

from fclib import store
from fclib.store import function_fingerprint, imported_fclib_modules, module_fingerprint

__all__ = ["module_fingerprint", "function_fingerprint", "code_fingerprint", "artefact_key",
           "STAGE_MODULES", "STAGE_FUNCTIONS", "imported_fclib_modules", "stage_closure"]

# The modules of each stage (the code that computes its artefact). Their fclib imports are
# followed, so only the entry points are named here.
STAGE_MODULES: dict[str, tuple[str, ...]] = {
    "train": ("fclib.pipeline.inputs", "fclib.snn.train"),
    "record": ("fclib.pipeline.inputs", "fclib.snn.record", "fclib.snn.perturb"),
    "accuracy": ("fclib.pipeline.inputs", "fclib.snn.perturb"),
    "pairs": ("fclib.stats.connectivity", "fclib.stats.halves"),
    "groups": ("fclib.stats.groups", "fclib.stats.edges"),
    "edges": ("fclib.stats.edges",),
    "response": ("fclib.stats.response",),
    "information": ("fclib.stats.information",),
    "embeddings": ("fclib.stats.semantic",),
    "ensembles": ("fclib.stats.ensembles", "fclib.stats.controls", "fclib.stats.information"),
}

# The pipeline's own code that shapes an artefact (which frames, groups, folds and
# conditions a stage hands to the statistics): ``"module:qualname"`` of functions, each
# fingerprinted like a module, and the fclib modules they import (inside the function too)
# followed as above. Editing ``Run.response`` thus recomputes the responses and nothing
# upstream; editing the CLI recomputes nothing.
_S = "fclib.pipeline.stages:"
STAGE_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "train": (_S + "_train_stage",),
    "record": (_S + "_record_stage", _S + "_budget", _S + "_perturb_params"),
    "accuracy": (_S + "Run.accuracy", _S + "Run._model_and_perturb", _S + "Run._perturbed_cfg",
                 _S + "_perturb_params"),
    "pairs": (_S + "Run.pairs", _S + "Run.half_frames"),
    "groups": (_S + "Run.groups", _S + "Run.edges"),
    "edges": (_S + "Run.edges",),
    "response": (_S + "Run.response", _S + "Run.spikes", _S + "Run.analysed_frames"),
    "information": (_S + "Run.information", _S + "Run.spikes", _S + "Run.analysed_frames"),
    "embeddings": (_S + "Run.embeddings",),
    "ensembles": (_S + "Run.ensembles",),
}


def stage_closure(modules) -> list[str]:
    """The modules a fingerprint of ``modules`` (or of the stage so named) hashes."""
    if isinstance(modules, str):
        modules = STAGE_MODULES.get(modules, (modules,))
    return store.module_closure(tuple(modules))


def code_fingerprint(modules) -> str:
    """Fingerprint (16 hex digits) of ``modules`` and every module of their packages (fclib)
    that they import, transitively; ``modules`` may also be a stage name of
    :data:`STAGE_MODULES`, whose functions of :data:`STAGE_FUNCTIONS` then count too (with the
    modules they import). See :func:`fclib.store.code_fingerprint`."""
    functions: tuple[str, ...] = ()
    if isinstance(modules, str):
        functions = STAGE_FUNCTIONS.get(modules, ())
        modules = STAGE_MODULES.get(modules, (modules,))
    return store.code_fingerprint(tuple(modules), functions)


def artefact_key(stage: str, params: dict, parent: str = "") -> tuple[str, dict]:
    """The key (12 hex digits) of an artefact of ``stage`` made with ``params`` from the
    artefact ``parent``, and the inputs it hashes (stored in the artefact's attrs); the code
    is the stage's (:func:`code_fingerprint`). See :func:`fclib.store.artefact_key`."""
    return store.artefact_key(stage, params, parent, code=code_fingerprint(stage))
