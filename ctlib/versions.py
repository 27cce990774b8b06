"""Behaviour versions: one integer per part of the code whose changes alter results.

Every run's config hash includes the versions of the parts that made it (the
trainer, the model, the input featurizer), so a stored run made by code that
computed something else is no longer found, and is trained again.

**Bump a number whenever you change what that part computes** (a new default,
a fixed bug, another initialisation), and note why below. Refactors that leave
every number unchanged do not bump anything.

History:

* trainer 1: OneCycle sized over the batches of every epoch; ``precision``.
* megnet 2: the ``random`` element table is drawn from the training seed
  (version 1 drew the same table for every seed).
* everything else 1: the first versioned code.
"""
from __future__ import annotations

#: part -> behaviour version. Models by name; featurizers by input kind.
BEHAVIOUR: dict[str, int] = {
    "trainer": 1,
    "cgcnn": 1,
    "megnet": 2,
    "alignn": 1,
    "ct": 1,
    "ct_batch": 1,
    "crystal_graph": 1,
    "megnet_graph": 1,
    "line_graph": 1,
}


def behaviour(model_name: str, input_kind: str) -> dict[str, int]:
    """The versions that enter the config hash of a run of ``model_name``.

    Returns ``{"trainer": v, "model": v, "input": v}``; raises ``KeyError``
    naming the part when it has no version (add it to :data:`BEHAVIOUR`).
    """
    out = {}
    for key, part in (("trainer", "trainer"), ("model", model_name), ("input", input_kind)):
        if part not in BEHAVIOUR:
            raise KeyError(f"no behaviour version for {part!r}: add it to ctlib.versions.BEHAVIOUR")
        out[key] = BEHAVIOUR[part]
    return out
