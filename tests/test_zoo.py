"""ctlib.zoo: the published reference tables load as pinned, say what their models saw, and fail clearly."""
import shutil

import numpy as np
import pytest

from ctlib import zoo


def test_every_input_table_loads_from_the_mirror_with_its_labels(data_root, monkeypatch):
    monkeypatch.setenv("CTLIB_DATA", str(data_root))
    dims = {"CHGNet 0.3.0": 64, "SevenNet-0": 128, "MEGNet MP-2018 E_f": 16, "M3GNet MP-2018 E_f": 64,
            "M3GNet MP-2021 PES": 64, "TensorNet MatPES": 128, "MEGNet MP-2019 E_g": 16}   # the mirror's README
    inputs = [t for t in zoo.TABLES.values() if t.kind == "input"]
    assert {t.name for t in inputs} == set(dims)
    for t in inputs:
        emb = zoo.load(t.name)
        assert emb.matrix.shape == (89, dims[t.name]) and np.isfinite(emb.matrix).all()
        assert emb.elements[0] == "H" and emb.elements[-1] == "Pu"
        p = emb.provenance
        assert (p["reference"], p["kind"], p["saw"], p["sees_test"]) == (t.name, "input", t.saw, t.sees_test)


def test_what_each_model_saw_is_graded_and_named_in_its_label():
    t = zoo.TABLES
    assert t["MEGNet MP-2018 E_f"].sees_test and t["MEGNet MP-2019 E_g"].saw == zoo.SAW_LABELS
    assert t["CHGNet 0.3.0"].saw == zoo.SAW_ENERGIES and not t["CHGNet 0.3.0"].sees_test
    assert all(t[n].saw == zoo.SAW_ENERGIES for n in t if n.endswith("(last layer)"))
    assert t["M3GNet MP-2018 E_f"].label == "M3GNet MP-2018 E_f (input; MP-2018.6.1 E_f, saw our test labels)"
    assert t["TensorNet MatPES"].label.endswith("saw most of our test materials)")
    with pytest.raises(ValueError, match=r"saw='yes'; choose one of \['labels', 'energies', ''\]"):
        zoo.ReferenceTable("mine", "input", "m", "d", "yes")


def test_a_changed_or_missing_table_file_is_named_with_what_to_do(data_root, tmp_path, monkeypatch):
    mirror = tmp_path / "element_tables"
    shutil.copytree(data_root / "element_tables", mirror)
    monkeypatch.setenv("CTLIB_DATA", str(tmp_path))
    path = mirror / zoo.TABLES["CHGNet 0.3.0"].file
    path.write_text(path.read_text().replace("0", "1", 1))
    with pytest.raises(ValueError, match=r"chgnet_0\.3\.0\.csv has sha256 .* fetch it again from the mirror"):
        zoo.load("CHGNet 0.3.0")
    path.unlink()
    with pytest.raises(FileNotFoundError, match=r"chgnet_0\.3\.0\.csv not found; set CTLIB_DATA"):
        zoo.load("CHGNet 0.3.0")
    with pytest.raises(ValueError, match=r"unknown reference table 'CHGNet'; choose one of \['CHGNet 0\.3\.0'"):
        zoo.get("CHGNet")
