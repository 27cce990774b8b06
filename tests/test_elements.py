"""The element vocabulary and element feature tables."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ctlib.elements import (
    ELEMENTS,
    PROPERTY_UNITS,
    SYMBOLS,
    Z_OF,
    cgcnn92,
    elemental_properties,
    missing_properties,
    onehot,
)

# CGCNN's atom_init blocks, in order: group, period, electronegativity, covalent radius,
# valence electrons, first ionization energy, electron affinity, block, atomic volume.
CGCNN_BLOCKS = (19, 7, 10, 10, 12, 10, 10, 4, 10)
_OFF = np.cumsum((0,) + CGCNN_BLOCKS)


def block(row, k):
    return row[_OFF[k]:_OFF[k + 1]]


def test_symbols_match_pymatgen():
    from pymatgen.core import Element

    assert len(SYMBOLS) == 100
    assert all(Element.from_Z(z).symbol == s for z, s in enumerate(SYMBOLS, start=1))
    assert all(Z_OF[s] == z for z, s in enumerate(SYMBOLS, start=1))


def test_elements_are_those_in_mp2018(mp2018):
    present = [SYMBOLS[z - 1] for z in np.unique(mp2018.numbers)]
    assert list(ELEMENTS) == present
    assert len(ELEMENTS) == 89
    assert [Z_OF[s] for s in ELEMENTS] == sorted(Z_OF[s] for s in ELEMENTS)


@pytest.mark.parametrize("shape", [(5,), (2, 3), ()])
def test_onehot_numpy(shape):
    z = np.random.default_rng(0).integers(1, 101, size=shape)
    h = onehot(z)
    assert h.shape == shape + (100,) and h.dtype == np.float32
    assert (h.sum(-1) == 1).all() and (h.argmax(-1) == z - 1).all()


def test_onehot_torch():
    z = torch.tensor([[1, 100], [26, 8]])
    h = onehot(z)
    assert torch.is_tensor(h) and h.shape == (2, 2, 100) and h.dtype == torch.float32
    assert torch.equal(h.argmax(-1), z - 1)


@pytest.mark.parametrize("bad", [0, 101, -3])
def test_onehot_rejects_out_of_range(bad):
    with pytest.raises(ValueError, match="1..100"):
        onehot(np.array([1, bad]))
    with pytest.raises(ValueError, match="1..100"):
        onehot(torch.tensor([bad]))


def test_cgcnn92_table():
    from pymatgen.core import Element

    f = cgcnn92()
    assert f.shape == (100, 92) and f.dtype == np.float32
    assert set(np.unique(f)) <= {0.0, 1.0}
    assert sum(CGCNN_BLOCKS) == 92
    rows = {s: f[Z_OF[s] - 1] for s in ELEMENTS}
    assert all(r.any() for r in rows.values())
    assert not np.array_equal(rows["Fe"], rows["Co"]) and not np.array_equal(rows["Na"], rows["K"])
    for s, r in rows.items():
        el = Element(s)
        for k in (0, 1, 7):  # group, period and block are always set
            assert block(r, k).sum() == 1, (s, k)
        assert block(r, 1).argmax() + 1 == el.row, s
        # Conventions differ from pymatgen for He (CGCNN: s block) and the f series
        # (CGCNN: group 0 for La-Yb and Ac-No, group 3 for Lu).
        if s != "He":
            assert "spdf"[block(r, 7).argmax()] == el.block, s
        if not (el.is_lanthanoid or el.is_actinoid):
            assert block(r, 0).argmax() == el.group, s


def test_elemental_properties():
    df = elemental_properties()
    assert list(df.index) == list(ELEMENTS)
    assert list(df.columns) == list(PROPERTY_UNITS)
    missing = missing_properties()
    for col, syms in missing.items():
        print(f"{col} ({PROPERTY_UNITS[col]}): {len(syms)} of {len(df)} missing: {syms}")
        assert df[col].notna().sum() >= 75, col
    # Units: spot checks against textbook values.
    assert df.at["H", "first_ionization_energy"] == pytest.approx(13.6, abs=0.01)  # eV
    assert df.at["Fe", "melting_point"] == pytest.approx(1811, abs=5)  # K
    assert df.at["Cu", "log10_conductivity"] == pytest.approx(7.77, abs=0.05)  # 5.9e7 S/m
    assert df.at["Si", "atomic_radius"] == pytest.approx(1.1, abs=0.05)  # Å


@pytest.mark.parametrize("name", ["mat2vec", "megnet16", "magpie_sc", "oliynyk"])
def test_external_table_reads_what_elementembeddings_loads(name):
    """Our reader of the package's data files (no umap/numba import) against its own loader."""
    from elementembeddings.core import Embedding

    from ctlib.elements import external_table

    ours, theirs = external_table(name), Embedding.load_data(name).embeddings
    assert list(ours) == list(theirs) and "Null" not in ours
    for e, v in theirs.items():
        assert ours[e].dtype == v.dtype and np.array_equal(ours[e], v, equal_nan=True), (name, e)


def test_external_table_names_an_unknown_table():
    from ctlib.elements import external_table

    with pytest.raises(ValueError, match="no table 'nope'.*mat2vec"):
        external_table("nope")
