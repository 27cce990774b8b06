"""Inputs that used to end in a traceback or pass silently (issue 9, part 3).

Each test names the defect it covers. The crystals are the small in-code ones of
conftest (NaCl, Si, Po) and strained copies of them, so the trained model is a
tiny CrystalTransformer that fits in seconds.
"""
from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from ctlib.cli import main
from ctlib.data import DataWarning
from ctlib.embeddings import ElementEmbedding
from ctlib.models import build_model, load_model, save_model, tiny_config
from ctlib.models.embedding import AtomEmbedding

ROOT = Path(__file__).resolve().parents[1]

XX_CIF = """data_bad
_cell_length_a 4.0
_cell_length_b 4.0
_cell_length_c 4.0
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
{a}1 {a} 0 0 0 1
{b}1 {b} 0.5 0.5 0.5 1
"""


def _strained(s, f):
    s = s.copy()
    s.scale_lattice(s.volume * f ** 3)
    return s


def _cif_folder(root: Path, structures: dict, bad: dict | None = None) -> Path:
    """A CGCNN-style folder: <id>.cif files + id_prop.csv (target = a made-up number)."""
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for k, (sid, s) in enumerate(structures.items()):
        s.to(filename=str(root / f"{sid}.cif"))
        rows.append(f"{sid},{0.1 * k - 0.3:.3f}")
    for sid, text in (bad or {}).items():
        (root / f"{sid}.cif").write_text(text)
        rows.append(f"{sid},0.5")
    (root / "id_prop.csv").write_text("\n".join(rows) + "\n")
    return root


def _train_cfg(folder: str, **split) -> dict:
    return {"model": "ct", "model_config": tiny_config("ct"), "targets": "target",
            "dataset": {"cif_folder": folder}, "split": {"scheme": "random", **split},
            "train": {"epochs": 2, "batch_size": 4, "lr": 1e-3, "num_threads": 1},
            "output": "out", "experiment": "tiny"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, nacl, si_diamond):
    """A tiny CT trained by `ctlib train` on 8 strained NaCl / Si cells (the working
    folder is the project folder ``root`` while it trains)."""
    root = tmp_path_factory.mktemp("trained")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CTLIB_CACHE", str(root / "cache"))
        mp.chdir(root)
        structs = {f"nacl{i}": _strained(nacl, f) for i, f in enumerate((0.97, 0.99, 1.01, 1.03))}
        structs.update({f"si{i}": _strained(si_diamond, f) for i, f in enumerate((0.97, 0.99, 1.01, 1.03))})
        _cif_folder(root / "cifs", structs)
        conf = root / "tiny.yaml"
        conf.write_text(yaml.safe_dump(_train_cfg("cifs")))
        assert main(["train", "--config", str(conf), "--no-progress"]) == 0
    recs = list((root / "out" / "results" / "cli" / "tiny").glob("*.json"))
    assert len(recs) == 1
    rec = json.loads(recs[0].read_text())
    return {"root": root, "conf": conf, "record": recs[0], "rec": rec,
            "run_dir": root / "out" / "runs" / "cli" / "tiny" / rec["run_id"]}


def _printed_paths(out: str) -> dict:
    return {m.group(1): m.group(2).strip() for m in
            re.finditer(r"^(record|embedding|checkpoint):\s+(\S+)", out, re.M)}


# ============================================================== ctlib predict
BAD_FILES = {  # name -> (content or None for a missing file, words of its error line)
    "xx.cif": (XX_CIF.format(a="Xx", b="Na"), ["'Xx'", "not a chemical element"]),  # was OverflowError
    "og.cif": (XX_CIF.format(a="Na", b="Og"), ["Z=118", "Z=1..100"]),  # message named no file
    "junk.cif": ("this is not a crystal\n", ["cannot read it as a structure"]),
    "missing.cif": (None, ["does not exist"]),
}


