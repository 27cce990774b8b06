"""Periodic graphs against a brute-force image loop; batching, sampling, caching."""
import itertools
import math
import time

import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure

from ctlib.data import collate
from ctlib.data.batch import CTBatch, GraphBatch
from ctlib.data.dataset import CrystalDataset
from ctlib.data.graphs import GRAPH_KINDS, _search, build_graphs, graph_cache_path, structure_edges
from ctlib.data.loader import LOADER_KINDS, LengthBucketSampler, RandomBatchSampler, make_loader


# ------------------------------------------------------------------ tiny crystals
def _structures() -> dict[str, Structure]:
    return {
        "nacl": Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                          [[0, 0, 0], [0.5, 0.5, 0.5]]),
        "bcc_fe": Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
        "si": Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.43), ["Si"], [[0, 0, 0]]),
        "triclinic": Structure(Lattice([[3.1, 0.0, 0.0], [2.7, 1.3, 0.0], [-0.9, 0.8, 2.6]]),
                               ["Li", "O", "Mn"],
                               [[0.1, 0.2, 0.3], [0.55, 0.9, 0.15], [0.8, 0.4, 0.7]]),
        "one_atom": Structure(Lattice.cubic(2.9), ["Cu"], [[0.25, 0.5, 0.75]]),
        "sparse": Structure(Lattice.cubic(7.0), ["Ar"], [[0, 0, 0]]),   # < 12 within 8 Å
        # a tight cluster in a roomy cell: the 12 nearest are beyond the first search sphere
        "cluster": Structure(Lattice.cubic(7.0), ["H"] * 8,
                             list(itertools.product([0.4, 0.47], repeat=3))),
    }


STRUCTS = _structures()
NAMES = list(STRUCTS)


def _ds(names=NAMES) -> CrystalDataset:
    return CrystalDataset.from_structures(
        [STRUCTS[n] for n in names], ids=list(names),
        targets={"t0": np.arange(len(names), dtype=float),
                 "t1": -np.arange(len(names), dtype=float)})


def brute_neighbors(frac, lattice, cutoff):
    """Every (i, j, image, dist) with |r_j + image - r_i| <= cutoff, by an explicit image loop."""
    lattice = np.asarray(lattice, float)
    cart = frac @ lattice
    volume = abs(np.linalg.det(lattice))
    # planes of the lattice family k are volume / |a_l x a_m| apart
    reach = [math.ceil(cutoff / (volume / np.linalg.norm(np.cross(lattice[(k + 1) % 3],
                                                                  lattice[(k + 2) % 3])))) + 1
             for k in range(3)]
    out = []
    for i in range(len(cart)):
        for j in range(len(cart)):
            for img in itertools.product(*(range(-r, r + 1) for r in reach)):
                if i == j and not any(img):
                    continue
                d = np.linalg.norm(cart[j] + np.array(img) @ lattice - cart[i])
                if d <= cutoff:
                    out.append((i, j, img, d))
    return out


def _edge_images(ds, gs, s):
    """(E, 3) integer images of structure s's edges, recovered from vec."""
    g = gs.graph(s)
    _, frac, lat = ds.atoms(s)
    cart = frac @ lat
    img = (cart[g["dst"]] + g["vec"] - cart[g["src"]]) @ np.linalg.inv(lat)
    assert np.allclose(img, np.rint(img), atol=1e-4)
    return np.rint(img).astype(int)


def _dist_lists(gs, s, n):
    g = gs.graph(s)
    return [np.sort(g["dist"][g["dst"] == i]) for i in range(n)]


@pytest.fixture(scope="module")
def ds():
    return _ds()


@pytest.fixture(scope="module")
def graphs(ds):
    return {k: build_graphs(ds, k, cache=False, progress=False, n_jobs=1) for k in GRAPH_KINDS}


