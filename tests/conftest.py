"""Fixtures shared by the test suite.

Real data come from ``$CTLIB_DATA`` (the Makefile points it at ``../shared/data``).
Missing data is a failure, not a skip: the suite must run on the real datasets.
The full datasets are loaded once per session through the parse cache
(``$CTLIB_CACHE``, default ``.cache/ctlib``); the very first run parses them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ctlib.data import REGISTRY, data_root as _data_root, load

MP_SMALL_N = 64
MP_SMALL_MAX_ATOMS = 40
MP_SMALL_SEED = 0


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The data mirror; fails with instructions when the files are not there."""
    root = _data_root()
    missing = [f.path for spec in REGISTRY.values() for f in spec.files if not (root / f.path).is_file()]
    if missing:
        pytest.fail(f"dataset files not found under {root.resolve()}: {missing}. Set CTLIB_DATA to "
                    "the data mirror (e.g. CTLIB_DATA=../shared/data) or run the tests with `make test`.",
                    pytrace=False)
    return root


@pytest.fixture(scope="session")
def mp2018(data_root):
    """The full MP-2018 subset (51,222 structures), from the parse cache."""
    return load("mp2018", root=data_root, progress=False)


@pytest.fixture(scope="session")
def castelli(data_root):
    """The Castelli perovskites (18,928 structures)."""
    return load("castelli_perovskites", root=data_root, progress=False)


@pytest.fixture(scope="session")
def hoip(data_root):
    """The HOIP set (1,346 structures)."""
    return load("hoip", root=data_root, progress=False)


@pytest.fixture(scope="session")
def mp_small(mp2018):
    """A fixed, seeded subset of 64 real MP-2018 train structures with <= 40 atoms each."""
    train = np.flatnonzero((mp2018.meta["split"] == "train") & (mp2018.natoms <= MP_SMALL_MAX_ATOMS))
    pick = np.random.default_rng(MP_SMALL_SEED).choice(train, size=MP_SMALL_N, replace=False)
    return mp2018.subset(np.sort(pick))


# ------------------------------------------------------- tiny in-code crystals
@pytest.fixture(scope="session")
def nacl():
    """Rock-salt NaCl, conventional cubic cell (8 atoms), a = 5.64 Å."""
    from pymatgen.core import Lattice, Structure

    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.fixture(scope="session")
def si_diamond():
    """Diamond-structure Si, conventional cubic cell (8 atoms), a = 5.431 Å."""
    from pymatgen.core import Lattice, Structure

    return Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]])


@pytest.fixture(scope="session")
def po_cubic():
    """Simple-cubic alpha-Po, 1 atom, a = 3.359 Å (Po is not among the 89 MP-2018 elements)."""
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice.cubic(3.359), ["Po"], [[0, 0, 0]])


@pytest.fixture(scope="session")
def tiny_structures(nacl, si_diamond, po_cubic):
    """name -> Structure for the three tiny crystals."""
    return {"NaCl": nacl, "Si": si_diamond, "Po": po_cubic}


@pytest.fixture(autouse=True)
def _results_env_restored():
    """Code that points a process at another store (``lookup.use_store``, which
    ``start_page`` calls for a notebook's kernel) sets ``$CTLIB_RESULTS`` for good; after each test
    it is put back as the test found it (set or unset), so no later test reads another
    test's store."""
    import os

    before = os.environ.get("CTLIB_RESULTS")
    yield
    if before is None:
        os.environ.pop("CTLIB_RESULTS", None)
    else:
        os.environ["CTLIB_RESULTS"] = before


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """Point CTLIB_CACHE at a fresh temporary folder for one test."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CTLIB_CACHE", str(cache))
    return cache