@pytest.mark.parametrize("bad", sorted(BAD_FILES))
def test_predict_names_a_bad_file_and_still_predicts_the_others(bad, trained, tmp_path, nacl,
                                                                 capsys, monkeypatch):
    """One bad file used to abort the whole batch (or crash: Xx gave an OverflowError,
    Z > 100 a message without a file name). Now: an error line naming the file, the
    other files predicted and written, exit status 1."""
    monkeypatch.chdir(tmp_path)
    nacl.to(filename="nacl.cif")
    content, words = BAD_FILES[bad]
    if content is not None:
        Path(bad).write_text(content)
    capsys.readouterr()
    rc = main(["predict", str(trained["run_dir"]), "nacl.cif", bad, "--csv", "p.csv"])
    out, err = capsys.readouterr()
    assert rc == 1
    assert "Traceback" not in err
    line = [ln for ln in err.splitlines() if ln.startswith(f"ctlib: error: {bad}:")]
    assert len(line) == 1, err
    for w in words:
        assert w in line[0], (w, line[0])
    assert f"1 of 2 file(s) failed (see above): {bad}; the other 1 were predicted" in err
    rows = list(csv.reader(open("p.csv")))
    assert rows[0] == ["file", "target"] and [r[0] for r in rows[1:]] == ["nacl.cif"]
    assert np.isfinite(float(rows[1][1])) and "nacl.cif" in out


def test_predict_warns_about_elements_never_seen_in_training(trained, tmp_path, nacl, po_cubic,
                                                            capsys, monkeypatch):
    """The model was trained on Na, Cl and Si: Po is predicted, with a warning naming it."""
    monkeypatch.chdir(tmp_path)
    nacl.to(filename="nacl.cif")
    po_cubic.to(filename="po.cif")
    capsys.readouterr()
    assert main(["predict", str(trained["run_dir"]), "nacl.cif", "po.cif"]) == 0
    out, err = capsys.readouterr()
    warn = [ln for ln in err.splitlines() if ln.startswith("ctlib: warning:")]
    assert len(warn) == 1, err
    assert "po.cif" in warn[0] and "element(s) Po never occurred in this model's training data" in warn[0]
    assert "nacl.cif" in out and "po.cif" in out


def test_model_records_the_elements_it_was_trained_on(trained, tmp_path, nacl):
    """How predict knows what the model saw: AtomEmbedding.trained_z (saved with the weights)."""
    model = load_model(trained["run_dir"] / "model")
    assert model.atom_embedding.trained_elements == ["Na", "Si", "Cl"]
    # eval-mode forward passes (validation, prediction) do not count as training
    fresh = build_model("ct", 1, tiny_config("ct"))
    assert fresh.atom_embedding.trained_elements is None
    fresh.eval()
    fresh.atom_embedding(torch.tensor([[11, 17, 0]]))
    assert fresh.atom_embedding.trained_elements is None
    fresh.train()
    fresh.atom_embedding(torch.tensor([[11, 17, 0]]))
    assert fresh.atom_embedding.trained_elements == ["Na", "Cl"]
    # weights saved before the record existed still load, as "unknown"
    d = save_model(fresh, tmp_path / "m")
    state = torch.load(d / "weights.pt")
    state.pop("atom_embedding.trained_z")
    torch.save(state, d / "weights.pt")
    assert load_model(d).atom_embedding.trained_elements is None


