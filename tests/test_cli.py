"""The ctlib command: help texts, strict YAML configs, and an end-to-end run on real data."""
import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from ctlib.cli import load_yaml, main
from ctlib.config import get_profile
from ctlib.embeddings import ElementEmbedding
from ctlib.models import tiny_config
from ctlib.results import RECORD_KEYS

HELP = [
    ([], ["data", "train", "predict", "embed", "book"]),
    (["data"], ["info"]),
    (["data", "info"], ["NAME", "--data-root", "examples"]),
    (["train"], ["--config", "--device", "--force", "model_config", "cif_folder", "examples"]),
    (["predict"], ["CHECKPOINT_DIR", "CIF", "--csv", "examples"]),
    (["embed"], ["extract", "export", "show"]),
    (["embed", "extract"], ["-o", "--format", "--elements", "method A", "examples"]),
    (["embed", "export"], ["--format", "atom_init", "--run", "--fill", "--learned-part", "examples"]),
    (["embed", "show"], ["--rows", "--run", "examples"]),
    (["book"], ["--profile", "--only", "--no-html", "-p"]),
]


@pytest.mark.parametrize("cmd,words", HELP, ids=lambda x: " ".join(x) if isinstance(x, list) else None)
def test_help_of_every_subcommand(cmd, words, capsys):
    assert main(cmd + ["--help"]) == 0
    out = capsys.readouterr().out
    for w in words:
        assert w in out, f"`ctlib {' '.join(cmd)} --help` does not mention {w!r}"


def test_group_without_subcommand_prints_help(capsys):
    assert main(["embed"]) == 2
    assert "extract" in capsys.readouterr().out
    assert main(["nonsense"]) == 2