# ------------------------------------------------------------------ neighbour search
@pytest.mark.parametrize("name", NAMES)
def test_megnet_graph_matches_brute_force(ds, graphs, name):
    s = NAMES.index(name)
    gs = graphs["megnet_graph"]
    _, frac, lat = ds.atoms(s)
    brute = brute_neighbors(frac, lat, 4.0)
    want = sorted((i, j, img) for i, j, img, _ in brute)
    g = gs.graph(s)
    img = _edge_images(ds, gs, s)
    got = sorted((int(i), int(j), tuple(int(x) for x in m))
                 for i, j, m in zip(g["dst"], g["src"], img))
    assert got == want
    # distances and vectors agree with the geometry
    np.testing.assert_allclose(np.linalg.norm(g["vec"], axis=1), g["dist"], rtol=1e-6)
    np.testing.assert_allclose(np.sort(g["dist"]), np.sort([d for *_, d in brute]), atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("k", [12, 4])
def test_crystal_graph_keeps_k_nearest(ds, name, k):
    s = NAMES.index(name)
    gs = build_graphs(ds, "crystal_graph", cache=False, progress=False, n_jobs=1,
                        max_neighbors=k)
    _, frac, lat = ds.atoms(s)
    brute = brute_neighbors(frac, lat, 8.0)
    g = gs.graph(s)
    assert np.all(np.diff(g["dst"]) >= 0), "edges must be grouped by centre"
    img = _edge_images(ds, gs, s)
    for i in range(len(frac)):
        want = np.sort([d for c, _, _, d in brute if c == i])[:k]
        sel = g["dst"] == i
        np.testing.assert_allclose(g["dist"][sel], want, atol=1e-5)   # sorted, k smallest
        # each kept edge is a real neighbour with that distance
        lookup = {(j, m): d for c, j, m, d in brute if c == i}
        for j, m, d in zip(g["src"][sel], img[sel], g["dist"][sel]):
            assert abs(lookup[(int(j), tuple(int(x) for x in m))] - d) < 1e-5


def test_sparse_cell_keeps_fewer_than_12(ds, graphs):
    s = NAMES.index("sparse")
    g = graphs["crystal_graph"].graph(s)
    assert len(g["src"]) == 6                          # only the 6 images at 7 Å are within 8 Å
    np.testing.assert_allclose(g["dist"], 7.0, rtol=1e-6)


@pytest.mark.parametrize("name, radii", [("nacl", "small"), ("cluster", "small+full"),
                                         ("sparse", "full")])
def test_search_sphere_fallback(monkeypatch, name, radii):
    """The first, smaller search sphere is widened to the cutoff when too few are inside."""
    calls = []
    search = _search

    def spy(cart, lattice, r):
        calls.append(r)
        return search(cart, lattice, r)

    monkeypatch.setattr("ctlib.data.graphs._search", spy)
    _, frac, lat = _ds([name]).atoms(0)
    structure_edges(frac, lat, 8.0, 12)
    kinds = ["full" if r == 8.0 else "small" for r in calls]
    assert "+".join(kinds) == radii


def test_ties_are_broken_deterministically():
    """One-atom cubic cell: 12 neighbours at a*sqrt(2) compete for 6 places."""
    one = _ds(["one_atom"])
    a = build_graphs(one, "crystal_graph", cache=False, progress=False, n_jobs=1)
    b = build_graphs(one, "crystal_graph", cache=False, progress=False, n_jobs=1)
    img = _edge_images(one, a, 0)
    np.testing.assert_array_equal(a.vec, b.vec)
    # distance, then neighbour index, then image (lexicographic) order
    d = np.round(a.dist.astype(float), 4)
    keys = list(zip(d, a.src, map(tuple, img)))
    assert keys == sorted(keys)
    assert img[6:].tolist() == sorted(img[6:].tolist())


@pytest.mark.parametrize("kind", ["crystal_graph", "megnet_graph"])
@pytest.mark.parametrize("name", ["nacl", "si", "triclinic", "one_atom"])
def test_graph_invariant_to_lattice_shift_and_permutation(kind, name):
    rng = np.random.default_rng(3)
    st = STRUCTS[name]
    n = len(st)
    base = _ds([name])
    shifted = st.copy()
    frac = st.frac_coords + rng.integers(-3, 4, size=(n, 3))
    shifted = Structure(st.lattice, st.species, frac)
    perm = rng.permutation(n)
    permuted = Structure(st.lattice, [st.species[p] for p in perm], st.frac_coords[perm])
    ref = _dist_lists(build_graphs(base, kind, cache=False, progress=False, n_jobs=1), 0, n)
    for other, order in ((shifted, np.arange(n)), (permuted, perm)):
        o = CrystalDataset.from_structures([other])
        got = _dist_lists(build_graphs(o, kind, cache=False, progress=False, n_jobs=1), 0, n)
        for k in range(n):
            np.testing.assert_allclose(got[k], ref[order[k]], atol=1e-5)


@pytest.mark.parametrize("name", ["triclinic", "nacl"])
def test_line_graph_matches_brute_force(ds, graphs, name):
    s = NAMES.index(name)
    gs = graphs["line_graph"]
    g = gs.graph(s)
    cg = graphs["crystal_graph"].graph(s)
    for key in ("src", "dst", "dist", "vec"):
        np.testing.assert_array_equal(g[key], cg[key])
    _, frac, lat = ds.atoms(s)
    cart = frac @ lat
    img = _edge_images(ds, gs, s)
    # brute force: every (a, b) with a = (k -> j), b = (j -> i); the angle at j
    want = {}
    for b in range(len(g["src"])):
        j, i = g["src"][b], g["dst"][b]
        pj = cart[j] + img[b] @ lat                    # the image of j that bonds to i
        for a in range(len(g["src"])):
            if g["dst"][a] != j:
                continue
            pk = cart[g["src"][a]] + img[a] @ lat + (pj - cart[j])
            u, v = pk - pj, cart[i] - pj
            want[(a, b)] = u @ v / np.linalg.norm(u) / np.linalg.norm(v)
    got = {(int(a), int(b)): c for a, b, c in zip(g["lg_src"], g["lg_dst"], g["cos"])}
    assert got.keys() == want.keys()
    np.testing.assert_allclose([got[k] for k in want], list(want.values()), atol=1e-5)
    # backtracking pairs (i -> j -> i, same image of i) are kept, with cos = 1
    back = [(a, b) for a, b in want
            if g["src"][a] == g["dst"][b] and (img[a] == -img[b]).all()]
    assert back and all(abs(got[k] - 1) < 1e-6 for k in back)


# ------------------------------------------------------------------ params and cache
def test_params_are_validated(ds):
    with pytest.raises(ValueError, match="unknown graph kind"):
        build_graphs(ds, "cgcnn", cache=False)
    with pytest.raises(TypeError, match="max_neigbors"):
        build_graphs(ds, "crystal_graph", cache=False, max_neigbors=8)
    with pytest.raises(ValueError, match="cutoff"):
        build_graphs(ds, "megnet_graph", cache=False, cutoff=-1.0)
    with pytest.raises(ValueError, match="max_neighbors"):
        build_graphs(ds, "crystal_graph", cache=False, max_neighbors=0)
    with pytest.raises(ValueError, match="n_jobs"):
        build_graphs(ds, "crystal_graph", cache=False, n_jobs=0)


def test_parallel_build_equals_serial(monkeypatch):
    big = _ds(NAMES * 6)
    monkeypatch.setattr("ctlib.data.graphs._CHUNK", 5)
    one = build_graphs(big, "line_graph", cache=False, progress=False, n_jobs=1)
    two = build_graphs(big, "line_graph", cache=False, progress=False, n_jobs=2)
    for key in ("edge_ptr", "src", "dst", "dist", "vec", "lg_ptr", "lg_src", "lg_dst", "cos"):
        np.testing.assert_array_equal(getattr(one, key), getattr(two, key))


@pytest.mark.parametrize("kind", list(GRAPH_KINDS))
def test_cache_hit_returns_identical_arrays(tmp_path, monkeypatch, kind):
    monkeypatch.setenv("CTLIB_CACHE", str(tmp_path))
    big = _ds(NAMES * 20)
    t0 = time.perf_counter()
    first = build_graphs(big, kind, progress=False, n_jobs=1)
    t_build = time.perf_counter() - t0
    path = graph_cache_path(big, kind)
    assert path.exists() and path.parent == tmp_path / "graphs"

    def no_build(*a, **k):
        raise AssertionError("cache hit must not rebuild")

    monkeypatch.setattr("ctlib.data.graphs._build_chunk", no_build)
    t0 = time.perf_counter()
    second = build_graphs(big, kind, progress=False, n_jobs=1)
    assert time.perf_counter() - t0 < max(0.5, t_build)
    for key in ("natoms", "edge_ptr", "src", "dst", "dist", "vec", "lg_ptr", "lg_src",
                "lg_dst", "cos"):
        a, b = getattr(first, key), getattr(second, key)
        assert (a is None) == (b is None)
        if a is not None:
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
    # other parameters are another cache entry
    assert graph_cache_path(big, kind, cutoff=5.0) != path


# ------------------------------------------------------------------ collation
@pytest.mark.parametrize("kind", list(GRAPH_KINDS))
@pytest.mark.parametrize("idx", [[0], [4, 1, 2], [5, 0, 3, 3, 2]])
def test_collate_graphs(ds, graphs, kind, idx):
    gs = graphs[kind]
    batch = collate.collate_graphs(ds, gs, idx, ["t0", "t1"])
    assert isinstance(batch, GraphBatch) and batch.num_graphs == len(idx)
    nat = ds.natoms[idx]
    assert batch.z.shape == (nat.sum(),) and batch.z.dtype == torch.long
    assert batch.pos.shape == (nat.sum(), 3) and batch.pos.dtype == torch.float32
    assert batch.batch.tolist() == np.repeat(np.arange(len(idx)), nat).tolist()
    torch.testing.assert_close(batch.y, torch.tensor(
        np.stack([ds.targets["t0"][idx], ds.targets["t1"][idx]], 1), dtype=torch.float32))
    start = np.concatenate([[0], np.cumsum(nat)])
    e_start = 0
    for b, s in enumerate(idx):
        g = gs.graph(s)
        ne = len(g["src"])
        ei = batch.edge_index[:, e_start:e_start + ne].numpy()
        np.testing.assert_array_equal(ei[0], g["src"] + start[b])
        np.testing.assert_array_equal(ei[1], g["dst"] + start[b])
        np.testing.assert_allclose(batch.pos[start[b]:start[b + 1]].numpy(),
                                   ds.cart_coords(s), atol=1e-5)
        np.testing.assert_array_equal(batch.z[start[b]:start[b + 1]].numpy(), ds.atoms(s)[0])
        e_start += ne
    assert batch.edge_index.shape == (2, e_start) and batch.edge_dist.shape == (e_start,)
    assert batch.edge_vec.shape == (e_start, 3)
    # every edge stays inside its graph
    assert torch.equal(batch.batch[batch.edge_index[0]], batch.batch[batch.edge_index[1]])
    if kind == "line_graph":
        lg = batch.lg_edge_index
        assert lg.shape[1] == batch.lg_cos.shape[0] == sum(len(gs.graph(s)["cos"]) for s in idx)
        # a = (k -> j), b = (j -> i): a ends where b starts
        assert torch.equal(batch.edge_index[1, lg[0]], batch.edge_index[0, lg[1]])
        cos = torch.nn.functional.cosine_similarity(-batch.edge_vec[lg[0]],
                                                    batch.edge_vec[lg[1]], dim=1)
        torch.testing.assert_close(cos, batch.lg_cos, atol=1e-5, rtol=0)
    else:
        assert batch.lg_edge_index is None and batch.lg_cos is None


def test_collate_rejects_foreign_graphs(ds, graphs):
    other = _ds(["si", "nacl"])
    with pytest.raises(ValueError, match="does not belong"):
        collate.collate_graphs(other, graphs["crystal_graph"], [0, 1], ["t0"])
    with pytest.raises(KeyError, match="no target"):
        collate.collate_graphs(ds, graphs["crystal_graph"], [0], ["band_gap"])
    with pytest.raises(IndexError):
        collate.collate_ct(ds, [len(ds)], ["t0"])


@pytest.mark.parametrize("idx", [[2], [0, 2, 5], [3, 3, 1, 4]])
def test_collate_ct_padding(ds, idx):
    batch = collate.collate_ct(ds, idx, ["t1"])
    assert isinstance(batch, CTBatch) and batch.num_graphs == len(idx)
    nat = ds.natoms[idx]
    L = nat.max()
    assert batch.z.shape == (len(idx), L) and batch.pos.shape == (len(idx), L, 3)
    assert batch.mask.dtype == torch.bool and batch.lattice.shape == (len(idx), 3, 3)
    assert batch.y.shape == (len(idx), 1)
    for b, s in enumerate(idx):
        n = nat[b]
        assert not batch.mask[b, :n].any() and batch.mask[b, n:].all()
        np.testing.assert_array_equal(batch.z[b, :n].numpy(), ds.atoms(s)[0])  # stored order
        np.testing.assert_allclose(batch.pos[b, :n].numpy(), ds.cart_coords(s), atol=1e-5)
        np.testing.assert_allclose(batch.lattice[b].numpy(), ds.lattices[s], atol=1e-6)
        assert (batch.z[b, n:] == 0).all() and (batch.pos[b, n:] == 0).all()


# ------------------------------------------------------------------ sampling / loaders
@pytest.mark.parametrize("batch_size", [1, 7, 32, 500])
@pytest.mark.parametrize("cls", ["bucket", "random"])
def test_sampler_covers_each_index_once(batch_size, cls):
    lengths = np.random.default_rng(0).integers(1, 200, size=301)
    make = (lambda seed: LengthBucketSampler(lengths, batch_size, seed=seed)) if cls == "bucket" \
        else (lambda seed: RandomBatchSampler(len(lengths), batch_size, seed=seed))
    s = make(0)
    epochs = []
    for e in range(3):
        s.set_epoch(e)
        batches = list(s)
        assert len(batches) == len(s)
        assert all(1 <= len(b) <= batch_size for b in batches)
        flat = np.concatenate(batches)
        assert np.array_equal(np.sort(flat), np.arange(len(lengths)))
        epochs.append(flat)
    again = make(0)
    again.set_epoch(1)
    assert np.array_equal(np.concatenate(list(again)), epochs[1])       # seeded
    if batch_size < len(lengths):
        assert not np.array_equal(epochs[0], epochs[1])                  # fresh per epoch
        other = make(1)
        assert not np.array_equal(np.concatenate(list(other)), epochs[0])


def test_bucketing_reduces_padding():
    lengths = np.random.default_rng(1).integers(1, 300, size=2000)
    pad = {}
    for name, s in (("bucket", LengthBucketSampler(lengths, 32, seed=0)),
                    ("random", RandomBatchSampler(len(lengths), 32, seed=0))):
        pad[name] = sum(len(b) * lengths[b].max() - lengths[b].sum() for b in s)
    assert pad["bucket"] < 0.2 * pad["random"]


def test_unshuffled_keeps_order():
    lengths = np.array([5, 1, 9, 2, 2, 7])
    s = LengthBucketSampler(lengths, 4, shuffle=False)
    assert [b.tolist() for b in s] == [[0, 1, 2, 3], [4, 5]]


@pytest.mark.parametrize("shuffle", [True, False])
def test_token_cap_bounds_padded_size(shuffle):
    lengths = np.random.default_rng(2).integers(1, 300, size=700)
    capped = LengthBucketSampler(lengths, 64, seed=0, shuffle=shuffle, max_tokens=2048)
    plain = LengthBucketSampler(lengths, 64, seed=0, shuffle=shuffle)
    for e in range(2):
        capped.set_epoch(e)
        batches = list(capped)
        assert len(batches) == len(capped) > len(plain)
        assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(len(lengths)))
        for b in batches:
            assert 1 <= len(b) <= 64
            # within the cap, or a single cell that is longer than the cap on its own
            assert len(b) * lengths[b].max() <= 2048 or len(b) == 1
        if not shuffle:
            assert np.array_equal(np.concatenate(batches), np.arange(len(lengths)))
    assert max(len(b) * lengths[b].max() for b in plain) > 2048     # the cap did something


