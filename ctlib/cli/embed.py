"""``ctlib embed extract | export | show``: element tables out of trained models, into
other formats (CGCNN's ``atom_init.json``, csv, npz, json), and their summary."""
from __future__ import annotations

import json
from pathlib import Path


from ctlib.cli.common import CLIError

def _elements(choice: str):
    from ctlib.elements import ELEMENTS, SYMBOLS

    return list(ELEMENTS if choice == "mp2018" else SYMBOLS)


def _cmd_embed_extract(args) -> int:
    from ctlib.embeddings import ElementEmbedding
    from ctlib.models import load_model

    run_dir = Path(args.run_dir)
    model_dir = run_dir / "model" if (run_dir / "model" / "model.json").is_file() else run_dir
    if not (model_dir / "model.json").is_file():
        raise CLIError(f"{run_dir} holds no saved model (expected model/model.json from a "
                       f"finished ctlib train run)")
    model = load_model(model_dir)
    emb = ElementEmbedding.from_model(model, elements=_elements(args.elements),
                                      provenance={"source_dir": str(run_dir)})
    _write_embedding(emb, Path(args.output), args.format, args.fill)
    print(f"{emb!r} -> {args.output}")
    return 0


def _record_embedding(path: Path, run: str | None) -> Path:
    """Resolve SRC of ``embed export``/``show``: an embedding file, a run record, or a
    results folder holding records (pick one with ``run``)."""
    def from_record(rec_path: Path) -> Path:
        from ctlib.lookup import record_embedding_path

        rec = json.loads(rec_path.read_text())
        # <root>/<profile>/<experiment>/<run_id>.json
        path = record_embedding_path(rec, rec_path.parents[2])
        if path is None:
            raise CLIError(f"run record {rec_path} has no embedding_path")
        return path

    if path.is_dir():
        if (path / "trainer.json").is_file():
            raise CLIError(f"{path} is a checkpoint folder; use `ctlib embed extract {path} -o FILE`")
        records = []
        for p in sorted(path.glob("*.json")):
            try:
                obj = json.loads(p.read_text())
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict) and "config_hash" in obj:
                records.append((p, obj))
        if run:
            records = [(p, r) for p, r in records if r.get("run_id", "").startswith(run)
                       or p.stem.startswith(run)]
        if not records:
            raise CLIError(f"no run record{' matching ' + repr(run) if run else ''} in {path}")
        if len(records) > 1:
            ids = ", ".join(r.get("run_id", p.stem) for p, r in records)
            raise CLIError(f"{path} holds {len(records)} runs; choose one with --run ({ids})")
        return from_record(records[0][0])
    if path.suffix == ".json" and path.is_file():
        try:
            obj = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise CLIError(f"{path} is not valid JSON: {e}") from None
        if isinstance(obj, dict) and "config_hash" in obj:
            return from_record(path)
    return path


def _write_embedding(emb, out: Path, fmt: str | None, fill: str) -> None:
    if fmt is None:
        fmt = {".npz": "npz", ".csv": "csv"}.get(out.suffix.lower(), "json")
    if fmt == "atom_init":
        if out.suffix.lower() != ".json":
            raise CLIError(f"atom_init files are JSON: name the output *.json, not {out.name}")
        emb.to_atom_init(out, fill=fill)
        return
    want = "." + fmt
    if out.suffix.lower() != want:
        raise CLIError(f"--format {fmt} writes a {want} file; got output name {out.name}")
    emb.save(out)


def _cmd_embed_export(args) -> int:
    from ctlib.embeddings import ElementEmbedding

    src = _record_embedding(Path(args.source), args.run)
    emb = ElementEmbedding.load(src)
    if args.learned_part:
        from ctlib.config import PROFILES
        from ctlib.experiments import learned_part

        if args.learned_part not in PROFILES:
            raise CLIError(f"--learned-part {args.learned_part!r}: not a profile; choose one of "
                           f"{', '.join(PROFILES)} (the profile whose CT pretraining made the table)")
        try:
            emb = learned_part(emb, args.learned_part, args.start_seed)
        except ValueError as e:
            raise CLIError(f"{src}: {e}") from None
    _write_embedding(emb, Path(args.output), args.format, args.fill)
    print(f"{emb!r} -> {args.output} ({args.format})")
    return 0


def _cmd_embed_show(args) -> int:
    import numpy as np

    from ctlib.embeddings import ElementEmbedding

    src = _record_embedding(Path(args.source), args.run)
    emb = ElementEmbedding.load(src)
    print(repr(emb))
    print(f"file: {src}")
    print(f"elements ({len(emb)}): {' '.join(emb.elements)}")
    for k, v in emb.provenance.items():
        text = json.dumps(v) if not isinstance(v, str) else v
        print(f"  {k}: {text if len(text) < 100 else text[:97] + '...'}")
    norms = np.linalg.norm(emb.matrix, axis=1)
    print(f"vector norms: min {norms.min():.4g}  mean {norms.mean():.4g}  max {norms.max():.4g}")
    if emb.coord_weight is not None:
        print(f"coordinate layer: weight {emb.coord_weight.shape}, "
              f"bias {None if emb.coord_bias is None else emb.coord_bias.shape}")
    for sym, row in list(zip(emb.elements, emb.matrix))[: args.rows]:
        vals = " ".join(f"{x:8.4f}" for x in row[:6])
        print(f"  {sym:3s} {vals}{' ...' if emb.dim > 6 else ''}")
    return 0


# ===================================================================== parser
