"""Models and the shared atom-embedding front (ctlib.models).

Inputs come from the real graph builder and collation (``ctlib.data.graphs``,
``ctlib.data.collate``) applied to small low-symmetry crystals built in code,
and, for the smoke training, to 64 real MP-2018 structures (``mp_small`` fixture).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ctlib.data.collate import collate_ct, collate_graphs
from ctlib.data.dataset import CrystalDataset
from ctlib.data.graphs import build_graphs
from ctlib.elements import SYMBOLS, cgcnn92
from ctlib.models import (MODEL_CLASSES, AtomEmbedding, CTConfig, build_model, load_model, param_groups,
                          save_model, tiny_config)
from ctlib.models.common import FORMAT_VERSION, GaussianExpansion, softplus2

NAMES = ["ct", "cgcnn", "megnet", "alignn"]
GNNS = ["cgcnn", "megnet", "alignn"]


# ----------------------------------------------------------------- helpers
def _crystals(seed: int = 0, n: int = 4):
    """Low-symmetry crystals (random triclinic cells, random sites) as arrays."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        natoms = 2 + k
        lat = np.diag([3.4 + 0.3 * k, 3.9, 4.4]) + rng.normal(0.0, 0.25, (3, 3))
        z = rng.choice([1, 3, 8, 14, 26, 29, 56], natoms)
        frac = rng.random((natoms, 3))
        out.append((z, frac, lat))
    return out


def _dataset(crystals) -> CrystalDataset:
    from pymatgen.core import Lattice, Structure

    structs = [Structure(Lattice(lat), [int(x) for x in z], frac) for z, frac, lat in crystals]
    y = np.linspace(-1.0, 1.0, len(structs))
    return CrystalDataset.from_structures(structs, targets={"a": y, "b": y ** 2})


def _batch(ds: CrystalDataset, kind: str, targets=("a",)):
    idx = np.arange(len(ds))
    if kind == "ct":
        return collate_ct(ds, idx, list(targets))
    gs = build_graphs(ds, kind, cache=False, progress=False, n_jobs=1)
    return collate_graphs(ds, gs, idx, list(targets))


def _double(batch):
    """Copy of a batch with float tensors in float64 (index tensors untouched)."""
    kw = {}
    for name, v in vars(batch).items():
        kw[name] = v.double() if torch.is_tensor(v) and v.is_floating_point() else v
    return type(batch)(**kw)


def _model(name: str, n_tasks: int = 1, tiny: bool = True, **over):
    cfg = tiny_config(name) if tiny else {}
    cfg.update(over)
    torch.manual_seed(0)
    return build_model(name, n_tasks, cfg)


def _rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def _transformed(crystals, seed: int = 1):
    """Rotate the frame, translate by a random vector (sites re-wrapped into the cell)
    and permute the sites of every crystal."""
    rng = np.random.default_rng(seed)
    rot = _rotation(seed)
    out = []
    for z, frac, lat in crystals:
        perm = rng.permutation(len(z))
        shift = rng.random(3)
        out.append((z[perm], (frac[perm] + shift) % 1.0, lat @ rot.T))
    return out


# ----------------------------------------------------------------- building
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n_tasks", [1, 3])
def test_output_shape_and_attributes(name, n_tasks):
    model = _model(name, n_tasks)
    batch = _batch(_dataset(_crystals()), model.input_kind)
    out = model(batch)
    assert out.shape == (4, n_tasks)
    assert torch.isfinite(out).all()
    assert model.n_tasks == n_tasks
    assert model.input_kind == MODEL_CLASSES[name].input_kind
    assert isinstance(model.atom_embedding, AtomEmbedding)
    out.sum().backward()
    assert model.atom_embedding.projection.weight.grad is not None


@pytest.mark.parametrize("name", NAMES)
def test_paper_size_forward(name):
    model = _model(name, 1, tiny=False)
    model.eval()
    with torch.no_grad():
        out = model(_batch(_dataset(_crystals(n=2)), model.input_kind))
    assert out.shape == (2, 1) and torch.isfinite(out).all()


