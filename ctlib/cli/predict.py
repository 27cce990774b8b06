"""``ctlib predict``: a trained model on CIF files."""
from __future__ import annotations

import sys
from pathlib import Path


from ctlib.cli.common import CLIError, _warn

def _read_structure(path: Path):
    """A validated pymatgen Structure from one file; CLIError (message without the
    file name) saying what is wrong and what to do."""
    import warnings

    from pymatgen.core import Structure

    from ctlib.data import DataError, check_structure

    if not path.exists():
        raise CLIError("file does not exist")
    if not path.is_file():
        raise CLIError("is a folder, not a structure file")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            s = Structure.from_file(path)
        except Exception as e:  # pymatgen raises many types on bad files
            said = f"; pymatgen says: {' '.join(str(caught[0].message).split())[:150]}" if caught else ""
            raise CLIError(f"cannot read it as a structure ({type(e).__name__}: "
                           f"{str(e)[:150]}){said}. Check the file (CIF, POSCAR or any format "
                           f"pymatgen reads)") from None
    for w in caught:  # keep pymatgen's warnings about files that did parse
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    try:
        check_structure(s)
    except DataError as e:
        msg = str(e)
        if "partial occupancy" in msg:
            hint = "ctlib models need ordered structures: order the structure first"
        elif "not a chemical element" in msg:
            hint = "fix the element symbol in the file (elements of Z=1..100)"
        elif "outside Z=1" in msg:
            hint = "ctlib models cover Z=1..100 only; this structure cannot be predicted"
        else:
            hint = "fix the file"
        raise CLIError(f"{msg}; {hint}") from None
    return s


def _trained_elements(model) -> list[str] | None:
    emb = getattr(model, "atom_embedding", None)
    return getattr(emb, "trained_elements", None)


def _cmd_predict(args) -> int:
    import numpy as np

    from ctlib.data.dataset import CrystalDataset
    from ctlib.elements import SYMBOLS
    from ctlib.train import Trainer

    tr = Trainer.load(args.run_dir, device=args.device or "cpu", progress=False)
    trained = _trained_elements(tr.model)
    good, failed = [], []  # (file, structure) / file
    for f in args.cifs:
        try:
            good.append((f, _read_structure(Path(f))))
        except CLIError as e:
            print(f"ctlib: error: {f}: {e}", file=sys.stderr)
            failed.append(f)

    def predict(items):
        ds = CrystalDataset.from_structures([s for _, s in items], ids=[f for f, _ in items],
                                            name="cli")
        return np.asarray(tr.predict(ds), dtype=np.float64)

    rows = []  # (file, structure, prediction row)
    if good:
        try:
            pred = predict(good)
            rows = [(f, s, p) for (f, s), p in zip(good, pred)]
        except (ValueError, RuntimeError, IndexError) as e_all:
            if len(good) == 1:
                print(f"ctlib: error: {good[0][0]}: the model cannot predict it "
                      f"({type(e_all).__name__}: {e_all})", file=sys.stderr)
                failed.append(good[0][0])
            else:  # find the file(s) that break the batch
                for f, s in good:
                    try:
                        rows.append((f, s, predict([(f, s)])[0]))
                    except (ValueError, RuntimeError, IndexError) as e:
                        print(f"ctlib: error: {f}: the model cannot predict it "
                              f"({type(e).__name__}: {e})", file=sys.stderr)
                        failed.append(f)
    if trained is None:
        if rows:
            print("ctlib: note: this model's weights do not record which elements it was "
                  "trained on (saved by an older ctlib), so predictions for elements outside "
                  "its training data cannot be flagged", file=sys.stderr)
    else:
        seen = set(trained)
        for f, s, _ in rows:
            unseen = sorted({SYMBOLS[int(z) - 1] for z in s.atomic_numbers} - seen,
                            key=SYMBOLS.index)
            if unseen:
                _warn(f"{f}: element(s) {', '.join(unseen)} never occurred in this model's "
                      f"training data; the prediction extrapolates from untrained embedding "
                      f"rows and is unreliable")
    header = ["file"] + [f"{t} ({tr.units.get(t) or '-'})" for t in tr.targets]
    if args.csv:
        import csv

        from ctlib.utils import atomic_write

        def write(tmp):
            with open(tmp, "w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(["file"] + tr.targets)
                for f, _, row in rows:
                    w.writerow([f] + [f"{x:.6g}" for x in row])

        atomic_write(args.csv, write, ".csv")
        print(f"wrote {len(rows)} prediction(s) to {args.csv}")
    if rows:
        width = max(len(h) for h in header)
        print("  ".join(h.ljust(width) for h in header))
        for f, _, row in rows:
            print("  ".join([str(f).ljust(width)] + [f"{x:<{width}.5g}" for x in row]))
    if failed:
        print(f"ctlib: error: {len(failed)} of {len(args.cifs)} file(s) failed (see above): "
              f"{', '.join(failed[:10])}{' ...' if len(failed) > 10 else ''}; "
              + (f"the other {len(rows)} were predicted" if rows else "nothing was predicted"),
              file=sys.stderr)
        return 1
    return 0


# ====================================================================== embed