def test_token_cap_cuts_greedily():
    lengths = np.array([3, 3, 3, 10, 1, 1, 50, 2])
    s = LengthBucketSampler(lengths, 4, shuffle=False, max_tokens=20)
    assert [b.tolist() for b in s] == [[0, 1, 2], [3, 4], [5], [6], [7]]
    with pytest.raises(ValueError, match="max_tokens"):
        LengthBucketSampler(lengths, 4, max_tokens=0)


@pytest.mark.parametrize("kind", LOADER_KINDS)
def test_make_loader(tmp_path, monkeypatch, ds, kind):
    monkeypatch.setenv("CTLIB_CACHE", str(tmp_path))
    big = _ds(NAMES * 5)
    idx = np.arange(3, len(big), 2)
    loader = make_loader(big, kind, idx, ["t0"], batch_size=4, seed=1)
    assert len(loader) == math.ceil(len(idx) / 4)
    seen = []
    for epoch in range(2):
        loader.set_epoch(epoch)
        ys = [b.y[:, 0].numpy() for b in loader]
        seen.append(np.concatenate(ys))
        assert np.array_equal(np.sort(seen[-1]), np.sort(big.targets["t0"][idx]))
    assert not np.array_equal(seen[0], seen[1])
    ordered = make_loader(big, kind, idx, ["t0"], batch_size=4, shuffle=False)
    np.testing.assert_array_equal(np.concatenate([b.y[:, 0].numpy() for b in ordered]),
                                  big.targets["t0"][idx])


def test_make_loader_validates(ds, graphs):
    with pytest.raises(ValueError, match="unknown loader kind"):
        make_loader(ds, "cgcnn", [0], ["t0"], 2)
    with pytest.raises(KeyError, match="no target"):
        make_loader(ds, "ct", [0], ["nope"], 2)
    with pytest.raises(ValueError, match="do not match"):
        make_loader(ds, "megnet_graph", [0], ["t0"], 2, graphs=graphs["crystal_graph"])
    # augmentation of graph batches is allowed (E_a+E_c fronts read positions)
    make_loader(ds, "crystal_graph", [0], ["t0"], 2, graphs=graphs["crystal_graph"],
                  augment=lambda b, g: b)
    with pytest.raises(ValueError, match="batch_size"):
        make_loader(ds, "ct", [0], ["t0"], 0)
    with pytest.raises(ValueError, match="max_tokens applies to kind='ct' only"):
        make_loader(ds, "crystal_graph", [0], ["t0"], 2, graphs=graphs["crystal_graph"],
                      max_tokens=100)