def test_paper_sizes():
    ct = build_model("ct", 1)
    assert ct.atom_embedding.projection.in_features == 100
    assert ct.atom_embedding.projection.out_features == 128
    assert ct.coord_embedding.in_features == 3 and ct.coord_embedding.out_features == 128
    assert len(ct.encoder.layers) == 8
    layer = ct.encoder.layers[0]
    assert layer.self_attn.num_heads == 8 and layer.self_attn.embed_dim == 256
    assert layer.linear1.out_features == 512
    assert [m.out_features for m in ct.heads[0]] == [128, 1]
    mt = build_model("ct", 2)
    assert len(mt.heads) == 2 and isinstance(mt.heads[0][1], torch.nn.ReLU)
    assert [mt.heads[0][0].out_features, mt.heads[0][2].out_features] == [256, 1]
    cg = build_model("cgcnn", 1)
    assert cg.expansion.num == 41 and cg.expansion.width == pytest.approx(0.2)
    assert cg.atom_embedding.d_in == 92 and cg.atom_embedding.width == 64 and len(cg.convs) == 3
    assert cg.convs[0].fc_full.in_features == 2 * 64 + 41
    me = build_model("megnet", 1)
    assert me.atom_embedding.d_in == 16 and me.atom_embedding.trainable and len(me.blocks) == 3
    assert me.expansion.num == 100 and me.expansion.stop == 5.0 and me.expansion.width == 0.5
    al = build_model("alignn", 1)
    assert al.atom_embedding.width == 256 and len(al.alignn) == 4 and len(al.gcn) == 4
    assert al.edge_embedding[0].num == 80 and al.angle_embedding[0].num == 40


# ----------------------------------------------------------------- invariances
@pytest.mark.parametrize("name", GNNS)
def test_gnn_invariant_to_rotation_translation_permutation(name):
    model = _model(name).double()
    # a few training-mode passes so BatchNorm running statistics are not trivial
    crystals = _crystals()
    ds = _dataset(crystals)
    batch = _double(_batch(ds, model.input_kind))
    with torch.no_grad():
        for _ in range(3):
            model(batch)
    model.eval()
    with torch.no_grad():
        ref = model(batch)
        moved = model(_double(_batch(_dataset(_transformed(crystals)), model.input_kind)))
        # control: a genuinely different structure must change the output
        other = [(z, (frac + 0.05 * np.random.default_rng(5).normal(size=frac.shape)) % 1.0, lat)
                 for z, frac, lat in crystals]
        changed = model(_double(_batch(_dataset(other), model.input_kind)))
    torch.testing.assert_close(moved, ref, rtol=1e-9, atol=1e-9)
    assert (changed - ref).abs().max() > 1e-6


@pytest.mark.parametrize("name", ["cgcnn", "alignn"])
def test_regular_neighbour_fast_path_matches_scatter(name, monkeypatch):
    """12-NN graphs take the (N, 12, C) view path; it must equal the general scatter path."""
    import ctlib.models.alignn as alignn_mod
    import ctlib.models.cgcnn as cgcnn_mod
    from ctlib.models.common import regular_neighbours

    model = _model(name).double().eval()
    batch = _double(_batch(_dataset(_crystals()), model.input_kind))
    assert regular_neighbours(batch.edge_index, batch.z.shape[0]) == 12
    if name == "alignn":
        assert regular_neighbours(batch.lg_edge_index, batch.edge_index.shape[1]) == 12
    with torch.no_grad():
        fast = model(batch)
        mod = cgcnn_mod if name == "cgcnn" else alignn_mod
        monkeypatch.setattr(mod, "regular_neighbours", lambda *a: None)
        slow = model(batch)
    torch.testing.assert_close(fast, slow, rtol=1e-10, atol=1e-10)
    # an irregular graph (one edge removed) is detected
    ei = batch.edge_index[:, 1:]
    assert regular_neighbours(ei, batch.z.shape[0]) is None


@pytest.mark.parametrize("name", NAMES)
def test_prediction_independent_of_batch_company(name):
    """In eval mode, a crystal's prediction does not depend on the other crystals
    of its batch (padding / masking / graph offsets are right)."""
    model = _model(name).double().eval()
    crystals = _crystals()
    ds = _dataset(crystals)
    with torch.no_grad():
        together = model(_double(_batch(ds, model.input_kind)))
        for i in range(len(ds)):
            alone = model(_double(_batch(ds.subset([i]), model.input_kind)))
            torch.testing.assert_close(alone[0], together[i], rtol=1e-8, atol=1e-8)