def _write(tmp_path, cfg, name="run.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(cfg))
    return p


def test_yaml_reads_exponent_floats(tmp_path):
    p = tmp_path / "a.yaml"
    p.write_text("train: {lr: 1e-3, weight_decay: 5E-5, epochs: 3}\nname: 1e3x\n")
    cfg = load_yaml(p)
    assert cfg["train"] == {"lr": 1e-3, "weight_decay": 5e-5, "epochs": 3}
    assert cfg["name"] == "1e3x"


@pytest.mark.parametrize("cfg,msg", [
    ({"model": "ct", "targets": "e_form", "dataset": "hoip", "modle_config": {}},
     "unknown key(s) 'modle_config' (did you mean 'model_config'?)"),
    ({"model": "ct", "targets": "e_form"}, "missing required key 'dataset'"),
    ({"model": "ct", "targets": "e_form", "dataset": "hoip", "train": {"epoch": 2}},
     "did you mean 'epochs'"),
    ({"model": "ct", "targets": "e_form", "dataset": {"cif_folder": "x", "bogus": 1}},
     "dataset (cif_folder): unknown key(s) 'bogus'"),
    ({"model": "ct", "targets": "e_form", "dataset": "nope"}, "not a registry name"),
])
def test_train_config_errors(tmp_path, capsys, cfg, msg):
    assert main(["train", "--config", str(_write(tmp_path, cfg))]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ctlib: error:") and msg in err


def test_missing_files_are_clear_errors(tmp_path, capsys):
    assert main(["train", "--config", str(tmp_path / "none.yaml")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["predict", str(tmp_path), "a.cif"]) == 1
    assert "not a finished training run" in capsys.readouterr().err
    assert main(["embed", "show", str(tmp_path / "x.json")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_train_predict_embed_end_to_end_on_real_subset(tmp_path, capsys):
    smoke = get_profile("smoke")
    cfg = {
        "model": "ct", "model_config": tiny_config("ct"), "targets": "e_form",
        "dataset": "castelli_perovskites",
        "split": {"scheme": "matbench", "fold": 0, "n_train": smoke.n_train,
                  "n_val": smoke.n_val, "n_test": smoke.n_test},
        "train": {"epochs": smoke.epochs["ct"], "batch_size": smoke.batch_size["ct"],
                  "lr": 1e-3, "num_threads": 1},
        "output": "out",
    }
    conf = _write(tmp_path, cfg, "smoke_ct.yaml")
    assert main(["train", "--config", str(conf), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "test e_form: MAE" in out and "eV/cell" in out
    recs = list((tmp_path / "out" / "results" / "cli" / "smoke_ct").glob("*.json"))
    assert len(recs) == 1
    rec = json.loads(recs[0].read_text())
    assert not [k for k in RECORD_KEYS if k not in rec]
    assert rec["dataset"]["split_counts"] == {"train": smoke.n_train, "val": smoke.n_val,
                                              "test": smoke.n_test}
    assert rec["test"]["e_form"]["n"] == smoke.n_test and rec["test"]["e_form"]["mae"] > 0
    # the same config again: read from the store, not retrained
    assert main(["train", "--config", str(conf), "--no-progress"]) == 0
    capsys.readouterr()
    assert json.loads(recs[0].read_text())["finished"] == rec["finished"]

    run_dir = tmp_path / "out" / "runs" / "cli" / "smoke_ct" / rec["run_id"]
    from ctlib.data import load

    ds = load("castelli_perovskites", progress=False)
    cifs = []
    for i in (0, 1):
        cifs.append(str(tmp_path / f"s{i}.cif"))
        ds.structure(i).to(filename=cifs[-1])
    assert main(["predict", str(run_dir), *cifs, "--csv", str(tmp_path / "p.csv")]) == 0
    rows = list(csv.reader(open(tmp_path / "p.csv")))
    assert rows[0] == ["file", "e_form"] and len(rows) == 3
    assert all(np.isfinite(float(r[1])) for r in rows[1:])
    capsys.readouterr()

    # embeddings: extract from the checkpoint, export the stored one for CGCNN, show
    assert main(["embed", "extract", str(run_dir), "-o", str(tmp_path / "e.npz")]) == 0
    extracted = ElementEmbedding.load(tmp_path / "e.npz")
    stored = ElementEmbedding.load(tmp_path / "out" / "results" / rec["embedding_path"])
    np.testing.assert_allclose(extracted.matrix, stored.matrix, rtol=1e-5, atol=1e-7)
    with pytest.warns(UserWarning, match="Po"):
        assert main(["embed", "export", str(recs[0].parent), "--format", "atom_init",
                     "-o", str(tmp_path / "atom_init.json")]) == 0
    ai = json.loads((tmp_path / "atom_init.json").read_text())
    assert list(ai) == [str(z) for z in range(1, 101)]
    assert {len(v) for v in ai.values()} == {tiny_config("ct")["d_atom"]}
    assert main(["embed", "export", str(recs[0]), "--format", "csv",
                 "-o", str(tmp_path / "e.json")]) == 1  # extension does not match the format
    capsys.readouterr()
    assert main(["embed", "show", str(tmp_path / "e.npz"), "--rows", "2"]) == 0
    out = capsys.readouterr().out
    assert "89 elements" in out and "method=A" in out


def test_embed_export_learned_part_subtracts_the_profiles_untrained_table(tmp_path, capsys):
    from ctlib.experiments import untrained_ct_table

    start = untrained_ct_table("smoke", 0)
    delta = np.random.default_rng(0).normal(size=start.matrix.shape)
    ElementEmbedding(start.elements, start.matrix + delta, {"run_id": "ct-x-s0"}).save(tmp_path / "t.npz")
    assert main(["embed", "export", str(tmp_path / "t.npz"), "--learned-part", "smoke",
                 "--format", "csv", "-o", str(tmp_path / "l.csv")]) == 0
    got = ElementEmbedding.load(tmp_path / "l.csv")
    np.testing.assert_allclose(got.matrix, delta, rtol=1e-4, atol=1e-4)
    assert "learned part" in capsys.readouterr().out
    assert main(["embed", "export", str(tmp_path / "t.npz"), "--learned-part", "nope",
                 "--format", "csv", "-o", str(tmp_path / "l.csv")]) == 1
    assert "not a profile" in capsys.readouterr().err
    assert main(["embed", "export", str(tmp_path / "t.npz"), "--learned-part", "cpu",   # 128-d start
                 "--format", "csv", "-o", str(tmp_path / "l.csv")]) == 1
    err = capsys.readouterr().err
    assert "t.npz" in err and "dimensions" in err


def test_data_info_on_a_registry_dataset(capsys):
    from ctlib.data import get_split, load

    ds = load("hoip", progress=False)
    assert main(["data", "info", "hoip"]) == 0
    out = capsys.readouterr().out
    assert f"structures: {len(ds)} " in out
    assert ", ".join(f"{k} {len(v)}" for k, v in get_split(ds).items()) in out
    assert "band_gap_gga" in out and "eV/atom" in out and "train" in out
    assert main(["data", "info", "unknown_set"]) == 1


# ------------------------------------------------------------- example configs
EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples" / "quick").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_quick_examples_match_the_quick_profile(path):
    """examples/quick/<model>.yaml is the book's quick run of that model on E_f, via the CLI."""
    from ctlib import experiments
    from ctlib.config import get_profile
    from ctlib.models import build_model
    from ctlib.config import TrainConfig

    cfg = yaml.safe_load(path.read_text())
    model = cfg["model"]
    assert path.stem == model and cfg["targets"] == ["formation_energy_per_atom"]
    prof = get_profile("quick")
    want = experiments.train_config(model, prof, 1)
    got = TrainConfig.from_dict(cfg["train"])
    for key, value in want.items():
        if key != "device":
            assert getattr(got, key) == value, (model, key)
    assert build_model(model, 1, cfg["model_config"]).config.to_dict() == \
        build_model(model, 1, experiments.model_config(model, prof)).config.to_dict()
    assert cfg["split"]["n_train"] == (prof.n_train_model[model] or prof.n_train)
    assert cfg["split"]["n_val"] == prof.n_val
    assert cfg["split"].get("n_test") == prof.n_test_model[model]


def test_there_is_one_quick_example_per_model():
    from ctlib.config import MODELS

    assert sorted(p.stem for p in EXAMPLES) == sorted(MODELS)
