"""The "Use the embeddings" page: the downloads ctlib.book exports, and its worked example.

A small synthetic results store (CT pretraining records of a profile, each naming an
element table) goes through ``ctlib.book.export_embeddings``; every file is then read
back the way its users read it: ``atom_init.json`` as the original CGCNN code does,
the CSV with the ``elementembeddings`` package, the NPZ with ``ElementEmbedding.load``.
The page's ``ctlib train`` example runs (one epoch) on a small CIF folder with an
exported ``atom_init.json``.
"""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from ctlib import book
from ctlib.elements import ELEMENTS, SYMBOLS
from ctlib.embeddings import ElementEmbedding

EF, EG = "formation_energy_per_atom", "band_gap"
PAGE = book.REPO_ROOT / "book" / "embeddings.md"


def _record(root: Path, profile: str, model: str, targets: list[str], h: str, *, seed=0,
            dim=16, finished="2026-01-01T00:00:00+00:00", elements=ELEMENTS,
            experiment="fronts", train=None) -> dict:
    """Write one run record (and its element table) into a synthetic store."""
    rid = f"{model}-{'+'.join(targets)}-{h}-s{seed}"
    rng = np.random.default_rng(abs(hash(rid)) % 2**32)
    emb_rel = f"{profile}/{experiment}/embeddings/{rid}.json"
    ElementEmbedding(list(elements), rng.normal(size=(len(elements), dim)),
                     {"run_id": rid, "method": "A"}).save(root / emb_rel)
    rec = {"schema": 1, "run_id": rid, "profile": profile, "experiment": experiment,
           "model": model, "targets": targets, "seed": seed, "config_hash": h * 2,
           "units": {EF: "eV/atom", EG: "eV"}, "code": {"commit": "0123456789abcdef", "dirty": False},
           "device": "cpu (2 threads)", "finished": finished, "wall_s": 7200.0,
           "history": [{"epoch": 1}, {"epoch": 2}], "epochs_run": 2, "best_epoch": 2,
           "test": {t: {"mae": 0.1 + i, "n": 10} for i, t in enumerate(targets)},
           "embedding_path": emb_rel, "predictions_path": None,
           "config": {"train": train or {"scheduler": "cosine", "lr": 1e-4}}}
    path = root / profile / experiment / f"{rid}.json"
    path.write_text(json.dumps(rec))
    return rec


@pytest.fixture
def store(tmp_path):
    """Three CT tables of profile ``cpu`` (mt, E_f, E_g), an older duplicate, a CGCNN front."""
    root = tmp_path / "results"
    recs = {
        "mt": _record(root, "cpu", "ct", [EF, EG], "aaaa1111"),
        "E_f": _record(root, "cpu", "ct", [EF], "bbbb2222", finished="2026-02-01T00:00:00+00:00"),
        "E_g": _record(root, "cpu", "ct", [EG], "cccc3333", elements=SYMBOLS[:94]),
    }
    _record(root, "cpu", "ct", [EF], "dddd4444", finished="2025-12-01T00:00:00+00:00")  # older
    _record(root, "cpu", "cgcnn", [EF], "eeee5555")                                      # not CT
    return root, recs


def test_export_writes_three_readable_files_per_table(store, tmp_path):
    root, recs = store
    out = tmp_path / "downloads"
    manifest = book.export_embeddings("cpu", root, out)
    assert manifest["problems"] == []
    assert [t["label"] for t in manifest["tables"]] == ["mt", "E_f", "E_g"]
    assert {t["label"]: t["run_id"] for t in manifest["tables"]} == \
        {k: r["run_id"] for k, r in recs.items()}                  # the newest E_f run
    assert json.loads((out / "cpu" / "manifest.json").read_text()) == manifest

    for t in manifest["tables"]:
        source = ElementEmbedding.load(root / recs[t["label"]]["embedding_path"])
        files = {k: out / "cpu" / v for k, v in t["files"].items()}
        assert t["elements"] == source.elements and t["dim"] == source.dim == 16
        assert files["atom_init"].name == "atom_init.json"

        # atom_init.json, as CGCNN's AtomCustomJSONInitializer reads it
        raw = json.loads(files["atom_init"].read_text())
        assert sorted(raw, key=int) == [str(z) for z in range(1, 101)]
        assert all(isinstance(v, list) for v in raw.values())
        assert {len(v) for v in raw.values()} == {source.dim}
        table = {int(k): np.array(v, dtype=float) for k, v in raw.items()}
        for sym in ("H", "Fe", "Pu"):
            assert np.allclose(table[SYMBOLS.index(sym) + 1], source.vector(sym), rtol=1e-5, atol=1e-6)
        zero = [s for s in SYMBOLS if s not in source.elements]
        assert t["atom_init_zero"] == zero
        assert all(not table[SYMBOLS.index(s) + 1].any() for s in zero)

        # CSV, with the elementembeddings package
        from elementembeddings.core import Embedding

        ee = Embedding.from_csv(str(files["csv"]), embedding_name=t["stem"])
        assert list(ee.embeddings) == source.elements
        for sym in source.elements:
            assert np.allclose(np.asarray(ee.embeddings[sym], dtype=float), source.vector(sym),
                               rtol=1e-5, atol=1e-6)
        with open(files["csv"], newline="") as fh:
            assert next(csv.reader(fh)) == ["element"] + [f"e{j}" for j in range(source.dim)]

        # NPZ, with ctlib (its checksum is verified on load)
        back = ElementEmbedding.load(files["npz"], expect_elements=t["elements"])
        assert np.array_equal(back.matrix, source.matrix)
        assert back.provenance["run_id"] == t["run_id"]
        assert back.provenance["record"] == f"results/cpu/fronts/{t['run_id']}.json"
        assert "source_file" not in json.loads(str(np.load(files["npz"])["provenance"]))

        for kind, f in files.items():
            assert t["sha256"][kind] == book._sha256(f)