def test_ct_not_invariant_by_design(capsys):
    """CT reads raw Cartesian coordinates in CIF order: rotations and permutations
    change its output (the paper relies on augmentation). Record the size of the
    change; a masked-mean readout is exactly permutation-invariant (no positional
    encoding), which checks the masking."""
    crystals = _crystals()
    rot = _rotation(3)
    rotated = [(z, frac, lat @ rot.T) for z, frac, lat in crystals]
    rng = np.random.default_rng(4)
    perms = [rng.permutation(len(z)) for z, _, _ in crystals]
    permuted = [(z[p], frac[p], lat) for (z, frac, lat), p in zip(crystals, perms)]
    changes = {}
    for readout in ("first", "mean"):
        model = _model("ct", readout=readout).double().eval()
        with torch.no_grad():
            ref = model(_double(_batch(_dataset(crystals), "ct")))
            rot_out = model(_double(_batch(_dataset(rotated), "ct")))
            perm_out = model(_double(_batch(_dataset(permuted), "ct")))
        scale = ref.abs().mean()
        changes[readout] = ((rot_out - ref).abs().mean() / scale).item(), ((perm_out - ref).abs().mean() / scale).item()
        assert np.isfinite(changes[readout]).all()
        if readout == "mean":
            torch.testing.assert_close(perm_out, ref, rtol=1e-9, atol=1e-9)
    print(f"CT relative output change (rotation, permutation): {changes}")
    assert changes["first"][0] > 1e-6 and changes["mean"][0] > 1e-6   # rotation always matters


# ----------------------------------------------------------------- embedding front
def test_onehot_embedding_is_the_ct_atom_linear():
    """Method A: element_vectors(Z) == W[:, Z-1] + b of CT's Linear(100, 128), exactly."""
    model = build_model("ct", 1)
    emb = model.atom_embedding
    with torch.no_grad():
        emb.projection.bias.normal_()          # a non-zero bias makes the check meaningful
    w, b = emb.projection.weight, emb.projection.bias
    zs = torch.arange(1, 101)
    vec = emb.element_vectors(zs)
    assert vec.shape == (100, 128)
    assert torch.equal(vec, (w.t() + b).detach())
    # and the forward of a crystal's tokens is the same map applied to the one-hot input
    onehot = torch.nn.functional.one_hot(zs - 1, 100).float()
    torch.testing.assert_close(emb(zs), torch.nn.functional.linear(onehot, w, b))
    assert not isinstance(emb.table, torch.nn.Parameter)
    assert [n for n, _ in emb.named_parameters()] == ["projection.weight", "projection.bias"]


def test_embedding_sources():
    onehot = AtomEmbedding(8, "onehot")
    assert torch.equal(onehot.table, torch.eye(100))
    cg = AtomEmbedding(8, "cgcnn92")
    assert cg.d_in == 92 and torch.equal(cg.table, torch.as_tensor(cgcnn92()))
    r1, r2, r3 = AtomEmbedding(8, "random", d_in=16), AtomEmbedding(8, "random", d_in=16), \
        AtomEmbedding(8, "random", d_in=16, seed=1)
    assert r1.table.shape == (100, 16) and torch.equal(r1.table, r2.table)
    assert not torch.equal(r1.table, r3.table)
    with pytest.raises(ValueError, match="d_in"):
        AtomEmbedding(8, "random")
    with pytest.raises(ValueError, match="unknown init"):
        AtomEmbedding(8, "one-hot")


