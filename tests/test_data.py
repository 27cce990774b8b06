"""The data layer: registry loads, checksums, bad records, user formats, caching, splits."""
from __future__ import annotations

import csv
import gzip
import json
import time

import numpy as np
import pytest

from ctlib.data import (
    REGISTRY,
    CrystalDataset,
    DataError,
    DataWarning,
    benchmark_counts,
    get_split,
    load,
    load_cif_folder,
    load_jarvis_dft3d,
    load_megnet_json,
    matbench_fold_of_rows,
    sha256_file,
)


# ----------------------------------------------------------------- helpers
def p1_cif(sites, a: float = 5.0) -> str:
    """CIF text of a cubic P1 cell; ``sites`` = [(symbol, (x, y, z), occupancy), ...]."""
    lines = ["data_test", f"_cell_length_a {a}", f"_cell_length_b {a}", f"_cell_length_c {a}",
             "_cell_angle_alpha 90", "_cell_angle_beta 90", "_cell_angle_gamma 90",
             "_symmetry_space_group_name_H-M 'P 1'", "loop_", " _symmetry_equiv_pos_as_xyz",
             "  'x, y, z'", "loop_", " _atom_site_type_symbol", " _atom_site_label",
             " _atom_site_fract_x", " _atom_site_fract_y", " _atom_site_fract_z",
             " _atom_site_occupancy"]
    for k, (sym, (x, y, z), occ) in enumerate(sites):
        lines.append(f"  {sym} {sym}{k} {x} {y} {z} {occ}")
    return "\n".join(lines) + "\n"


GOOD = p1_cif([("Na", (0, 0, 0), 1), ("Cl", (0.5, 0.5, 0.5), 1)])


def good_record(rid: str, e: float = -1.0, gap: float = 2.0) -> dict:
    return {"material_id": rid, "structure": GOOD, "formation_energy_per_atom": e, "band_gap": gap}


def write_json(path, records, gz=False):
    text = json.dumps(records)
    if gz:
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


# ---------------------------------------------------------------- registry
def test_mp2018_counts_and_split(mp2018):
    assert len(mp2018) == REGISTRY["mp2018"].n_records == 51_222
    split = get_split(mp2018)
    assert {k: len(v) for k, v in split.items()} == {"train": 44_441, "val": 3_655, "test": 3_126}
    assert len(set(mp2018.ids)) == len(mp2018)
    for t, unit in (("formation_energy_per_atom", "eV/atom"), ("band_gap", "eV")):
        assert np.isfinite(mp2018.require_target(t)).all()
        assert mp2018.units[t] == unit
    assert mp2018.numbers.min() >= 1 and mp2018.numbers.max() <= 100
    assert mp2018.natoms.min() >= 1 and mp2018.natoms.max() <= 624
    assert (mp2018.targets["band_gap"] >= 0).all()


def test_mp2018_matches_labels_csv(mp2018, data_root):
    with open(data_root / REGISTRY["mp2018"].labels.path, newline="") as f:
        rows = {r["material_id"]: r for r in csv.DictReader(f)}
    idx = np.random.default_rng(1).choice(len(mp2018), 2000, replace=False)
    for i in idx:
        r = rows[mp2018.ids[i]]
        assert r["split"] == mp2018.meta["split"][i] and r["has_structure"] == "1"
        assert float(r["band_gap"]) == pytest.approx(mp2018.targets["band_gap"][i], abs=1e-9)