def test_fragment_links_every_file_and_names_the_run(store, tmp_path):
    root, recs = store
    book_dir = tmp_path / "book"
    manifest = book.export_embeddings("cpu", root, book_dir / "generated" / "downloads")
    text = book.embeddings_fragment(manifest, "generated/downloads/cpu")
    links = re.findall(r"\{download\}`[^<`]*<([^>]+)>`", text)
    assert len(links) == 9
    for link in links:
        assert (book_dir / link).is_file(), link          # relative to the including page
    for r in recs.values():
        assert f"`{r['run_id']}`" in text and f"results/cpu/fronts/{r['run_id']}.json" in text
    assert "Pending" not in text
    assert "Po, At, Rn, Fr, Ra" in text                   # the zero rows of atom_init.json
    assert str(tmp_path) not in text


def test_other_schedule_table_is_offered_after_the_three(store, tmp_path):
    root, recs = store
    text = book.embeddings_fragment(book.export_embeddings("cpu", root, tmp_path / "d0"), "x")
    assert ("Not stored yet for `cpu`: Multi-task CT table ($E_f$ + $E_g$), OneCycle schedule; Multi-task CT "
            "table ($E_f$ + $E_g$), pretrained in fp32 (the pretraining seeds).") in text
    alt = _record(root, "cpu", "ct", [EF, EG], "ffff6666", experiment="fronts_schedule",
                  train={"scheduler": "onecycle", "lr": 3e-4})
    manifest = book.export_embeddings("cpu", root, tmp_path / "downloads")
    assert [t["label"] for t in manifest["tables"]] == ["mt", "E_f", "E_g", "mt_alt"]
    t = manifest["tables"][-1]
    assert t["run_id"] == alt["run_id"] and t["stem"] == "ct_mt_onecycle_s0"
    assert manifest["tables"][0]["run_id"] == recs["mt"]["run_id"]   # never stands in for mt
    back = ElementEmbedding.load(tmp_path / "downloads" / "cpu" / t["files"]["npz"])
    assert back.provenance["record"] == f"results/cpu/fronts_schedule/{alt['run_id']}.json"
    text = book.embeddings_fragment(manifest, "generated/downloads/cpu")
    assert "### Multi-task CT table ($E_f$ + $E_g$), OneCycle schedule, seed 0" in text
    assert "OneCycle schedule, peak lr 3e-4" in text and "cosine schedule, lr 1e-4" in text
    assert "Not stored yet for `cpu`: Multi-task CT table ($E_f$ + $E_g$), pretrained in fp32" in text
    # the fp32 pretraining seeds follow, one download per seed, never standing in for mt
    for seed in (0, 1, 2):
        _record(root, "cpu", "ct", [EF, EG], f"eeee000{seed}", experiment="fronts_fp32", seed=seed)
    manifest = book.export_embeddings("cpu", root, tmp_path / "d2")
    assert [t["stem"] for t in manifest["tables"]] == ["ct_mt_s0", "ct_Ef_s0", "ct_Eg_s0", "ct_mt_onecycle_s0",
                                                       "ct_mt_fp32_s0", "ct_mt_fp32_s1", "ct_mt_fp32_s2"]
    assert manifest["tables"][0]["run_id"] == recs["mt"]["run_id"]
    assert "Not stored yet" not in book.embeddings_fragment(manifest, "x")
    # a profile without another schedule or pretraining seeds never lists those tables as missing
    quick = book.embeddings_fragment(book.export_embeddings("quick", root, tmp_path / "d1"), "x")
    assert "OneCycle" not in quick and "fp32" not in quick


