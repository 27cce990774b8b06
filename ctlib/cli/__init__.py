"""The ``ctlib`` command.

Subcommands::

    ctlib data info [NAME]                      datasets: split counts, elements, targets
    ctlib train --config FILE.yaml              train one model, store its record
    ctlib predict RUN_DIR CIF... [--csv OUT]    predict with a trained model
    ctlib embed extract RUN_DIR -o FILE         element embedding of a trained model
    ctlib embed export SRC --format F -o OUT    convert (atom_init.json for CGCNN, csv, npz, json)
    ctlib embed show FILE                       summary of an embedding file
    ctlib book --profile P                      execute the notebooks and build the book

Every subcommand has ``--help`` with examples. ``main(argv)`` returns the exit
code (0 ok, 1 error, 2 usage error); errors print one line, no traceback.
``python -m ctlib`` runs the same command.
"""
from __future__ import annotations

import argparse
import sys
import textwrap


from ctlib.cli.common import _FMT, CLIError, _call, _format_warning, _run, load_yaml  # noqa: F401 (re-exported)
from ctlib.cli.embed import _cmd_embed_export, _cmd_embed_extract, _cmd_embed_show
from ctlib.cli.predict import _cmd_predict
from ctlib.cli.train import _TRAIN_KEYS, _cmd_data_info, _cmd_train

def _sub(subparsers, name: str, help_: str, description: str, examples: str):
    return subparsers.add_parser(
        name, help=help_, formatter_class=_FMT,
        description=textwrap.dedent(description).strip(),
        epilog="examples:\n" + textwrap.indent(textwrap.dedent(examples).strip(), "  "))


