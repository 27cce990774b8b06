"""ElementEmbedding: extraction (methods A, B, C), file formats, checks, atom_init export."""
import json
import warnings

import numpy as np
import pytest
import torch

from ctlib.elements import ELEMENTS, SYMBOLS, cgcnn92
from ctlib.embeddings import ElementEmbedding, check_elements
from ctlib.models.crystal_transformer import CrystalTransformer
from ctlib.models.embedding import AtomEmbedding

TINY_CT = {"d_atom": 8, "d_coord": 8, "n_layers": 1, "n_heads": 2, "d_ff": 16}


def _emb(n=5, d=4, seed=0, coords=False):
    rng = np.random.default_rng(seed)
    kw = {}
    if coords:
        kw = {"coord_weight": rng.normal(size=(3, 3)), "coord_bias": rng.normal(size=3)}
    return ElementEmbedding(list(ELEMENTS[:n]), rng.normal(size=(n, d)) * 10.0 ** rng.integers(-3, 3, size=(n, 1)),
                            {"method": "test", "seed": seed}, **kw)


@pytest.mark.parametrize("ext", [".json", ".npz", ".csv"])
def test_roundtrip_each_format(tmp_path, ext):
    e = _emb(coords=True)
    path = e.save(tmp_path / f"emb{ext}")
    back = ElementEmbedding.load(path)
    assert back.elements == e.elements
    np.testing.assert_allclose(back.matrix, e.matrix, rtol=1e-5 if ext != ".npz" else 0)
    if ext == ".csv":  # CSV carries the table only
        assert back.coord_weight is None and back.provenance["format"] == "csv"
    else:
        assert back.provenance["method"] == "test"
        np.testing.assert_allclose(back.coord_weight, e.coord_weight, rtol=1e-5)
        np.testing.assert_allclose(back.coord_bias, e.coord_bias, rtol=1e-5)
    assert [p.name for p in tmp_path.iterdir()] == [f"emb{ext}"]  # no temp files left


def test_json_is_rounded_to_six_significant_digits(tmp_path):
    e = ElementEmbedding(["H"], [[1.234567891, -0.000123456789]], {})
    obj = json.loads(e.save(tmp_path / "e.json").read_text())
    assert obj["matrix"] == [[1.23457, -0.000123457]]
    assert obj["elements"] == ["H"] and obj["dim"] == 2