def test_no_stored_table_means_pending_and_no_links(tmp_path):
    (tmp_path / "results" / "cpu" / "fronts").mkdir(parents=True)
    manifest = book.export_embeddings("cpu", tmp_path / "results", tmp_path / "downloads")
    assert manifest["tables"] == []
    text = book.embeddings_fragment(manifest, "generated/downloads/cpu")
    assert "**Pending.**" in text and "ctlib campaign --profile cpu" in text
    assert "{download}" not in text
    # a store without the profile at all
    manifest = book.export_embeddings("paper", tmp_path / "nothing", tmp_path / "downloads")
    assert manifest["tables"] == [] and "{download}" not in book.embeddings_fragment(manifest, "x")


def test_damaged_record_or_table_is_listed_not_raised(store, tmp_path):
    root, recs = store
    (root / "cpu" / "fronts" / "broken.json").write_text("{not json")
    (root / recs["E_g"]["embedding_path"]).write_text("{}")
    manifest = book.export_embeddings("cpu", root, tmp_path / "downloads")
    assert [t["label"] for t in manifest["tables"]] == ["mt", "E_f"]
    problems = " ".join(manifest["problems"])
    assert "broken.json" in problems and recs["E_g"]["run_id"] in problems
    assert str(tmp_path) not in problems
    text = book.embeddings_fragment(manifest, "generated/downloads/cpu")
    assert "{warning}" in text and "band gap" in text     # E_g is named as not stored


def test_export_replaces_files_of_an_earlier_build(store, tmp_path):
    root, _ = store
    out = tmp_path / "downloads"
    stale = out / "cpu" / "ct_old_s0" / "atom_init.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    book.export_embeddings("cpu", root, out)
    assert not stale.exists()


# ----------------------------------------------------------------- the worked example
def _page_yaml(name: str) -> dict:
    text = PAGE.read_text()
    for block in re.findall(r"```yaml\n(.*?)```", text, re.S):
        if block.lstrip().startswith(f"# {name}"):
            return yaml.safe_load(block)
    raise AssertionError(f"{PAGE} shows no yaml block starting with '# {name}'")


def _cif_folder(folder: Path, n: int = 12) -> None:
    """n small real crystals (rock salt, CsCl and zinc blende types) with a made-up target."""
    from pymatgen.core import Lattice, Structure

    folder.mkdir(parents=True)
    pairs = [("Na", "Cl"), ("K", "Br"), ("Mg", "O"), ("Ca", "O"), ("Li", "F"), ("Cs", "Cl"),
             ("Zn", "S"), ("Ga", "As"), ("Ba", "O"), ("Sr", "O"), ("Rb", "I"), ("Ag", "Cl")]
    rows = []
    for i, (a, b) in enumerate(pairs[:n]):
        s = Structure(Lattice.cubic(4.0 + 0.1 * i), [a, b], [[0, 0, 0], [0.5, 0.5, 0.5]])
        s.to(filename=str(folder / f"c{i}.cif"))
        rows.append(f"c{i},{-1.0 - 0.1 * i:.3f}")
    (folder / "id_prop.csv").write_text("\n".join(rows) + "\n")


def test_page_example_trains_cgcnn_from_the_exported_atom_init(store, tmp_path):
    from ctlib.cli import main

    root, _ = store
    manifest = book.export_embeddings("cpu", root, tmp_path / "downloads")
    mt = manifest["tables"][0]
    cfg = _page_yaml("cgcnn_ct.yaml")
    assert cfg["model"] == "cgcnn" and cfg["model_config"]["embedding_init"] == "external"
    work = tmp_path / "work"
    _cif_folder(work / cfg["dataset"]["cif_folder"])
    atom_init = work / cfg["embedding"]
    atom_init.write_bytes((tmp_path / "downloads" / "cpu" / mt["files"]["atom_init"]).read_bytes())
    cfg["train"].update(epochs=1, batch_size=4)        # the page's file, one short epoch
    (work / "cgcnn_ct.yaml").write_text(yaml.safe_dump(cfg))
    assert main(["train", "--config", str(work / "cgcnn_ct.yaml"), "--no-progress"]) == 0
    recs = list((work / cfg["output"] / "results").rglob("cgcnn-*.json"))
    recs = [r for r in recs if "embeddings" not in r.parts]
    assert len(recs) == 1
    rec = json.loads(recs[0].read_text())
    assert rec["config"]["model_config"]["embedding_init"] == "external"
    assert rec["config"]["embedding_sha256"] is not None
    # the trained table started from the CT table: its width is the CT table's
    assert ElementEmbedding.load(work / cfg["output"] / "results" / rec["embedding_path"]).dim > 0
