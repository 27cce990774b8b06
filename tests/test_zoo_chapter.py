"""The embedding-zoo chapter (notebook 13, ctlib.analysis.zoo): labels, ranking, pending
transfer runs, the computed finding and the figure, on small synthetic frames. Nothing trains;
one CatBoost CV of two tiny tables checks the reverse-prediction wrapper and its cache."""
import json
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pandas as pd
import pytest

from ctlib import book, pages, report
from ctlib import zoo as zoo_tables
from ctlib.analysis import zoo

matplotlib.use("Agg")
REPO = Path(__file__).resolve().parents[1]
RECORD = {"dataset": {"split_counts": {"train": 44441, "val": 3655, "test": 3126}}}


def _rows(maes: dict, seeds=(0, 1, 2)) -> pd.DataFrame:
    """Transfer rows: ``maes[(dataset, start)]`` is a mean MAE (each seed ±1 %) or None (pending)."""
    rows = []
    for (d, start), m in maes.items():
        for s in seeds:
            mae = np.nan if m is None else m * (1 + 0.01 * (s - 1))
            rows.append({"dataset": d, "start": start, "seed": s, "unit": "eV/atom", "mae": mae,
                         "n_test": 334, "split_hash": f"{d}-{s}", "run_id": None if m is None else f"r{s}"})
    return pd.DataFrame(rows, columns=["dataset", "start", "seed", "unit", "mae", "n_test", "split_hash", "run_id"])


def _ranked(r2: dict, maes: dict, record=RECORD):
    labels = zoo.table_labels(record)
    rows = _rows(maes)
    summary = zoo.transfer_summary(rows)
    return zoo.rank_tables(labels, pd.Series(r2, dtype=float), summary), rows


# ---------------------------------------------------------------- labels
def test_labels_name_every_table_and_what_it_saw():
    labels = zoo.table_labels(RECORD)
    assert list(labels["table"]) == [*zoo.REFERENCE_STARTS, *zoo_tables.TABLES]
    assert labels["table"].is_unique and set(labels["family"]) <= set(zoo.FAMILIES)
    ct = labels.set_index("table").loc[zoo.OWN]
    assert (ct["kind"], ct["data"], ct["sees_test"]) == ("input", "MP-2018 train split (44,441 cells)", False)
    assert zoo.table_labels(None).set_index("table").loc[zoo.OWN, "data"] == "MP-2018 train split"
    seen = set(labels.loc[labels["sees_test"], "table"])
    assert seen == {"megnet16", "MEGNet MP-2018 E_f", "M3GNet MP-2018 E_f", "MEGNet MP-2019 E_g"}
    assert (labels["saw"] == zoo_tables.SAW_LABELS).equals(labels["sees_test"])
    # every universal potential trained on a later MP release: most of our test materials, with DFT energies
    energies = set(labels.loc[labels["saw"] == zoo_tables.SAW_ENERGIES, "table"])
    assert energies == {"CHGNet 0.3.0", "SevenNet-0", "M3GNet MP-2021 PES", "TensorNet MatPES",
                        *(t for t in zoo_tables.TABLES if t.endswith("(last layer)"))}
    assert labels.loc[~labels["table"].isin(seen | energies), "saw"].eq("").all()     # CT, cgcnn92, skipatom, ...
    by_kind = labels.groupby("family")["table"].count()
    assert by_kind["zoo: input"] == 7 and by_kind["zoo: last layer"] == 4
    assert "melting point" in labels.set_index("table").loc["oliynyk_sc", "features"]
    shown = zoo.labels_table(labels)
    col = shown.set_index("table")["saw our test materials"]
    assert (col["megnet16"], col["CHGNet 0.3.0"], col[zoo.OWN]) == (
        "yes, with our labels", "most, with DFT energies (later MP)", "no")
    assert shown.set_index("table").loc["mat2vec", "predicted properties among its features"] == "—"