def test_method_a_from_ct_is_atom_layer_columns_plus_bias():
    torch.manual_seed(0)
    model = CrystalTransformer(1, TINY_CT)
    e = ElementEmbedding.from_model(model)
    assert e.elements == list(ELEMENTS) and e.matrix.shape == (89, 8)
    assert e.provenance["method"] == "A"
    lin = model.atom_embedding.projection  # one-hot table: the front is Linear(100, 8)
    z = np.array([SYMBOLS.index(s) + 1 for s in ELEMENTS])
    expect = (lin.weight[:, z - 1].T + lin.bias).detach().numpy()
    np.testing.assert_allclose(e.matrix, expect, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(e.coord_weight, model.coord_embedding.weight.detach().numpy())
    np.testing.assert_array_equal(e.coord_bias, model.coord_embedding.bias.detach().numpy())
    assert model.training  # extraction does not leave the model in eval mode


def test_method_b_from_gnn_front_and_element_subset():
    class TinyGNN(torch.nn.Module):
        input_kind = "crystal_graph"

        def __init__(self):
            super().__init__()
            self.atom_embedding = AtomEmbedding(6, init="random", d_in=4)

    m = TinyGNN()
    e = ElementEmbedding.from_model(m, elements=["O", "Fe", "H"], provenance={"run_id": "r1"})
    assert e.provenance["method"] == "B" and e.provenance["run_id"] == "r1"
    vec = m.atom_embedding.element_vectors(torch.tensor([8, 26, 1])).detach().numpy()
    np.testing.assert_allclose(e.matrix, vec, rtol=1e-6)
    assert e.coord_weight is None
    with pytest.raises(TypeError, match="element_vectors"):
        ElementEmbedding.from_model(torch.nn.Linear(2, 2))


def test_method_c_is_cgcnn92_rows():
    e = ElementEmbedding.cgcnn92()
    assert e.matrix.shape == (89, 92) and e.provenance["method"] == "C"
    np.testing.assert_array_equal(e.vector("Fe"), cgcnn92()[25])


def test_atom_init_export_reads_as_cgcnn_format(tmp_path):
    e = _emb(n=89, d=7)
    with pytest.warns(UserWarning, match="Po, At, Rn, Fr, Ra"):
        path = e.to_atom_init(tmp_path / "atom_init.json", fill="zero")
    raw = json.loads(path.read_text())
    assert list(raw) == [str(z) for z in range(1, 101)]
    assert {len(v) for v in raw.values()} == {7}
    assert all(isinstance(x, float) for v in raw.values() for x in v)
    # what CGCNN's AtomCustomJSONInitializer does with the file
    table = {int(k): np.array(v, dtype=float) for k, v in raw.items()}
    np.testing.assert_allclose(table[26], e.vector("Fe"), rtol=1e-5)
    assert not table[84].any()  # Po is not among the 89: zero fill
    # mean fill, and ctlib reads atom_init files back (100 elements)
    with pytest.warns(UserWarning):
        e.to_atom_init(tmp_path / "mean.json", fill="mean")
    back = ElementEmbedding.load(tmp_path / "mean.json")
    assert back.elements == list(SYMBOLS)
    np.testing.assert_allclose(back.vector("Po"), e.matrix.mean(0), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="fill"):
        e.to_atom_init(tmp_path / "x.json", fill="nan")


def test_full_table_exports_without_warning(tmp_path):
    e = ElementEmbedding(list(SYMBOLS), np.ones((100, 2)), {})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e.to_atom_init(tmp_path / "a.json")


def test_load_checks_element_list(tmp_path):
    def write(elements, name):
        p = tmp_path / name
        p.write_text(json.dumps({"format": "ctlib.element_embedding", "version": 1,
                                 "elements": elements, "matrix": [[0.0]] * len(elements)}))
        return p

    with pytest.raises(ValueError, match=r"dup\.json.*duplicate.*'H'"):
        ElementEmbedding.load(write(["H", "He", "H"], "dup.json"))
    with pytest.raises(ValueError, match=r"unknown element symbol.*'Xx'"):
        ElementEmbedding.load(write(["H", "Xx"], "unk.json"))
    ok = write(["H", "He", "Li"], "ok.json")
    assert ElementEmbedding.load(ok, expect_elements=["H", "He", "Li"]).elements == ["H", "He", "Li"]
    with pytest.raises(ValueError, match=r"position 1 \('He' vs 'Li'\)"):
        ElementEmbedding.load(ok, expect_elements=["H", "Li", "He"])
    with pytest.raises(ValueError, match="3 vs 2 elements"):
        ElementEmbedding.load(ok, expect_elements=["H", "He"])
    (tmp_path / "bad.json").write_text('{"a": 1}')
    with pytest.raises(ValueError, match="neither a ctlib embedding"):
        ElementEmbedding.load(tmp_path / "bad.json")
    with pytest.raises(FileNotFoundError):
        ElementEmbedding.load(tmp_path / "missing.json")
    with pytest.raises(ValueError, match=r"\.txt"):
        ElementEmbedding.load(write(["H"], "x.txt"))
    with pytest.raises(ValueError, match="shape"):
        ElementEmbedding(["H", "He"], np.zeros((3, 2)), {})
    with pytest.raises(ValueError, match="NaN"):
        ElementEmbedding(["H"], [[np.nan]], {})
    assert check_elements(("H", "He")) == ["H", "He"]


def test_repr_reindex_and_z_table():
    e = _emb(n=3, d=4)
    r = repr(e)
    assert "3 elements" in r and "x 4" in r and "method=test" in r
    rev = e.reindex(list(reversed(e.elements)))
    np.testing.assert_array_equal(rev.matrix, e.matrix[::-1])
    with pytest.raises(KeyError):
        e.reindex(["U"])
    table, present = e.z_table()
    assert table.shape == (100, 4) and present.sum() == 3
    np.testing.assert_array_equal(table[0], e.vector("H"))