def test_external_table_mean_fill_and_coordinates():
    rng = np.random.default_rng(0)
    elements = ["H", "O", "Fe"]
    matrix = rng.normal(size=(3, 5)).astype(np.float32)
    cw, cb = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=4).astype(np.float32)
    src = {"elements": elements, "matrix": matrix, "coord_weight": cw, "coord_bias": cb}
    emb = AtomEmbedding(6, src, trainable=False, with_coordinates=True)
    assert emb.d_in == 5 and emb.coord_dim == 4
    table = emb.table.numpy()
    for e, row in zip(elements, matrix):
        np.testing.assert_array_equal(table[SYMBOLS.index(e)], row)
    np.testing.assert_allclose(table[SYMBOLS.index("Cu")], matrix.mean(0), rtol=1e-6)
    assert "Cu" in emb.filled and "Fe" not in emb.filled and len(emb.filled) == 97
    np.testing.assert_array_equal(emb.coord_linear.weight.detach().numpy(), cw)
    # pretrained coordinate layer is frozen with the table; the projection trains
    assert not emb.coord_linear.weight.requires_grad and emb.projection.weight.requires_grad
    z = torch.tensor([[1, 8, 26], [26, 26, 0]])
    pos = torch.randn(2, 3, 3)
    out = emb(z, pos)
    assert out.shape == (2, 3, 6)
    # same map as the explicit concatenation [table row | coord(pos)] -> Linear
    rows = torch.cat([torch.zeros(1, 5), emb.table])[z]
    ref = emb.projection(torch.cat([rows, emb.coord_linear(pos)], -1))
    torch.testing.assert_close(out, ref)
    # element vectors ignore positions: the coordinate branch is left out
    w_atom = emb.projection.weight[:, :5]
    torch.testing.assert_close(emb.element_vectors([26, 8]),
                               torch.nn.functional.linear(emb.table[[25, 7]], w_atom, emb.projection.bias))
    with pytest.raises(ValueError, match="needs pos"):
        emb(z)
    with pytest.raises(ValueError, match="unknown element"):
        AtomEmbedding(6, {"elements": ["H", "Xx"], "matrix": np.zeros((2, 5))})
    with pytest.raises(ValueError, match="duplicate"):
        AtomEmbedding(6, {"elements": ["H", "H"], "matrix": np.zeros((2, 5))})
    with pytest.raises(ValueError, match="shape"):
        AtomEmbedding(6, {"elements": ["H", "O"], "matrix": np.zeros((3, 5))})


def test_element_embedding_object_roundtrip():
    """A model's exported table (ctlib.embeddings.ElementEmbedding, method A) feeds
    another model's front; the rows land at Z-1 of its table."""
    from ctlib.embeddings import ElementEmbedding

    ct = build_model("ct", 1, tiny_config("ct"))
    table = ElementEmbedding.from_model(ct)
    cg = build_model("cgcnn", 1, tiny_config("cgcnn"), embedding=table)
    assert cg.config.embedding_init == "external" and cg.atom_embedding.d_in == 16
    z = torch.tensor([SYMBOLS.index(e) + 1 for e in table.elements])
    np.testing.assert_allclose(cg.atom_embedding.table[z - 1].numpy(), table.matrix, rtol=1e-6)


@pytest.mark.parametrize("trainable", [True, False])
@pytest.mark.parametrize("freeze_projection", [False, True])
def test_frozen_vs_trainable(trainable, freeze_projection):
    emb = AtomEmbedding(4, "cgcnn92", trainable=trainable, freeze_projection=freeze_projection)
    assert isinstance(emb.table, torch.nn.Parameter) == trainable
    out = emb(torch.tensor([1, 8, 8, 26]))
    if trainable or not freeze_projection:
        out.pow(2).sum().backward()
    if trainable:
        assert emb.table.grad is not None
        used = emb.table.grad.abs().sum(1) > 0
        assert set(torch.nonzero(used).flatten().tolist()) <= {0, 7, 25}
    else:
        assert "table" not in dict(emb.named_parameters()) and "table" in dict(emb.named_buffers())
    assert emb.projection.weight.requires_grad == (not freeze_projection)
    if not freeze_projection:
        assert emb.projection.weight.grad is not None


def test_param_groups_give_the_table_its_own_lr():
    emb_src = {"elements": ["H", "O"], "matrix": np.ones((2, 8))}
    model = build_model("cgcnn", 1, dict(tiny_config("cgcnn"), embedding_trainable=True), embedding=emb_src)
    groups = param_groups(model, 1e-3, embedding_lr=1e-5)
    by_name = {g["name"]: g for g in groups}
    assert by_name["atom_embedding.table"]["lr"] == 1e-5 and by_name["model"]["lr"] == 1e-3
    assert by_name["atom_embedding.table"]["params"] == [model.atom_embedding.table]
    n_all = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert sum(p.numel() for g in groups for p in g["params"]) == n_all
    torch.optim.Adam(groups)                     # groups are valid optimizer input
    frozen = build_model("cgcnn", 1, tiny_config("cgcnn"))
    assert [g["name"] for g in param_groups(frozen, 1e-3, 1e-5)] == ["model"]