# ---------------------------------------------------------------- ranking and pending
def test_ranking_orders_by_r2_and_mae_and_leaves_pending_unranked():
    r2 = {zoo.OWN: 0.30, "cgcnn92": 0.50, "random": -0.1, "CHGNet 0.3.0": 0.60}
    maes = {("castelli-3334", zoo.OWN): 0.017, ("castelli-3334", "cgcnn92"): 0.018,
            ("castelli-3334", "random"): 0.020, ("castelli-3334", "CHGNet 0.3.0"): None,
            ("hoip", zoo.OWN): 0.0080, ("hoip", "cgcnn92"): 0.0079}
    ranked, _ = _ranked(r2, maes)
    assert list(ranked["table"][:4]) == ["CHGNet 0.3.0", "cgcnn92", zoo.OWN, "random"]
    assert list(ranked["r2_rank"][:4]) == [1, 2, 3, 4] and ranked["r2_rank"][4:].isna().all()
    r = ranked.set_index("table")
    assert (r.loc[zoo.OWN, "castelli_rank"], r.loc["cgcnn92", "castelli_rank"], r.loc["random", "castelli_rank"]) \
        == (1, 2, 3)
    assert pd.isna(r.loc["CHGNet 0.3.0", "castelli_rank"]) and r.loc["CHGNet 0.3.0", "castelli_cell"] == "pending"
    assert r.loc["CHGNet 0.3.0", "castelli_n"] == 0 and r.loc["CHGNet 0.3.0", "castelli_planned"] == 3
    assert r.loc["mat2vec", "castelli_cell"] == "pending" and r.loc["mat2vec", "castelli_planned"] == 0
    assert (r.loc["cgcnn92", "hoip_rank"], r.loc[zoo.OWN, "hoip_rank"]) == (1, 2)
    assert r.loc[zoo.OWN, "castelli_n"] == 3 and r.loc[zoo.OWN, "castelli_mae"] == pytest.approx(0.017)
    shown = zoo.ranked_table(ranked).set_index("table")
    assert shown.loc["CHGNet 0.3.0", "R² rank"] == "#1" and shown.loc["CHGNet 0.3.0", "Castelli-3,334 rank"] == "—"
    assert shown.loc["mat2vec", "mean R² (5 properties)"] == "—"
    assert shown.loc["megnet16", "saw our test materials"] == "yes, with our labels"


def test_ties_share_the_better_rank():
    ranked, _ = _ranked({zoo.OWN: 0.4, "cgcnn92": 0.4, "random": 0.1}, {})
    r = ranked.set_index("table")["r2_rank"]
    assert (r[zoo.OWN], r["cgcnn92"], r["random"]) == (1, 1, 3)


# ---------------------------------------------------------------- paired verdicts
def test_zoo_verdicts_pair_each_zoo_table_with_both_baselines():
    maes = {("castelli-3334", zoo.OWN): 0.020, ("castelli-3334", "cgcnn92"): 0.018,
            ("castelli-3334", "SevenNet-0"): 0.016, ("castelli-3334", "CHGNet 0.3.0"): None}
    rows = _rows(maes)
    v = zoo.zoo_verdicts(rows, ["SevenNet-0", "CHGNet 0.3.0"])
    assert list(v["claim"]) == ["SevenNet-0 vs cgcnn92", "CHGNet 0.3.0 vs cgcnn92",
                                "SevenNet-0 vs CT mt", "CHGNet 0.3.0 vs CT mt"]
    assert list(v["verdict"]) == [report.REPRODUCED, report.MISSING, report.REPRODUCED, report.MISSING]
    assert v.iloc[2]["mean_rel"] == pytest.approx(-0.2)
    # the scarce rows kept beside the zoo: the reference starts only
    scarce = _rows({("hoip", "onehot"): 0.01, ("hoip", "cgcnn92"): 0.01, ("hoip", "CT E_f"): 0.01})
    kept = zoo.transfer_rows(scarce, _rows({("hoip", "SevenNet-0"): None}))
    assert list(dict.fromkeys(kept["start"])) == ["cgcnn92", "SevenNet-0"]
    table = zoo.transfer_table(zoo.transfer_summary(rows), zoo.table_labels())
    assert table.loc["SevenNet-0", "family"] == "zoo: input, saw most of our test materials"
    assert table.loc["CHGNet 0.3.0"].iloc[1] == "pending"