def test_truncated_model_files_name_the_file_and_suggest_force(trained, tmp_path, nacl, capsys):
    run = tmp_path / "run"
    shutil.copytree(trained["run_dir"], run)
    weights = run / "model" / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"weights\.pt is damaged.*--force"):
        load_model(run / "model")
    nacl.to(filename=str(tmp_path / "nacl.cif"))
    assert main(["predict", str(run), str(tmp_path / "nacl.cif")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ctlib: error:") and str(weights) in err and "--force" in err
    assert len(err.strip().splitlines()) == 1
    meta = run / "model" / "model.json"
    meta.write_text(meta.read_text()[:40])
    with pytest.raises(ValueError, match=r"model\.json is damaged.*--force"):
        load_model(run / "model")


# ================================================================ ctlib train
def test_train_reuse_is_announced_and_printed_paths_work_from_elsewhere(trained, tmp_path,
                                                                        monkeypatch, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("CTLIB_CACHE", str(trained["root"] / "cache"))
    assert main(["train", "--config", str(trained["conf"]), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "reused" in out and "nothing was retrained" in out
    paths = _printed_paths(out)
    assert set(paths) == {"record", "embedding", "checkpoint"}
    for key, p in paths.items():
        assert Path(p).exists(), (key, p, out)  # works from where the user stands
    assert Path(paths["checkpoint"]).resolve() == trained["run_dir"].resolve()
    assert json.loads(trained["record"].read_text())["finished"] == trained["rec"]["finished"]


def test_train_resume_is_announced(trained, tmp_path, monkeypatch, capsys):
    """A run whose record is gone but whose checkpoint is there resumes, and says so."""
    copy = tmp_path / "copy"
    shutil.copytree(trained["root"], copy, ignore=shutil.ignore_patterns("cache"))
    monkeypatch.setenv("CTLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(copy)
    (copy / "out" / "results" / "cli" / "tiny" / trained["record"].name).unlink()
    assert main(["train", "--config", "tiny.yaml", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "resumed: continued from the checkpoint of epoch 2" in out
    assert "reused" not in out


def test_skip_bad_is_reachable_from_the_command_line(tmp_path, monkeypatch, capsys, nacl, si_diamond):
    """The bad-record error used to suggest skip_bad=True only (a Python argument)."""
    monkeypatch.setenv("CTLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    structs = {f"s{i}": _strained(s, f) for i, f in enumerate((0.98, 1.0, 1.02, 1.04, 1.06))
               for s in [nacl if i % 2 else si_diamond]}
    _cif_folder(tmp_path / "cifs", structs, bad={"bad": XX_CIF.format(a="Xx", b="Na")})
    conf = tmp_path / "withbad.yaml"
    conf.write_text(yaml.safe_dump(_train_cfg("cifs")))
    assert main(["train", "--config", str(conf), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "record 'bad'" in err and "`ctlib train --skip-bad`" in err
    with pytest.warns(DataWarning, match="skipped 1 bad record"):
        assert main(["train", "--config", str(conf), "--no-progress", "--skip-bad"]) == 0
    assert "on cifs (train 5, val 0, test 0)" in capsys.readouterr().out  # 5 of 6 records


def test_degenerate_splits_are_reported(tmp_path, monkeypatch, capsys, nacl, si_diamond):
    """n_train larger than the data was cut silently; empty validation and test splits
    exited 0 without a word (and without test metrics)."""
    monkeypatch.setenv("CTLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    structs = {"a": nacl, "b": si_diamond, "c": _strained(nacl, 1.02), "d": _strained(si_diamond, 1.02)}
    _cif_folder(tmp_path / "cifs", structs)
    conf = tmp_path / "small.yaml"
    conf.write_text(yaml.safe_dump(_train_cfg("cifs", n_train=50)))
    assert main(["train", "--config", str(conf), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "split.n_train is 50 but the train split of 'cifs' has only 4 structure(s)" in err
    assert "validation split of 'cifs' is empty" in err and "test split of 'cifs' is empty" in err
    assert "test: no metrics (the test split is empty)" in out
    # run again at once (same second as the first finished): announced as reused
    assert main(["train", "--config", str(conf), "--no-progress"]) == 0
    assert "reused: this configuration was already trained" in capsys.readouterr().out


def test_skip_bad_is_documented_and_python_m_ctlib_works(capsys):
    assert main(["train", "--help"]) == 0
    assert "--skip-bad" in capsys.readouterr().out
    r = subprocess.run([sys.executable, "-m", "ctlib", "embed"], capture_output=True,
                       text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2 and "extract" in r.stdout, r.stderr  # a group alone: its help


def test_readme_and_help_examples_point_at_stored_results(tmp_path, capsys):
    """The README's `embed export` example (was results/paper/ct_mt, which does not exist)."""
    readme = (ROOT / "README.md").read_text()
    lines = [ln.split("#")[0].split() for ln in readme.splitlines()
             if ln.startswith("ctlib embed export")]
    assert lines
    for argv in lines:
        argv = argv[1:]
        argv[argv.index("-o") + 1] = str(tmp_path / "atom_init.json")
        src = argv[2]
        assert (ROOT / src).exists(), src
        argv[2] = str(ROOT / src)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # elements missing from the table get zeros
            assert main(argv) == 0, capsys.readouterr().err
        assert len(json.loads((tmp_path / "atom_init.json").read_text())) == 100
    # every concrete results/ path in the embed help texts exists
    for cmd in (["embed"], ["embed", "export"], ["embed", "show"]):
        main(cmd + ["--help"])
        text = capsys.readouterr().out
        for path in re.findall(r"(results/\S+)", text):
            if "<" not in path:
                assert (ROOT / path).exists(), path


# ============================================================== corrupt caches
def test_truncated_dataset_cache_is_rebuilt_with_a_warning(tmp_cache, tmp_path, nacl, si_diamond):
    from ctlib.data import load_cif_folder

    folder = _cif_folder(tmp_path / "cifs", {"a": nacl, "b": si_diamond})
    ds = load_cif_folder(folder, progress=False)
    (npz,) = (tmp_cache / "datasets").glob("*.npz")
    npz.write_bytes(npz.read_bytes()[:100])
    with pytest.warns(DataWarning, match=r"dataset cache .*\.npz.* is damaged"):
        again = load_cif_folder(folder, progress=False)
    assert again.fingerprint == ds.fingerprint
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rewritten cache reads cleanly
        assert load_cif_folder(folder, progress=False).fingerprint == ds.fingerprint


def test_truncated_graph_cache_is_rebuilt_with_a_warning(tmp_cache, nacl, si_diamond):
    from ctlib.data.dataset import CrystalDataset
    from ctlib.data.graphs import build_graphs, graph_cache_path

    ds = CrystalDataset.from_structures([nacl, si_diamond], name="tiny")
    gs = build_graphs(ds, "crystal_graph", progress=False, n_jobs=1)
    path = graph_cache_path(ds, "crystal_graph")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(UserWarning, match=r"graph cache .* cannot be read"):
        again = build_graphs(ds, "crystal_graph", progress=False, n_jobs=1)
    np.testing.assert_array_equal(again.src, gs.src)
    np.testing.assert_array_equal(again.dist, gs.dist)


def test_from_structures_names_the_structure_with_a_bad_element():
    from pymatgen.core import Structure

    from ctlib.data.dataset import CrystalDataset

    xx = Structure.from_str(XX_CIF.format(a="Xx", b="Na"), fmt="cif")
    og = Structure.from_str(XX_CIF.format(a="Na", b="Og"), fmt="cif")
    with pytest.raises(ValueError, match=r"structure bad1: site 0 holds 'Xx'.*not a chemical element"):
        CrystalDataset.from_structures([xx], ids=["bad1"])
    with pytest.raises(ValueError, match=r"structure bad2: site 1 holds Og \(Z=118\)"):
        CrystalDataset.from_structures([og], ids=["bad2"])


# ================================================================= embeddings
def test_transferred_table_lacking_a_data_element_warns_and_lists_it(nacl):
    from ctlib.data.dataset import CrystalDataset
    from ctlib.data.collate import collate_ct

    rng = np.random.default_rng(0)
    table = ElementEmbedding(["H", "O", "Cl", "Fe"], rng.normal(size=(4, 8)))  # no Na
    model = build_model("ct", 1, tiny_config("ct"), embedding=table)
    emb = model.atom_embedding
    assert emb.filled_elements == [] and "Na" in emb.filled
    ds = CrystalDataset.from_structures([nacl], targets={"a": [0.0]})
    with pytest.warns(UserWarning, match=r"lacks element\(s\) Na that occur in the data"):
        model(collate_ct(ds, np.arange(1), ["a"]))
    assert emb.filled_elements == ["Na"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once per element
        model(collate_ct(ds, np.arange(1), ["a"]))
    # up front, for a whole dataset
    e2 = AtomEmbedding(8, {"elements": ["H", "O"], "matrix": rng.normal(size=(2, 3))})
    with pytest.warns(UserWarning, match="Na, Cl"):
        assert e2.check_data_elements(ds.numbers) == ["Na", "Cl"]
    assert e2.filled_elements == ["Na", "Cl"]
    # complete tables say nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AtomEmbedding(8, "onehot")(torch.tensor([11, 17]))


def test_embedding_files_carry_a_checksum_of_their_content(tmp_path):
    rng = np.random.default_rng(1)
    e = ElementEmbedding(["H", "He", "Li"], rng.normal(size=(3, 4)), {"method": "test"},
                         rng.normal(size=(2, 3)), rng.normal(size=2))
    obj = json.loads(e.save(tmp_path / "e.json").read_text())
    assert obj["checksum"].startswith("sha256:")
    assert np.asarray(np.load(e.save(tmp_path / "e.npz"))["checksum"]).item() == obj["checksum"]
    assert ElementEmbedding.load(tmp_path / "e.json").elements == ["H", "He", "Li"]
    # a hand-edited element order (rows not moved) is refused, naming the file
    (tmp_path / "swapped.json").write_text(json.dumps(dict(obj, elements=["He", "H", "Li"])))
    with pytest.raises(ValueError, match=r"swapped\.json was changed after it was written"):
        ElementEmbedding.load(tmp_path / "swapped.json")
    with np.load(tmp_path / "e.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["elements"] = np.array(["Li", "He", "H"])
    np.savez(tmp_path / "swapped.npz", **arrays)
    with pytest.raises(ValueError, match=r"swapped\.npz was changed after it was written"):
        ElementEmbedding.load(tmp_path / "swapped.npz")
    # an edited value is caught too; a file without checksum (older ctlib, other tools) loads
    m = [list(r) for r in obj["matrix"]]
    m[0][0] += 1.0
    (tmp_path / "edited.json").write_text(json.dumps(dict(obj, matrix=m)))
    with pytest.raises(ValueError, match="checksum"):
        ElementEmbedding.load(tmp_path / "edited.json")
    old = {k: v for k, v in obj.items() if k != "checksum"}
    (tmp_path / "old.json").write_text(json.dumps(dict(old, elements=["He", "H", "Li"])))
    assert ElementEmbedding.load(tmp_path / "old.json").elements == ["He", "H", "Li"]
    assert ElementEmbedding.load(e.save(tmp_path / "e.csv")).elements == ["H", "He", "Li"]
    # load -> save keeps the sum (values are kept at 6 significant digits)
    again = ElementEmbedding.load(tmp_path / "e.json").save(tmp_path / "again.json")
    assert json.loads(again.read_text())["checksum"] == obj["checksum"]


def test_committed_embedding_files_without_checksum_still_load():
    files = sorted((ROOT / "results").glob("**/embeddings/*.json"))
    assert files
    for f in files:
        assert len(ElementEmbedding.load(f)) > 0


# ======================================================= issue 34: a new user's inputs
def _mgo():
    from pymatgen.core import Lattice, Structure

    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.21), ["Mg", "O"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])


def _bad_record(folder, **kw) -> str:
    """The DataError message of loading ``folder`` (which must fail)."""
    from ctlib.data import DataError, load_cif_folder

    with pytest.raises(DataError) as info:
        load_cif_folder(folder, progress=False, **kw)
    return str(info.value)


def test_decimal_comma_in_the_first_row_is_data_never_a_header(tmp_cache, tmp_path, nacl, si_diamond):
    """Issue 34.1: `s000,-1,00` was taken for a header: 'has no target 'target'; available:
    ['-1,00']', or, with target_names, s000 was dropped without a word."""
    from ctlib.data import load_cif_folder

    folder = _cif_folder(tmp_path / "cifs", {"s000": nacl, "s001": si_diamond,
                                             "s002": _strained(nacl, 1.02)})
    rows = (folder / "id_prop.csv").read_text().splitlines()
    (folder / "id_prop.csv").write_text("\n".join(["s000,-1,00"] + rows[1:]) + "\n")
    for kw in ({}, {"target_names": ["target"]}, {"target_names": ["target"], "cache": False}):
        msg = _bad_record(folder, **kw)
        assert "record 's000': line 1 of id_prop.csv has 3 cells, expected 2 (id, target)" in msg
        assert "a decimal comma splits -1,00 in two: write -1.00" in msg
    with pytest.warns(DataWarning, match=r"skipped 1 bad record.*'s000'"):  # never silent
        assert len(load_cif_folder(folder, target_names=["target"], skip_bad=True,
                                   progress=False)) == 2
    # quoted, as a spreadsheet of a decimal-comma locale writes it: a value that is no number
    (folder / "id_prop.csv").write_text("\n".join(['s000,"-1,00"'] + rows[1:]) + "\n")
    msg = _bad_record(folder, target_names=["target"])
    assert "record 's000': target 'target' = '-1,00' is not a number (a decimal comma? write -1.00)" in msg
    # a header is a first row of names (a letter first); it still names the targets
    (folder / "id_prop.csv").write_text("\n".join(["id,band_gap"] + rows) + "\n")
    ds = load_cif_folder(folder, progress=False)
    assert list(ds.targets) == ["band_gap"] and list(ds.ids) == ["s000", "s001", "s002"]
    # a row with too many cells is named whatever the first row holds
    (folder / "id_prop.csv").write_text("\n".join(rows[:2] + ["s002,0.1,7"]) + "\n")
    assert "record 's002': line 3 of id_prop.csv has 3 cells, expected 2" in _bad_record(folder)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_id_prop_saved_by_a_spreadsheet_with_a_byte_order_mark_loads(encoding, tmp_cache, tmp_path,
                                                                      nacl, si_diamond):
    """Issue 34.2: "record '\\ufeffs000': CIF file .../\\ufeffs000.cif not found"."""
    from ctlib.data import load_cif_folder

    folder = _cif_folder(tmp_path / "cifs", {"s000": nacl, "s001": si_diamond})
    plain = load_cif_folder(folder, progress=False, cache=False)
    table = folder / "id_prop.csv"
    table.write_bytes(table.read_text().encode(encoding))
    ds = load_cif_folder(folder, progress=False)
    assert list(ds.ids) == ["s000", "s001"]
    np.testing.assert_array_equal(ds.targets["target"], plain.targets["target"])
    assert ds.frac_coords.tobytes() == plain.frac_coords.tobytes()
    table.write_bytes("s000,0.1\ns\xe9,0.2\n".encode("latin-1"))  # neither: named, with the line
    msg = _bad_record(folder)
    assert f"{table} is not UTF-8 text (byte b'\\xe9' on line 2)" in msg


def test_cif_cut_at_a_line_boundary_is_a_bad_record(tmp_cache, tmp_path, nacl):
    """Issue 34.3: MgO left with 1 of its 8 sites trained with exit 0 (pymatgen's
    'Missing elements O' reached only the cache's report.json)."""
    from pymatgen.io.cif import CifWriter

    text = str(CifWriter(_mgo()))
    cut = text[:text.index("  Mg  Mg1")]  # the first site row is the last line kept
    folder = _cif_folder(tmp_path / "cifs", {"nacl": nacl}, bad={"mgo": cut})
    msg = _bad_record(folder)
    assert ("record 'mgo': the atom sites give Mg1 (1 sites) but _chemical_formula_sum on line 12 "
            "of the CIF declares 'Mg4 O4' (element(s) O missing): the file is cut short") in msg
    # the CIF convention: the formula of one unit, Z units in the cell; a cut there too
    conv = text.replace("'Mg4 O4'", "'Mg O'")
    _cif_folder(tmp_path / "conv", {"nacl": nacl}, bad={"mgo": conv})
    from ctlib.data import load_cif_folder

    assert len(load_cif_folder(tmp_path / "conv", progress=False)) == 2  # Z = 4 units: fine
    cut = conv[:conv.index("  O  O6")]
    _cif_folder(tmp_path / "conv_cut", {"nacl": nacl}, bad={"mgo": cut})
    assert "declares 'Mg O' (other proportions)" in _bad_record(tmp_path / "conv_cut")
    symm = str(CifWriter(_mgo(), symprec=0.1))  # Fm-3m: 2 sites, 192 operations
    lines = symm.splitlines()
    ops = [i for i, ln in enumerate(lines) if re.match(r"\s+\d+\s+'", ln)]
    short = "\n".join(lines[:ops[0] + 1] + lines[ops[-1] + 1:]) + "\n"  # only 'x, y, z' left
    _cif_folder(tmp_path / "symm", {"nacl": nacl}, bad={"mgo": short})
    msg = _bad_record(tmp_path / "symm")
    assert "record 'mgo': the atom sites give Mg1 O1 (2 sites)" in msg
    assert "0.25 times it, where once or _cell_formula_units_Z = 4 times is expected" in msg


def test_atoms_closer_than_the_physical_floor_are_a_bad_record(tmp_cache, tmp_path, nacl, po_cubic):
    """Issue 34.4: cell lengths in nm instead of Å were accepted (atoms 0.28 Å apart)."""
    from pymatgen.io.cif import CifWriter

    from ctlib.data import DataError, check_structure
    from ctlib.data.io import MIN_DISTANCE

    text = str(CifWriter(_mgo()))
    nm = re.sub(r"(_cell_length_[abc]\s+)4\.21", r"\g<1>0.421", text)
    folder = _cif_folder(tmp_path / "cifs", {"nacl": nacl}, bad={"mgo": nm})
    msg = _bad_record(folder)
    assert ("record 'mgo': site Mg0 (line 27 of the CIF) and site O5 (line 32 of the CIF) are "
            "0.21 Å apart, closer than the physical floor of 0.5 Å: cell lengths in nm instead "
            "of Å (multiply them by 10)") in msg
    assert MIN_DISTANCE == 0.5
    small = po_cubic.copy()
    small.scale_lattice(0.3359 ** 3)  # one atom per cell, a = 0.3359: its own image is close
    with pytest.raises(DataError, match=r"site 0 \(Po\) is 0.336 Å from its own periodic image"):
        check_structure(small)
    # the same check for `ctlib predict` (a structure without a file: its label or index)
    scaled = _mgo()
    scaled.scale_lattice(scaled.volume / 1000)
    with pytest.raises(DataError, match=r"site 0 \(Mg\) and site 5 \(O\) are 0.211 Å apart"):
        check_structure(scaled)
    # a negative or non-finite cell length is no cell (pymatgen would flip the vector)
    neg = text.replace("_cell_length_b   4.21000000", "_cell_length_b   -4.21000000")
    _cif_folder(tmp_path / "neg", {"nacl": nacl}, bad={"mgo": neg})
    assert ("record 'mgo': malformed CIF: _cell_length_b -4.21000000 (line 5 of the CIF) must be "
            "a positive length in Å") in _bad_record(tmp_path / "neg")


def test_the_floor_rejects_no_structure_of_the_real_datasets(hoip, castelli):
    """The shortest distances: 0.99 Å in HOIP, 1.30 Å in Castelli, 0.74 Å (H2) in MP-2018
    (checked once: 16 s; the registry datasets are parsed through the same check)."""
    from ctlib.data.io import MIN_DISTANCE, _closest_pair

    for ds in (hoip, castelli):
        step = 1 if len(ds) < 2000 else 7
        shortest = min(_closest_pair(ds.atoms(i)[2], ds.atoms(i)[1])[0] for i in range(0, len(ds), step))
        assert shortest > 1.5 * MIN_DISTANCE, (ds.name, shortest)


def test_top_level_config_keys_are_validated_like_the_sections(tmp_path, monkeypatch, capsys):
    """Issue 34.5: seed: "zero" gave "invalid literal for int()" without the key; seed: 1.7
    became 1. Every top-level key is checked before anything is loaded or trained."""
    monkeypatch.chdir(tmp_path)
    base = _train_cfg("cifs")
    registry = "dataset 'mp2019' is not a registry name (mp2018, castelli_perovskites, hoip)"
    cases = {
        "seed: zero": ({"seed": "zero"}, "seed must be an int in 0..4294967295, got 'zero'"),
        "seed: 1.7": ({"seed": 1.7}, "seed must be an int in 0..4294967295, got 1.7"),
        "seed: -1": ({"seed": -1}, "seed must be an int in 0..4294967295, got -1"),
        "seed: true": ({"seed": True}, "seed must be an int in 0..4294967295, got True"),
        "model": ({"model": "cttt"},
                  "model must be one of ['alignn', 'cgcnn', 'ct', 'megnet'], got 'cttt'"),
        "targets": ({"targets": ["a", "a"]},
                    "targets must be a target name or a list of distinct names"),
        "output": ({"output": 5}, "output must be a non-empty string, got 5 (quote it in YAML"),
        "experiment": ({"experiment": 2024}, "experiment must be a non-empty string, got 2024"),
        "split": ({"split": {"scheme": "random", "n_train": 1.5}},
                  "split.n_train must be an int >= 1, got 1.5"),
        "split key": ({"split": {"n_trian": 5}},
                      "split: unknown key(s) 'n_trian' (did you mean 'n_train'?)"),
        "dataset": ({"dataset": {"cif_folder": "cifs", "skip_bad": "yes"}},
                    "dataset.skip_bad must be true or false, got 'yes'"),
        "dataset path": ({"dataset": {"cif_folder": None}},
                         "dataset.cif_folder must be a path (a non-empty string), got None"),
        "dataset name": ({"dataset": "mp2019"}, registry),
        "train.seed": ({"train": {**base["train"], "seed": 4}},
                       "train.seed (4) is not used: the training seed is the top-level key seed (0)"),
        "model_config": ({"model_config": {"d_atom": 1.5}},
                         "section model_config: CTConfig.d_atom must be an int >= 1, got 1.5"),
    }
    for what, (change, words) in cases.items():
        conf = tmp_path / "c.yaml"
        conf.write_text(yaml.safe_dump({**base, **change}))
        assert main(["train", "--config", str(conf), "--no-progress"]) == 1, what
        err = capsys.readouterr().err
        assert err.startswith(f"ctlib: error: config {conf}") and words in err, (what, err)
        assert len(err.strip().splitlines()) == 1, err


def test_cli_prints_each_warning_as_one_clean_line(tmp_path, nacl, si_diamond):
    """Issue 34.6: warnings printed as Python warnings ('.../ctlib/cli.py:169: DataWarning:'
    and a source line), and the skip-bad warning pointed CLI users at a Python argument."""
    from ctlib.cli import _format_warning

    assert _format_warning("two\n  lines", DataWarning, "/x/cli.py", 169) == "ctlib: warning: two lines\n"
    structs = {f"s{i}": _strained(s, f) for i, (s, f) in enumerate(
        [(nacl, 0.98), (si_diamond, 1.0), (nacl, 1.02), (si_diamond, 1.04)])}
    _cif_folder(tmp_path / "cifs", structs, bad={"bad": XX_CIF.format(a="Xx", b="Na")})
    conf = tmp_path / "withbad.yaml"
    conf.write_text(yaml.safe_dump(dict(_train_cfg("cifs"), train={
        "epochs": 1, "batch_size": 4, "lr": 1e-3, "num_threads": 1})))
    env = {**__import__("os").environ, "CTLIB_CACHE": str(tmp_path / "cache")}
    r = subprocess.run([sys.executable, "-m", "ctlib", "train", "--config", str(conf),
                        "--no-progress", "--skip-bad"], capture_output=True, text=True,
                       cwd=tmp_path, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    warn = [ln for ln in lines if "skipped 1 bad record" in ln]
    assert len(warn) == 1 and warn[0].startswith("ctlib: warning: cifs: skipped 1 bad record"), r.stderr
    assert "record 'bad': site Xx1 (line 16 of the CIF): 'Xx' is not a chemical element" in warn[0]
    assert not any(".py:" in ln or "DataWarning" in ln or "warnings.warn" in ln for ln in lines), r.stderr
    listed = re.search(r'listed under "skipped" in (\S+\.report\.json)', warn[0])
    assert listed, warn[0]
    report = json.loads(Path(listed.group(1)).read_text())["report"]
    assert [s[0] for s in report["skipped"]] == ["bad"]


def test_errors_name_cif_sites_by_label_and_line(tmp_cache, tmp_path, nacl):
    """Issue 34.7: 'site 1' counted in pymatgen's sorted order, not the file's."""
    _cif_folder(tmp_path / "xx", {"nacl": nacl}, bad={"bad": XX_CIF.format(a="Na", b="Xx")})
    assert "record 'bad': site Xx1 (line 17 of the CIF): 'Xx' is not a chemical element" in \
        _bad_record(tmp_path / "xx")
    _cif_folder(tmp_path / "og", {"nacl": nacl}, bad={"bad": XX_CIF.format(a="Og", b="Na")})
    assert "record 'bad': site Og1 (line 16 of the CIF): element Og (Z=118) is outside Z=1..100" in \
        _bad_record(tmp_path / "og")
    disordered = XX_CIF.format(a="Na", b="Cl").replace("Cl1 Cl 0.5 0.5 0.5 1", "Cl1 Cl 0.5 0.5 0.5 0.5")
    _cif_folder(tmp_path / "occ", {"nacl": nacl}, bad={"bad": disordered})
    assert "record 'bad': partial occupancy / disorder at site Cl1 (line 17 of the CIF)" in \
        _bad_record(tmp_path / "occ")


def test_cif_site_lines_and_atom_rows_read_loops_only():
    """The CIF walker behind the error wording, through its two readers: labels map to
    their row's line in an ``_atom_site_label`` loop, single-valued tags and ``data_``
    lines are never sites, and only the first data block is mapped; the row count sees
    every block."""
    from ctlib.data.checks import _cif_atom_rows, _cif_site_lines

    text = ("_atom_site_label X\nloop_\n_atom_site_label\nNa1\ndata_a\n_atom_site_fract_x 0.1\n"
            "loop_\n_atom_site_label\n_atom_site_fract_x\nFe1 0\n'O1' 0.5\n"
            "data_b\nloop_\n_atom_site_label\n_atom_site_fract_x\nCl1 0\n")
    assert _cif_site_lines(text) == {"Na1": 4, "Fe1": 10, "O1": 11}
    assert _cif_atom_rows(text) == 4  # the single-valued x of data_a, Fe1, O1, Cl1