def test_reset_parameters_restores_the_source():
    src = {"elements": ["H", "O"], "matrix": np.arange(8.0).reshape(2, 4)}
    model = build_model("cgcnn", 1, dict(tiny_config("cgcnn"), embedding_trainable=True), embedding=src)
    before = model.atom_embedding.table.detach().clone()
    proj = model.atom_embedding.projection.weight.detach().clone()
    with torch.no_grad():
        model.atom_embedding.table.add_(1.0)
        model.convs[0].bn1.running_mean.add_(3.0)
    model.reset_parameters()
    assert torch.equal(model.atom_embedding.table, before)
    assert not torch.equal(model.atom_embedding.projection.weight, proj)
    assert torch.equal(model.convs[0].bn1.running_mean, torch.zeros_like(model.convs[0].bn1.running_mean))


@pytest.mark.parametrize("name", NAMES)
def test_reset_parameters_reaches_every_weight(name):
    model = _model(name, 2, **({"readout": "cls", "uncertainty_weights": True} if name == "ct" else {}))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    model.reset_parameters()
    zero = [n for n, p in model.named_parameters() if p.dim() >= 2 and not p.abs().sum() > 0]
    assert zero == []
    out = model(_batch(_dataset(_crystals()), model.input_kind))
    assert torch.isfinite(out).all() and out.std() > 0


def test_invalid_atomic_numbers_raise():
    emb = AtomEmbedding(4, "onehot")
    with pytest.raises(ValueError, match="atomic numbers"):
        emb(torch.tensor([1, 101]))
    with pytest.raises(ValueError, match="atomic numbers"):
        emb.element_vectors([0])
    with pytest.raises(TypeError, match="integer"):
        emb(torch.tensor([1.0]))


def test_wrong_batch_type_raises():
    ds = _dataset(_crystals())
    with pytest.raises(TypeError, match="GraphBatch"):
        _model("cgcnn")(_batch(ds, "ct"))
    with pytest.raises(TypeError, match="CTBatch"):
        _model("ct")(_batch(ds, "crystal_graph"))
    with pytest.raises(ValueError, match="line graph"):
        _model("alignn")(_batch(ds, "crystal_graph"))


# ----------------------------------------------------------------- CT options
@pytest.mark.parametrize("readout", ["first", "cls", "mean"])
def test_ct_readouts(readout):
    model = _model("ct", 2, readout=readout)
    out = model(_batch(_dataset(_crystals()), "ct"))
    assert out.shape == (4, 2)
    assert (model.cls_token is not None) == (readout == "cls")


def test_ct_coord_scale_is_a_rescaled_coordinate_layer():
    batch = _batch(_dataset(_crystals()), "ct")
    torch.manual_seed(0)
    scaled = _model("ct", 1, coord_scale=0.1).eval()
    plain = _model("ct", 1).eval()
    plain.load_state_dict(scaled.state_dict())
    with torch.no_grad():
        plain.coord_embedding.weight.mul_(0.1)
        torch.testing.assert_close(plain(batch), scaled(batch))
        plain.coord_embedding.weight.mul_(10.0)
        assert not torch.allclose(plain(batch), scaled(batch))
    for bad in (0, -1.0, True, "0.1"):
        with pytest.raises(ValueError, match="coord_scale"):
            CTConfig.from_dict({"coord_scale": bad})


def test_task_loss_weights():
    losses = torch.tensor([2.0, 4.0])
    plain = _model("ct", 2)
    assert plain.task_loss_weights(losses).item() == pytest.approx(6.0)
    unc = _model("ct", 2, uncertainty_weights=True)
    assert unc.log_vars is not None and unc.log_vars.shape == (2,)
    total = unc.task_loss_weights(losses)
    assert total.item() == pytest.approx(3.0)          # 0.5 * L at s = 0
    total.backward()
    # d/ds (0.5 exp(-s) L + 0.5 s) at s = 0 is 0.5 (1 - L)
    torch.testing.assert_close(unc.log_vars.grad, torch.tensor([-0.5, -1.5]))
    with pytest.raises(ValueError, match="per-task"):
        plain.task_loss_weights(torch.ones(3))