# ---------------------------------------------------------------- the finding
def test_finding_is_written_from_the_numbers():
    maes = {("castelli-3334", zoo.OWN): 0.017, ("castelli-3334", "cgcnn92"): 0.018,
            ("castelli-3334", "SevenNet-0"): 0.016, ("hoip", zoo.OWN): 0.008, ("hoip", "cgcnn92"): 0.009,
            ("hoip", "SevenNet-0"): None}
    low, rows = _ranked({zoo.OWN: 0.10, "cgcnn92": 0.50, "oliynyk_sc": 0.70, "megnet16": 0.80, "random": 0.0},
                        maes)
    verdicts = zoo.zoo_verdicts(rows, ["SevenNet-0"])
    text = zoo.finding(low, verdicts)
    assert "CT's table ranks #4 of 5**" in text
    assert "#3 of 4 among the tables whose model was not trained on our test labels" in text    # megnet16 was
    assert "The best is megnet16 (0.80)" in text and "random table scores 0.00" in text
    assert "Castelli-3,334 it ranks #2 of 3 (test MAE 0.0170 eV/atom; best: SevenNet-0, 0.0160)" in text
    assert "HOIP it ranks #1 of 2 (test MAE 0.00800 eV/atom; the lowest)" in text
    assert "16 of the 19 tables are pending there" in text and "17 of the 19" in text
    assert "lower MAE in 1 and a higher one in 0 of the 1 (data set, table) pairs judged" in text
    assert "(data set, table) pairs judged, 1 pair pending." in text            # no "other 0 intervals"
    high, _ = _ranked({zoo.OWN: 0.90, "oliynyk_sc": 0.70}, maes)
    text_high = zoo.finding(high, verdicts)
    assert text_high != text and "CT's table ranks #1 of 2**" in text_high
    assert "The best is CT mt (0.90)" in text_high
    best_reads_back, _ = _ranked({zoo.OWN: 0.1, "oliynyk_sc": 0.7}, maes)
    assert "whose features include atomic radius, melting point" in zoo.finding(best_reads_back)


def test_finding_says_what_is_pending():
    ranked, rows = _ranked({"cgcnn92": 0.5}, {})
    assert zoo.finding(ranked).startswith("**CT's table (CT mt) is pending**")
    ranked, rows = _ranked({zoo.OWN: 0.2, "cgcnn92": 0.5}, {("castelli-3334", "CHGNet 0.3.0"): None})
    text = zoo.finding(ranked, zoo.zoo_verdicts(rows, ["CHGNet 0.3.0"]))
    assert "on Castelli-3,334 CT's table is pending" in text
    assert "No zoo table's transfer runs are stored yet" in text
    one_seed = _rows({("hoip", zoo.OWN): 0.008, ("hoip", "SevenNet-0"): 0.007}, seeds=(0,))
    ranked = zoo.rank_tables(zoo.table_labels(), pd.Series({zoo.OWN: 0.2}), zoo.transfer_summary(one_seed))
    text = zoo.finding(ranked, zoo.zoo_verdicts(one_seed, ["SevenNet-0", "CHGNet 0.3.0"]))
    assert f"None of the 2 pairs of a zoo table with CT's table is judged yet (1 {report.ONE_SEED}, 1 missing)" \
        in text


# ---------------------------------------------------------------- the figure
def test_figure_draws_stored_points_and_pending_ticks():
    import matplotlib.pyplot as plt

    maes = {("castelli-3334", zoo.OWN): 0.017, ("castelli-3334", "cgcnn92"): 0.018,
            ("castelli-3334", "megnet16"): 0.0175, ("castelli-3334", "CHGNet 0.3.0"): 0.0172}
    ranked, _ = _ranked({zoo.OWN: 0.1, "cgcnn92": 0.5, "megnet16": 0.6, "SevenNet-0": 0.4, "CHGNet 0.3.0": 0.55},
                        maes)
    fig = zoo.plot_zoo(ranked)
    castelli, hoip = fig.axes
    assert {t.get_text() for t in castelli.texts} >= {zoo.OWN, "cgcnn92", "megnet16", "CHGNet 0.3.0"}
    assert "1 table(s) pending" in " ".join(t.get_text() for t in castelli.texts)
    assert "pending for all 5 tables" in " ".join(t.get_text() for t in hoip.texts)
    markers = {line.get_marker() for line in castelli.lines}
    assert {"X", "D", "o", "|"} <= markers      # megnet16 saw our labels, CHGNet MPtrj energies; SevenNet-0 pending
    legend = lambda f: [t.get_text() for t in f.legends[0].get_texts()]
    assert "MAE pending" in legend(fig)
    plt.close(fig)
    done = {(d, t): 0.017 for d in ("castelli-3334", "hoip") for t in (zoo.OWN, "cgcnn92")}
    ranked, _ = _ranked({zoo.OWN: 0.1, "cgcnn92": 0.5}, done)
    fig = zoo.plot_zoo(ranked)                                # nothing pending: no legend entry for it
    assert {"saw our test labels", "saw most of our test materials (DFT energies)"} <= set(legend(fig))
    assert "MAE pending" not in legend(fig)
    plt.close(fig)