def build_parser() -> argparse.ArgumentParser:
    """The ``ctlib`` argument parser (no work done, nothing imported)."""
    p = argparse.ArgumentParser(
        prog="ctlib", formatter_class=_FMT,
        description="Companion library of 'Crystal Transformer Based Universal Atomic "
                    "Embedding' (Jin et al. 2024): data, training, embeddings, the book.",
        epilog="run `ctlib COMMAND --help` for the options and examples of each command")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    # data
    data = _sub(sub, "data", "dataset commands", "Dataset commands.", "ctlib data info mp2018")
    data.set_defaults(group_parser=data)
    dsub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    info = _sub(dsub, "info", "counts per split, elements and targets of a dataset",
                """
                Show a registry dataset: structures per split (default scheme), the
                elements present, and each target with its unit and number of labels.
                Without NAME every registry dataset is shown. The first call parses
                the dataset (minutes for mp2018); later calls read the cache.
                """,
                """
                ctlib data info mp2018
                ctlib data info            # all datasets
                ctlib data info hoip --data-root /path/to/data
                """)
    info.add_argument("name", nargs="?", metavar="NAME",
                      help="registry dataset (mp2018, castelli_perovskites, hoip)")
    info.add_argument("--data-root", default=None,
                      help="data folder (default $CTLIB_DATA or data/)")
    info.set_defaults(func=_cmd_data_info)

    # train
    keys = "\n".join(f"  {k:13s} {v}" for k, v in _TRAIN_KEYS.items())
    train = _sub(sub, "train", "train one model from a YAML config", textwrap.dedent(
                 """
                 Train one model on a dataset and store its run record (test MAE, RMSE,
                 R2, provenance), its element embedding and its checkpoint under the
                 output folder:
                   <output>/results/cli/<experiment>/<run_id>.json  (+ embeddings/)
                   <output>/runs/cli/<experiment>/<run_id>/         (checkpoint; predict, embed extract)
                 A run with the same configuration is not retrained (use --force); the
                 command then says it reused the stored run. An interrupted run resumes
                 from its last epoch, and says so. Printed paths are relative to the
                 current folder (or absolute). --skip-bad drops invalid records.

                 YAML keys (unknown keys are rejected):
                 """).strip() + "\n" + keys,
                 """
                 ctlib train --config my.yaml
                 ctlib train --config my.yaml --device cuda --force
                 ctlib train --config my.yaml --skip-bad   # drop invalid records, with a warning

                 # my.yaml
                 model: cgcnn
                 targets: [formation_energy_per_atom]
                 dataset: mp2018               # or {cif_folder: ./my_cifs}
                 split: {scheme: standard, n_train: 5000}
                 train: {epochs: 30, lr: 1e-3, batch_size: 64}
                 embedding: ct_embedding.json  # optional transferred front
                 output: runs/cgcnn_ef
                 """)
    train.add_argument("--config", required=True, metavar="FILE.yaml", help="the run's YAML file")
    train.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None,
                       help="override train.device")
    train.add_argument("--force", action="store_true",
                       help="retrain from scratch even if this configuration was run")
    train.add_argument("--skip-bad", action="store_true",
                       help="skip invalid dataset records (bad CIF, missing or NaN target, "
                            "element outside Z=1..100) with a warning listing them, instead of "
                            "stopping; same as skip_bad: true in the dataset: entry")
    train.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="progress bars (default: when on a terminal)")
    train.set_defaults(func=_cmd_train)

    # predict
    pred = _sub(sub, "predict", "predict properties of CIF files with a trained model",
                """
                Predict the targets of a trained model (a run folder written by
                `ctlib train` or Trainer.fit: model/ + trainer.json) for CIF files,
                in the targets' original units. Each file is checked on its own: a
                file that cannot be read or predicted (missing, not a structure,
                disordered, an element that is not one of Z=1..100) gets an error
                line naming it, the others are still predicted (and written to
                --csv), and the exit status is then 1. A structure holding an
                element the model never met in training is predicted with a
                warning: its embedding row was never trained.
                """,
                """
                ctlib predict runs/cgcnn_ef/runs/cli/my/cgcnn-formation_energy_per_atom-1a2b3c4d-s0 a.cif b.cif
                ctlib predict RUN_DIR *.cif --csv predictions.csv
                """)
    pred.add_argument("run_dir", metavar="CHECKPOINT_DIR", help="run folder of a trained model")
    pred.add_argument("cifs", nargs="+", metavar="CIF", help="structure files (CIF or any "
                                                             "format pymatgen reads)")
    pred.add_argument("--csv", default=None, metavar="OUT.csv", help="also write a CSV")
    pred.add_argument("--device", choices=("cpu", "cuda", "auto"), default=None,
                      help="device (default cpu)")
    pred.set_defaults(func=_cmd_predict)

    # embed
    emb = _sub(sub, "embed", "element embeddings: extract, export, show",
               "Element-embedding commands (methods A/B/C of the paper).",
               """
               ctlib embed extract RUN_DIR -o ct_embedding.json
               ctlib embed export results/quick/fronts --run ct-formation_energy_per_atom+band_gap --format atom_init -o atom_init.json
               ctlib embed show ct_embedding.json
               """)
    emb.set_defaults(group_parser=emb)
    esub = emb.add_subparsers(dest="embed_command", metavar="SUBCOMMAND")
    ex = _sub(esub, "extract", "element embedding of a trained model",
              """
              Extract the element embedding of a trained model: method A for a
              CrystalTransformer (W[:, Z-1] + b of its atom layer, plus the
              coordinate layer), method B for a GNN (its learned atom front).
              The file type follows the output name (.json, .npz, .csv) or --format.
              """,
              """
              ctlib embed extract RUN_DIR -o ct_embedding.json
              ctlib embed extract RUN_DIR -o atom_init.json --format atom_init
              ctlib embed extract RUN_DIR -o emb.csv --elements all
              """)
    ex.add_argument("run_dir", metavar="CHECKPOINT_DIR", help="run folder (or a save_model folder)")
    ex.add_argument("-o", "--output", required=True, metavar="FILE", help="output file")
    ex.add_argument("--format", choices=("json", "npz", "csv", "atom_init"), default=None,
                    help="file format (default: from the extension)")
    ex.add_argument("--elements", choices=("mp2018", "all"), default="mp2018",
                    help="the 89 elements of MP-2018 (default) or all of Z=1..100")
    ex.add_argument("--fill", choices=("zero", "mean"), default="zero",
                    help="atom_init only: vector for elements not in the embedding")
    ex.set_defaults(func=_cmd_embed_extract)

    exp = _sub(esub, "export", "convert an embedding (atom_init.json for CGCNN, csv, npz, json)",
               """
               Convert an element embedding to another format. SRC is an embedding
               file (.json/.npz/.csv or an atom_init.json), a run record, or a results
               folder of run records (choose one with --run when it holds several).
               atom_init writes CGCNN's format: keys "1".."100", one list of floats
               per element; elements missing from the embedding get zeros (or the
               mean vector with --fill mean) and are listed in a warning.
               --learned-part PROFILE writes what pretraining added to a CT table:
               the table minus the untrained CT table of that profile (rebuilt from
               --start-seed, by default the profile's pretraining seed).
               """,
               """
               ctlib embed export ct_embedding.json --format atom_init -o atom_init.json
               ctlib embed export ct_mt_s0.npz --learned-part cpu --format csv -o ct_mt_learned.csv
               ctlib embed export results/quick/fronts --run ct-formation_energy_per_atom+band_gap --format csv -o ct_mt.csv
               ctlib embed export results/quick/fronts --run cgcnn-band_gap --format npz -o cgcnn_eg.npz
               ctlib embed export results/<profile>/<experiment>/<run_id>.json --format json -o emb.json
               """)
    exp.add_argument("source", metavar="SRC", help="embedding file, run record or results folder")
    exp.add_argument("--format", required=True, choices=("atom_init", "csv", "npz", "json"),
                     help="output format")
    exp.add_argument("-o", "--output", required=True, metavar="OUT", help="output file")
    exp.add_argument("--run", default=None, metavar="RUN_ID",
                     help="run id (or its prefix) when SRC is a folder of several runs")
    exp.add_argument("--fill", choices=("zero", "mean"), default="zero",
                     help="atom_init: vector for elements not in the embedding (default zero)")
    exp.add_argument("--learned-part", default=None, metavar="PROFILE",
                     help="subtract the untrained CT table of this profile (a CT table's learned part)")
    exp.add_argument("--start-seed", type=int, default=None, metavar="N",
                     help="with --learned-part: the pretraining seed (default: the profile's front seed)")
    exp.set_defaults(func=_cmd_embed_export)

    show = _sub(esub, "show", "summary of an embedding file",
                "Print an embedding's shape, element list, provenance and first rows.",
                """
                ctlib embed show ct_embedding.json
                ctlib embed show results/quick/fronts --run ct-band_gap --rows 10
                """)
    show.add_argument("source", metavar="FILE", help="embedding file, run record or results folder")
    show.add_argument("--run", default=None, metavar="RUN_ID", help="as in export")
    show.add_argument("--rows", type=int, default=5, help="rows to print (default 5)")
    show.set_defaults(func=_cmd_embed_show)

    # book (options are defined by ctlib.book; `ctlib book --help` shows them)
    _sub(sub, "book", "execute the notebooks and build the Jupyter Book",
         """
         Execute every notebook with papermill at a profile's scale and build the
         book (options: --profile, --only NB..., --no-html, -p KEY VALUE; see
         `ctlib book --help`).
         """,
         """
         ctlib book --profile quick
         ctlib book --profile smoke --only 01_data --no-html
         ctlib book --profile paper -p seeds '[0, 1, 2]'
         """)

    # campaign
    camp = _sub(sub, "campaign", "train a profile's missing runs in priority order, resumably",
                """
                Train the runs of a profile that are not stored yet, in priority order
                (tier 1 first), resuming any run from its last epoch checkpoint. With
                --hours the campaign stops at the first epoch boundary after the budget
                is spent; the same command continues later. Stored runs are never
                repeated. Prints a table of done / running / pending steps with the
                CPU-hours spent and an estimate of the hours left. Exit status: 0 when
                every planned run is stored, 3 when the budget ran out first.
                A committed profile's runs are trained only from a clean git tree.
                On CPU the runs of the many-run steps (data-scarce transfer, zoo,
                Matbench, learning curve) are shared by a local Dask cluster of
                --workers single-thread processes, one core each (default: one per
                core); every other step trains in one process with every core. With
                --scheduler every step's runs go to that Dask cluster, one task per
                run; its workers must share the run folder, results and data.
                """,
                """
                ctlib campaign --profile cpu --status
                nohup nice -n 19 ctlib campaign --profile cpu --hours 2.5 > campaign.log 2>&1 &
                ctlib campaign --profile cpu --device cuda
                ctlib campaign --profile cpu --scheduler tcp://scheduler-host:8786
                """)
    camp.add_argument("--profile", default="cpu", help="profile to train (default: cpu)")
    camp.add_argument("--hours", type=float, default=None,
                      help="wall-clock budget in hours (default: no limit)")
    camp.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                      help="where to train (default: auto = cuda when present)")
    camp.add_argument("--tier", type=int, nargs="+", default=None, metavar="N",
                      help="train only the steps of these tiers (default: all, in order)")
    camp.add_argument("--workers", type=int, default=None, metavar="N",
                      help="workers sharing the many-run steps (scarce transfer, zoo, Matbench, learning curve), "
                           "one core each (default: one per core on CPU, 1 on a GPU)")
    camp.add_argument("--scheduler", default=None, metavar="ADDRESS",
                      help="a running Dask scheduler (tcp://host:8786): every step's runs are its tasks "
                           "(default: this machine; many-run steps on a local Dask cluster)")
    camp.add_argument("--executor", default="dask", choices=("dask", "processes"),
                      help="how --workers share a many-run step without --scheduler: a local Dask "
                           "cluster (default) or processes that claim runs through lock files")
    camp.add_argument("--status", action="store_true", help="print the progress table and exit")
    camp.set_defaults(func=_cmd_campaign)
    return p


def _cmd_campaign(args) -> int:
    from ctlib import campaign

    if args.hours is not None and not args.hours > 0:
        raise CLIError(f"--hours must be > 0, got {args.hours}")
    if args.workers is not None and args.workers < 1:
        raise CLIError(f"--workers must be >= 1, got {args.workers}")
    if args.status:
        print(campaign.format_status(campaign.status(args.profile)))
        return 0
    workers = args.workers if args.workers is not None else campaign.default_workers(args.device)
    return campaign.run_campaign(args.profile, hours=args.hours, device=args.device,
                                 out=lambda msg: print(msg, flush=True), tiers=args.tier,
                                 workers=workers, scheduler=args.scheduler, executor=args.executor)


def main(argv: list[str] | None = None) -> int:
    """Run the ``ctlib`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "book":  # delegated whole: ctlib.book owns its options
        import ctlib.book

        return _call(lambda: ctlib.book.main(argv[1:]))
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    if not getattr(args, "func", None):  # no command, or a group without its subcommand
        getattr(args, "group_parser", parser).print_help()
        return 2
    return _call(lambda: args.func(args))