# ----------------------------------------------------------------- configs
@pytest.mark.parametrize("name", NAMES)
def test_config_rejects_typos(name):
    cls = MODEL_CLASSES[name].config_class
    key = cls.field_names()[-1]
    with pytest.raises(ValueError, match="did you mean"):
        build_model(name, 1, {key + "s": 1})
    with pytest.raises(ValueError, match="unknown config key"):
        cls.from_dict({"definitely_not_a_key": 1})
    cfg = cls.from_dict(tiny_config(name))
    assert cls.from_dict(cfg.to_dict()) == cfg
    json.dumps(cfg.to_dict())


def test_config_value_checks():
    with pytest.raises(ValueError, match="divisible"):
        CTConfig.from_dict({"d_atom": 10, "d_coord": 10, "n_heads": 8})
    with pytest.raises(ValueError, match="readout"):
        CTConfig.from_dict({"readout": "last"})
    with pytest.raises(ValueError, match="n_conv"):
        build_model("cgcnn", 1, {"n_conv": 0})
    with pytest.raises(ValueError, match="units"):
        build_model("megnet", 1, {"units": [64, 64, 16]})
    with pytest.raises(ValueError, match="n_tasks"):
        build_model("cgcnn", 0)
    with pytest.raises(ValueError, match="unknown model"):
        build_model("schnet", 1)
    with pytest.raises(ValueError, match="external"):
        build_model("cgcnn", 1, {"embedding_init": "external"})
    # the checks TrainConfig uses too (ctlib.utils.StrictConfig): one wording for every config
    for cls, bad, msg in [
            (CTConfig, {"readout": "last"}, "CTConfig.readout must be one of ['cls', 'first', 'mean']"),
            (CTConfig, {"uncertainty_weights": 1}, "CTConfig.uncertainty_weights must be true or false"),
            (CTConfig, {"coord_scale": "1e-1"}, "CTConfig.coord_scale must be a number, got '1e-1' "
                                                 "(in YAML write 1.0e-3, not 1e-3)"),
            (MODEL_CLASSES["alignn"].config_class, {"gcn_layers": -1},
             "ALIGNNConfig.gcn_layers must be an int >= 0, got -1"),
            (MODEL_CLASSES["cgcnn"].config_class, {"radius": 0}, "CGCNNConfig.radius must be > 0, got 0")]:
        with pytest.raises(ValueError) as err:
            cls.from_dict(bad)
        assert str(err.value).startswith(msg)
    with pytest.raises(ValueError, match="CTConfig.n_layers must be an int >= 1"):
        CTConfig(n_layers=0)  # validated at construction too, as TrainConfig


def test_megnet_table_width_belongs_to_its_random_table():
    megnet = MODEL_CLASSES["megnet"].config_class
    assert megnet.from_dict({}).embedding_dim == 16            # the reference Embedding(Z, 16)
    for init in ("onehot", "cgcnn92"):
        cfg = megnet.from_dict({"embedding_init": init})
        assert cfg.embedding_dim is None
        assert build_model("megnet", 1, tiny_config("megnet") | {"embedding_init": init}) \
            .atom_embedding.d_in == (100 if init == "onehot" else 92)


# ----------------------------------------------------------------- save / load
@pytest.mark.parametrize("name,over", [
    ("ct", {}), ("ct", {"readout": "cls", "uncertainty_weights": True}),
    ("cgcnn", {}), ("cgcnn", {"embedding_trainable": True, "embedding_with_coordinates": True,
                              "embedding_coord_dim": 6}),
    ("megnet", {}), ("alignn", {})])