# ---------------------------------------------------------------- reverse prediction
def test_reverse_r2_summary_wide_and_cache(tmp_path):
    rng = np.random.default_rng(0)
    els = ["H", "Li", "Be", "B", "C", "N", "O", "F", "Na", "Mg", "Al", "Si"]
    props = pd.DataFrame({"melting_point": np.arange(len(els), dtype=float)}, index=els)
    tables = {zoo.OWN: (els, np.c_[np.arange(len(els)), rng.normal(size=len(els))]),
              "random": (els[:-1], rng.normal(size=(len(els) - 1, 2)))}
    cv, counts = zoo.reverse_r2(tables, props, repeats=1, iterations=5, cache_dir=tmp_path, n_jobs=1)
    assert counts.loc["melting_point", "n_elements"] == 11 and "Si" in counts.loc["melting_point", "dropped"].split()
    assert not cv["cached"].any() and len(list(tmp_path.glob("*.json"))) == 2
    again, _ = zoo.reverse_r2(tables, props, repeats=1, iterations=5, cache_dir=tmp_path, n_jobs=1)
    assert again["cached"].all() and np.allclose(again["r2"], cv["r2"])
    r2 = zoo.r2_summary(cv)
    assert list(r2.columns) == ["table", "property", "r2", "r2_std", "n_repeats"] and len(r2) == 2
    assert r2.set_index("table").loc[zoo.OWN, "r2"] > r2.set_index("table").loc["random", "r2"]
    wide = zoo.r2_wide(r2, order=["random", zoo.OWN, "absent"])
    assert list(wide.index) == ["random", zoo.OWN] and list(wide.columns) == ["Melting Temperature",
                                                                               "mean over properties"]
    note = zoo.reverse_note(cv, counts, 1.0, "cache")
    assert note.startswith("10 CatBoost fits (2 tables × 1 properties") and "Melting Temperature 11 (not " in note
    assert "0 read from the cache `cache`; the other 10 fitted here in 1 s" in note
    assert "fits (2 tables × 1 properties × folds × repeats), all read from the cache `c` (0 s)" \
        in zoo.reverse_note(again, counts, 0.2, "c")


def test_summary_numbers_are_json(tmp_path):
    ranked, rows = _ranked({zoo.OWN: 0.2}, {("hoip", zoo.OWN): 0.008})
    r2 = pd.DataFrame({"table": [zoo.OWN], "property": ["melting_point"], "r2": [0.2], "r2_std": [np.nan],
                       "n_repeats": [1]})
    counts = pd.DataFrame({"n_elements": [80], "n_with_value": [89], "dropped": ["He Ne"]},
                          index=pd.Index(["melting_point"], name="property"))
    numbers = zoo.summary_numbers(ranked, r2, counts, zoo.transfer_summary(rows), zoo.zoo_verdicts(rows),
                                  profile="smoke")
    back = json.loads(pages.write_summary(tmp_path, "13_zoo", numbers).read_text())
    assert back["profile"] == "smoke" and back["elements"]["melting_point"] == {"n": 80, "dropped": ["He", "Ne"]}
    assert back["ranked"][0]["table"] == zoo.OWN and back["ranked"][1]["r2_rank"] is None
    assert back["finding"].startswith("**On reverse prediction")


# ---------------------------------------------------------------- the notebook
def test_notebook_13_follows_the_page_conventions():
    raw = json.loads((REPO / "notebooks" / "13_zoo.ipynb").read_text())
    assert [c["id"] for c in raw["cells"]] == [f"13-{i:02d}" for i in range(len(raw["cells"]))]
    nb = nbformat.read(REPO / "notebooks" / "13_zoo.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# The embedding zoo")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert set(code[0].metadata["tags"]) == {"parameters", "remove-cell"}
    assert book._notebook_parameters(REPO / "notebooks" / "13_zoo.ipynb") == {"profile", "seeds", "device", "force",
                                                                             "out_dir"}
    assert all(c.metadata.get("tags") == ["hide-input"] for c in code[1:-1])
    assert code[-1].metadata.get("tags") == ["remove-cell"] and "pages.write_summary(out, NB" in code[-1].source
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    for c in code[2:]:                       # the logic lives in ctlib.analysis.zoo
        assert len(c.source.splitlines()) <= 15, c.source[:60]
        assert "for " not in c.source and ".pivot" not in c.source, c.source[:60]
    src = "\n".join(c.source for c in code)
    for needle in ('NB = "13_zoo"', "experiments.scarce_transfer(", "experiments.zoo_transfer(",
                   "pages.find_ct_sources(", '"zoo_reverse"', "zoo.finding(", "savefig(", "train=True"):
        assert (needle in src) == (needle != "train=True"), needle
    heads = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    assert "## Details" in heads and heads.index("## Details") > heads.index("## Every table, ranked")


def test_chapter_follows_the_scarce_transfer_in_the_toc():
    pages_ = book.toc_pages()
    gen = book.GENERATED.as_posix()
    assert pages_[pages_.index(f"{gen}/12_scarce_transfer") + 1] == f"{gen}/13_zoo"