def test_benchmark_counts(mp2018, data_root):
    c = benchmark_counts("mp2018", root=data_root)
    with open(data_root / REGISTRY["mp2018"].labels.path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert c["benchmark"]["total"] == len(rows) == 69_239
    assert {k: c["benchmark"][k] for k in ("train", "val", "test")} == {
        "train": 60_000, "val": 5_000, "test": 4_239}
    lab = mp2018.meta["split"]
    assert c["with_structure"] == {"total": len(mp2018), **{k: int((lab == k).sum())
                                                            for k in ("train", "val", "test")}}
    assert benchmark_counts("hoip")["benchmark"]["total"] == 1_346


@pytest.mark.filterwarnings("ignore:Issues encountered while parsing CIF")
def test_arrays_equal_pymatgen_parse(mp2018, data_root):
    """The cached arrays reproduce pymatgen's own parse of the source CIFs."""
    from pymatgen.core import Structure

    with gzip.open(data_root / REGISTRY["mp2018"].structures.path, "rt") as f:
        records = json.load(f)
    pos = {rid: i for i, rid in enumerate(mp2018.ids)}
    for r in records[:: len(records) // 25]:
        s = Structure.from_str(r["structure"], fmt="cif")
        z, frac, lat = mp2018.atoms(pos[r["material_id"]])
        assert list(z) == [site.specie.Z for site in s]
        np.testing.assert_array_equal(frac, s.frac_coords)
        np.testing.assert_array_equal(lat, s.lattice.matrix)
        assert mp2018.targets["formation_energy_per_atom"][pos[r["material_id"]]] == \
            r["formation_energy_per_atom"]


@pytest.mark.filterwarnings("ignore:Issues encountered while parsing CIF")
def test_p1_reader_gives_pymatgens_arrays_and_warnings_bit_for_bit(data_root):
    """MP-2018 and Castelli records through the fast P1 reader and through pymatgen."""
    from ctlib.data.io import _parse_one
    from ctlib.data.p1cif import read_p1

    rounded = 0
    for name, step in (("mp2018", 150), ("castelli_perovskites", 200)):
        with gzip.open(data_root / REGISTRY[name].structures.path, "rt") as f:
            records = json.load(f)
        for r in records[::step]:
            fast = read_p1(r["structure"])
            ref, reason, msgs = _parse_one(("cif", r["structure"]), fast=False)
            assert fast is not None and reason is None, r["material_id"]
            for a, b in zip(fast[:3], ref):
                assert a.dtype == b.dtype and a.tobytes() == np.ascontiguousarray(b).tobytes()
            assert fast[3] == msgs
            rounded += bool(msgs)
    assert rounded >= 20     # the sample covers pymatgen's rounding to 1/3 and 2/3


@pytest.mark.parametrize("edits", [
    [("  Na  Na0", "  Ar  Na0"), ("'Na4 Cl4'", "'Ar1 Na3 Cl4'")],  # no electronegativity
    [("0.50000000  1\n", "0.50000000  0.5\n")],                  # partial occupancy
    [("0.50000000  0.50000000  0.50000000", "0.5(1)  0.5  0.5")],  # an uncertainty
    [("  1  'x, y, z'\n", "  1  'x, y, z'\n  2  '-x, -y, -z'\n")],  # a second operation
    [("0.50000000  0.50000000  0.50000000", "0.00001  0.0  0.0")],  # sites pymatgen merges
    [("'Na4 Cl4'", "'Na4 Cl3'")],                                  # formula and sites disagree
    [("  Cl  Cl4", "  Xx  Cl4"), ("'Na4 Cl4'", "'Na4 Cl3 Xx1'")],  # not an element
    [("_cell_length_c   5.64", "_cell_length_c   0.001")],        # thinner than pymatgen takes
])
def test_p1_reader_leaves_every_other_file_to_pymatgen(nacl, edits):
    from pymatgen.io.cif import CifWriter

    from ctlib.data.p1cif import read_p1

    text = str(CifWriter(nacl))
    assert read_p1(text) is not None
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    assert read_p1(text) is None


def test_second_load_is_fast_and_identical(mp2018, data_root):
    t0 = time.perf_counter()
    again, report = load("mp2018", root=data_root, progress=False, return_report=True)
    seconds = time.perf_counter() - t0
    print(f"mp2018 cached load: {seconds:.2f} s")
    assert report.from_cache
    assert seconds <= 5.0
    assert again.fingerprint == mp2018.fingerprint
    np.testing.assert_array_equal(again.targets["band_gap"], mp2018.targets["band_gap"])


def test_fingerprint_ignores_last_bits_but_not_content(hoip):
    """Another CPU parses the same CIFs to lattices that differ in the last bits (and
    residues of either sign around 0): the fingerprint, which keys every stored run,
    must not change. A real change of a coordinate must change it."""
    import dataclasses

    def variant(**arrays):
        return dataclasses.replace(hoip, **arrays)

    lat = hoip.lattices.copy()
    lat[0, 0, 0] = np.nextafter(lat[0, 0, 0], np.inf)
    lat[1, 0, 1] = -1e-16 if lat[1, 0, 1] == 0 else np.nextafter(lat[1, 0, 1], -np.inf)
    frac = np.nextafter(hoip.frac_coords, np.inf)
    noisy = variant(lattices=lat, frac_coords=frac)
    assert noisy.content_fingerprint() == hoip.content_fingerprint()
    moved = hoip.frac_coords.copy()
    moved[0, 0] += 1e-3
    assert variant(frac_coords=moved).content_fingerprint() != hoip.content_fingerprint()
    swapped = hoip.numbers.copy()
    swapped[0] = 1 if swapped[0] != 1 else 2
    assert variant(numbers=swapped).content_fingerprint() != hoip.content_fingerprint()

    # the fingerprint is kept while the set holds the same arrays, and follows a new one
    import copy

    twin = copy.copy(hoip)
    first = twin.fingerprint
    twin.content_fingerprint = lambda: pytest.fail("hashed again although no array changed")
    assert twin.fingerprint == first
    del twin.content_fingerprint
    twin.numbers = swapped
    assert twin.fingerprint == twin.content_fingerprint() != first


def test_stored_runs_keep_their_fingerprint(hoip):
    """The registry HOIP set maps back to the fingerprint its stored runs carry."""
    from ctlib.data.dataset import LEGACY_FINGERPRINTS

    assert hoip.fingerprint == LEGACY_FINGERPRINTS[hoip.content_fingerprint()] == "587fbf2881cca464"


def test_castelli(castelli):
    assert len(castelli) == 18_928
    np.testing.assert_array_equal(castelli.meta["row"], np.arange(len(castelli)))
    e = castelli.require_target("e_form")
    # The README states the Matbench mean absolute deviation of e_form.
    assert np.mean(np.abs(e - e.mean())) == pytest.approx(0.565992, abs=1e-6)
    assert castelli.units["e_form"] == "eV/cell"
    assert (castelli.natoms == 5).all()


def test_hoip(hoip):
    assert len(hoip) == 1_346
    for t in REGISTRY["hoip"].required:
        assert np.isfinite(hoip.require_target(t)).all()
    assert set(REGISTRY["hoip"].meta_fields) <= set(hoip.meta)


# ------------------------------------------------------------ file errors
def test_checksum_mismatch_names_file(tmp_path, monkeypatch, data_root, tmp_cache):
    spec = REGISTRY["hoip"].structures
    dst = tmp_path / "data" / spec.path
    dst.parent.mkdir(parents=True)
    raw = bytearray((data_root / spec.path).read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    dst.write_bytes(bytes(raw))
    monkeypatch.setenv("CTLIB_DATA", str(tmp_path / "data"))
    with pytest.raises(DataError) as err:
        load("hoip", progress=False)
    msg = str(err.value)
    assert str(dst) in msg and spec.sha256 in msg and sha256_file(dst) in msg
    assert "re-copy" in msg and "CTLIB_DATA" in msg


def test_missing_file(tmp_path, tmp_cache):
    with pytest.raises(DataError, match="not found") as err:
        load("castelli_perovskites", root=tmp_path, progress=False)
    assert "castelli_perovskites.json.gz" in str(err.value) and "CTLIB_DATA" in str(err.value)


def test_unknown_dataset():
    with pytest.raises(KeyError, match="mp2018"):
        load("mp2019")


# ------------------------------------------------------------ bad records
BAD_CASES = {
    "malformed": (p1_cif([("Na", (0, "abc", 0), 1)]), {}, "malformed CIF"),
    "not_cif": ("just some text", {}, "not CIF text"),
    "unknown_element": (p1_cif([("Xx", (0, 0, 0), 1)]), {}, "not a chemical element"),
    "z_above_100": (p1_cif([("Md", (0, 0, 0), 1)]), {}, "outside Z=1..100"),
    "partial_occupancy": (p1_cif([("Na", (0, 0, 0), 0.5), ("Cl", (0.5, 0.5, 0.5), 1)]), {},
                          "partial occupancy"),
    "empty": (p1_cif([]), {}, "empty structure"),
    "nan_target": (GOOD, {"band_gap": float("nan")}, "NaN"),
    "missing_target": (GOOD, {"band_gap": None}, "NaN"),
    "text_target": (GOOD, {"band_gap": "big"}, "not a number"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_record_raises_naming_it(case, tmp_path, tmp_cache):
    cif, override, reason = BAD_CASES[case]
    bad = {**good_record("bad-1"), "structure": cif, **override}
    path = write_json(tmp_path / "set.json", [good_record("ok-1"), bad, good_record("ok-2")])
    with pytest.raises(DataError) as err:
        load_megnet_json(path, progress=False)
    msg = str(err.value)
    assert "'bad-1'" in msg and reason in msg and str(path) in msg
    assert "ok-1" not in msg and "skip_bad=True" in msg


def test_duplicate_id(tmp_path, tmp_cache):
    path = write_json(tmp_path / "dup.json.gz",
                      [good_record("a"), good_record("b"), good_record("a", e=-2.0)], gz=True)
    with pytest.raises(DataError, match=r"'a': duplicate id \(first seen at record 0\)"):
        load_megnet_json(path, progress=False)
    ds = pytest.warns(DataWarning, load_megnet_json, path, progress=False, skip_bad=True)
    assert list(ds.ids) == ["a", "b"] and ds.targets["formation_energy_per_atom"][0] == -1.0


def test_skip_bad_reports_count_and_ids(tmp_path, tmp_cache):
    records = [good_record("ok-0")]
    for case, (cif, override, _) in sorted(BAD_CASES.items()):
        records.append({**good_record(case), "structure": cif, **override})
    records.append(good_record("ok-1"))
    path = write_json(tmp_path / "mixed.json", records)
    with pytest.warns(DataWarning, match=f"skipped {len(BAD_CASES)} bad record") as rec:
        ds, report = load_megnet_json(path, progress=False, skip_bad=True, return_report=True)
    assert "malformed" in str(rec[0].message)
    assert list(ds.ids) == ["ok-0", "ok-1"]
    assert report.n_records == len(records) and report.n_loaded == 2
    assert {rid for rid, _ in report.skipped} == set(BAD_CASES)
    reasons = dict(report.skipped)
    for case, (_, _, reason) in BAD_CASES.items():
        assert reason in reasons[case], (case, reasons[case])
    # The cache keeps the verdict: a second load warns again and, without skip_bad, raises.
    with pytest.warns(DataWarning):
        _, again = load_megnet_json(path, progress=False, skip_bad=True, return_report=True)
    assert again.from_cache and again.skipped == report.skipped
    with pytest.raises(DataError, match="bad record"):
        load_megnet_json(path, progress=False)


def test_pymatgen_warnings_are_kept(tmp_path, tmp_cache):
    no_symops = GOOD.replace("loop_\n _symmetry_equiv_pos_as_xyz\n  'x, y, z'\n", "")
    path = write_json(tmp_path / "w.json", [{**good_record("w"), "structure": no_symops}])
    ds, report = load_megnet_json(path, progress=False, return_report=True)
    assert len(ds) == 1
    assert any("symmetry" in m for m in report.warnings["w"])


# -------------------------------------------------------------- user data
def test_megnet_json_parallel_equals_serial(mp2018, data_root, tmp_path, tmp_cache):
    """300 real MP records (pool path) parse to the arrays of the registry load."""
    with gzip.open(data_root / REGISTRY["mp2018"].structures.path, "rt") as f:
        records = json.load(f)[:300]
    path = write_json(tmp_path / "mp300.json.gz", records, gz=True)
    par = load_megnet_json(path, progress=False, n_jobs=2, cache=False)
    ser = load_megnet_json(path, progress=False, n_jobs=1, cache=False)
    ref = mp2018.subset(np.arange(300))
    for ds in (par, ser):
        assert list(ds.ids) == list(ref.ids)
        np.testing.assert_array_equal(ds.numbers, ref.numbers)
        np.testing.assert_array_equal(ds.frac_coords, ref.frac_coords)
        np.testing.assert_array_equal(ds.targets["band_gap"], ref.targets["band_gap"])


def test_megnet_json_structure_dicts(tiny_structures, tmp_path, tmp_cache):
    records = [{"material_id": k, "structure": s.as_dict(), "e": float(i)}
               for i, (k, s) in enumerate(tiny_structures.items())]
    ds = load_megnet_json(write_json(tmp_path / "d.json", records), targets=("e",), progress=False)
    assert list(ds.natoms) == [len(s) for s in tiny_structures.values()]
    assert ds.structure(2).composition.reduced_formula == "Po"


def make_cif_folder(root, structures: dict, header=None, rows=None):
    from pymatgen.io.cif import CifWriter

    root.mkdir(parents=True, exist_ok=True)
    for rid, s in structures.items():
        (root / f"{rid}.cif").write_text(str(CifWriter(s)))
    with open(root / "id_prop.csv", "w", newline="") as f:
        w = csv.writer(f)
        if header:
            w.writerow(header)
        for r in rows:
            w.writerow(r)
    (root / "atom_init.json").write_text("{}")
    return root


def test_cif_folder(tiny_structures, tmp_path, tmp_cache):
    root = make_cif_folder(tmp_path / "plain", tiny_structures,
                           rows=[[k, i, 2 * i] for i, k in enumerate(tiny_structures)])
    ds = load_cif_folder(root, progress=False)
    assert list(ds.ids) == list(tiny_structures) and set(ds.targets) == {"target_0", "target_1"}
    np.testing.assert_array_equal(ds.targets["target_1"], [0.0, 2.0, 4.0])
    for i, s in enumerate(tiny_structures.values()):
        assert ds.structure(i).composition == s.composition
    named = make_cif_folder(tmp_path / "named", tiny_structures, header=["id", "gap"],
                            rows=[[k, 1.5] for k in tiny_structures])
    ds2, report = load_cif_folder(named, progress=False, return_report=True)
    assert list(ds2.targets) == ["gap"] and not report.from_cache
    assert load_cif_folder(named, progress=False, return_report=True)[1].from_cache


def test_cif_folder_missing_cif_is_named(tiny_structures, tmp_path, tmp_cache):
    root = make_cif_folder(tmp_path / "f", tiny_structures,
                           rows=[[k, 1.0] for k in [*tiny_structures, "ghost"]])
    with pytest.raises(DataError) as err:
        load_cif_folder(root, progress=False)
    assert str(root / "ghost.cif") in str(err.value) and "'ghost'" in str(err.value)
    with pytest.warns(DataWarning, match="ghost"):
        ds = load_cif_folder(root, progress=False, skip_bad=True)
    assert len(ds) == 3


def test_cif_folder_without_table(tmp_path):
    with pytest.raises(DataError, match="id_prop.csv"):
        load_cif_folder(tmp_path, progress=False)


def test_user_cache_keyed_by_content(tmp_path, tmp_cache):
    path = write_json(tmp_path / "c.json", [good_record("a"), good_record("b")])
    _, r1 = load_megnet_json(path, progress=False, return_report=True)
    _, r2 = load_megnet_json(path, progress=False, return_report=True)
    assert not r1.from_cache and r2.from_cache
    write_json(path, [good_record("a"), good_record("b", e=-3.0)])
    ds, r3 = load_megnet_json(path, progress=False, return_report=True)
    assert not r3.from_cache and ds.targets["formation_energy_per_atom"][1] == -3.0
    assert any(p.suffix == ".npz" for p in (tmp_cache / "datasets").iterdir())


def jarvis_record(jid, s, cartesian, **targets):
    coords = s.cart_coords if cartesian else s.frac_coords
    return {"jid": jid, "atoms": {"lattice_mat": s.lattice.matrix.tolist(), "coords": coords.tolist(),
                                  "elements": [site.specie.symbol for site in s],
                                  "cartesian": cartesian}, **targets}


def test_jarvis_dft3d(nacl, si_diamond, tmp_path, tmp_cache):
    from pymatgen.core import Lattice, Structure

    tri = Structure(Lattice.from_parameters(4.1, 5.2, 6.3, 80, 95, 110), ["Ga", "As"],
                    [[0.1, 0.2, 0.3], [0.6, 0.7, 0.9]])
    records = [jarvis_record("JVASP-1", si_diamond, True, formation_energy_peratom=0.0,
                             optb88vdw_bandgap=0.73),
               jarvis_record("JVASP-2", nacl, False, formation_energy_peratom=-2.1,
                             optb88vdw_bandgap="na"),
               jarvis_record("JVASP-3", tri, True, formation_energy_peratom="na",
                             optb88vdw_bandgap=1.0)]
    path = write_json(tmp_path / "dft_3d.json.gz", records, gz=True)
    ds = load_jarvis_dft3d(path, progress=False)
    assert list(ds.ids) == ["JVASP-1", "JVASP-2", "JVASP-3"]
    assert np.isnan(ds.targets["optb88vdw_bandgap"][1])
    assert np.isnan(ds.targets["formation_energy_peratom"][2])
    assert ds.units["formation_energy_peratom"] == "eV/atom"
    for i, s in enumerate((si_diamond, nacl, tri)):
        z, frac, lat = ds.atoms(i)
        assert list(z) == [site.specie.Z for site in s]
        np.testing.assert_allclose(frac, s.frac_coords, atol=1e-9)
        np.testing.assert_allclose(ds.cart_coords(i), s.cart_coords, atol=1e-9)
    with pytest.raises(DataError, match="'JVASP-2': target 'optb88vdw_bandgap' is NaN"):
        load_jarvis_dft3d(path, progress=False, required=("optb88vdw_bandgap",))
    bad = jarvis_record("JVASP-9", nacl, False, formation_energy_peratom=0.1, optb88vdw_bandgap=0.1)
    bad["atoms"]["elements"][0] = "Q"
    path2 = write_json(tmp_path / "bad.json", records + [bad])
    with pytest.raises(DataError, match=r"'JVASP-9': site 0: 'Q' is not an element"):
        load_jarvis_dft3d(path2, progress=False)


# ------------------------------------------------------------------ splits
def _check_partition(split, n):
    allidx = np.concatenate([split["train"], split["val"], split["test"]])
    assert len(allidx) == n and len(np.unique(allidx)) == n and allidx.min() >= 0 and allidx.max() < n


def test_matbench_folds(castelli):
    n = len(castelli)
    tests = []
    for k in range(5):
        s = get_split(castelli, fold=k)
        again = get_split(castelli, scheme="matbench", fold=k)
        for part in s:
            np.testing.assert_array_equal(s[part], again[part])
        _check_partition(s, n)
        rest = n - len(s["test"])
        assert abs(len(s["val"]) - 0.1 * rest) <= 1
        tests.append(s["test"])
    all_test = np.concatenate(tests)
    assert len(all_test) == n and len(np.unique(all_test)) == n
    assert sorted(len(t) for t in tests) == [3785, 3785, 3786, 3786, 3786]
    assert not np.array_equal(get_split(castelli, fold=0, seed=1)["val"], get_split(castelli, fold=0)["val"])


def test_matbench_folds_follow_rows_on_a_subset(castelli):
    """A subset keeps each structure's Matbench fold (the fold of its original row)."""
    pick = np.sort(np.random.default_rng(3).choice(len(castelli), 500, replace=False))
    sub = castelli.subset(pick)
    fold_of_row = matbench_fold_of_rows(len(castelli))
    for k in (0, 3):
        test = get_split(sub, fold=k)["test"]
        np.testing.assert_array_equal(test, np.flatnonzero(fold_of_row[pick] == k))


def test_hoip_random_split(hoip):
    s = get_split(hoip)
    _check_partition(s, len(hoip))
    n = len(hoip)
    assert len(s["test"]) == round(0.1 * n) and len(s["val"]) == round(0.1 * n)
    assert len(s["train"]) == n - 2 * round(0.1 * n)
    s2 = get_split(hoip, seed=42)
    assert all(np.array_equal(s[k], s2[k]) for k in s)
    assert not np.array_equal(get_split(hoip, seed=7)["test"], s["test"])


def test_random_split_on_user_data(tiny_structures):
    ds = CrystalDataset.from_structures(list(tiny_structures.values()) * 10, name="mine")
    s = get_split(ds)
    _check_partition(s, 30)
    assert (len(s["train"]), len(s["val"]), len(s["test"])) == (24, 3, 3)


def test_split_argument_errors(hoip, mp_small):
    with pytest.raises(ValueError, match="unknown split scheme"):
        get_split(hoip, scheme="kfold")
    with pytest.raises(ValueError, match="only applies to scheme 'matbench'"):
        get_split(hoip, scheme="random", fold=1)
    with pytest.raises(ValueError, match="no meta\\['row'\\]"):
        get_split(hoip, scheme="matbench")
    with pytest.raises(ValueError, match="no meta\\['split'\\]"):
        get_split(hoip, scheme="standard")
    assert len(get_split(mp_small, scheme="standard")["train"]) == len(mp_small)


def test_mp_small_fixture(mp_small, mp2018):
    assert len(mp_small) == 64 and mp_small.natoms.max() <= 40
    assert set(mp_small.meta["split"]) == {"train"}
    assert set(mp_small.ids) <= set(mp2018.ids)