def test_save_load_identical_predictions(tmp_path, name, over):
    model = _model(name, 2, **over)
    ds = _dataset(_crystals())
    batch = _batch(ds, model.input_kind, ("a", "b"))
    model(batch)                                   # move BatchNorm statistics
    model.eval()
    with torch.no_grad():
        ref = model(batch)
    save_model(model, tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["name"] == name and meta["n_tasks"] == 2 and meta["format_version"] == FORMAT_VERSION
    loaded = load_model(tmp_path / "m").eval()
    assert type(loaded) is type(model) and loaded.config == model.config
    with torch.no_grad():
        assert torch.equal(loaded(batch), ref)


def test_save_load_external_embedding_with_coordinates(tmp_path):
    rng = np.random.default_rng(1)
    src = {"elements": ["H", "O", "Fe", "Cu"], "matrix": rng.normal(size=(4, 7)),
           "coord_weight": rng.normal(size=(5, 3)), "coord_bias": rng.normal(size=5)}
    model = build_model("cgcnn", 1, dict(tiny_config("cgcnn"), embedding_with_coordinates=True), embedding=src)
    assert model.config.embedding_dim == 7 and model.config.embedding_coord_dim == 5
    batch = _batch(_dataset(_crystals()), "crystal_graph")
    model.eval()
    with torch.no_grad():
        ref = model(batch)
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m").eval()
    with torch.no_grad():
        assert torch.equal(loaded(batch), ref)
    assert torch.equal(loaded.atom_embedding.table, model.atom_embedding.table)
    assert not loaded.atom_embedding.coord_linear.weight.requires_grad
    loaded.reset_parameters()                     # resets to the saved source, not to zeros
    assert torch.equal(loaded.atom_embedding.coord_linear.weight, model.atom_embedding.source_coord_weight)


def test_load_is_strict(tmp_path):
    model = _model("cgcnn")
    d = save_model(model, tmp_path / "m")
    meta = json.loads((d / "model.json").read_text())

    def write(m):
        (d / "model.json").write_text(json.dumps(m))

    write(dict(meta, format_version=FORMAT_VERSION + 1))
    with pytest.raises(ValueError, match="format_version"):
        load_model(d)
    write(dict(meta, extra=1))
    with pytest.raises(ValueError, match="unexpected keys"):
        load_model(d)
    write(dict(meta, config=dict(meta["config"], atom_fea_lenn=3)))
    with pytest.raises(ValueError, match="unknown config key"):
        load_model(d)
    write(dict(meta, config=dict(meta["config"], atom_fea_len=8)))
    with pytest.raises(ValueError, match="does not fit|does not match"):
        load_model(d)
    write(meta)
    state = torch.load(d / "weights.pt")
    state.pop("fc_out.bias")
    torch.save(state, d / "weights.pt")
    with pytest.raises(ValueError, match="missing"):
        load_model(d)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nothing")


# ----------------------------------------------------------------- small pieces
def test_gaussian_expansion_and_softplus2():
    g = GaussianExpansion(0.0, 8.0, 41, 0.2)
    d = torch.tensor([0.0, 1.0, 2.3])
    e = g(d)
    assert e.shape == (3, 41)
    assert e[1, 5].item() == pytest.approx(1.0)                     # centre 1.0 Å
    assert e[2, 11].item() == pytest.approx(np.exp(-(0.1 / 0.2) ** 2), rel=1e-5)
    assert softplus2(torch.zeros(1)).item() == pytest.approx(0.0, abs=1e-7)


def test_gaussian_expansion_returns_subnormals_as_zero(monkeypatch):
    """Values below fp32's smallest normal float come back as 0; every other value is the
    plain exp, bit for bit (the stored runs were trained before the zeroing)."""
    g = GaussianExpansion(0.0, 8.0, 41, 0.2)
    d = torch.linspace(0.5, 8.0, 3001)
    e = g(d)
    tiny = torch.finfo(torch.float32).tiny
    assert not ((e > 0) & (e < tiny)).any()
    monkeypatch.setattr(GaussianExpansion, "flush_subnormal", False)
    raw = g(d)
    sub = (raw > 0) & (raw < tiny)
    assert sub.float().mean() > 0.01                   # the case is real: 9.3-10.2 w from a centre
    assert torch.equal(e[~sub], raw[~sub]) and (e[sub] == 0).all()


# ----------------------------------------------------------------- smoke training on real data
@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_smoke_training_lowers_loss(name, mp_small):
    """A plain Adam loop on 64 real MP-2018 structures lowers the training MSE."""
    torch.manual_seed(0)
    ds = mp_small.subset(np.arange(len(mp_small)))     # a copy: the fixture is shared
    y = ds.targets["formation_energy_per_atom"]
    ds.targets["fe_std"] = (y - y.mean()) / y.std()
    model = build_model(name, 1, tiny_config(name))
    batch = _batch(ds, model.input_kind, ("fe_std",))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss_eval():
        model.eval()
        with torch.no_grad():
            return torch.nn.functional.mse_loss(model(batch), batch.y).item()

    start = loss_eval()
    model.train()
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(batch), batch.y)
        loss.backward()
        opt.step()
    end = loss_eval()
    assert np.isfinite(end) and end < 0.7 * start, (start, end)
