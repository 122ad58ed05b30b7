"""The options that describe an experiment on the command line (``--model mlp --data moons --lr 0.1 ...``), and
the session they make.

Values of ``--data-option``, ``--model-option`` and ``--optimizer-option`` are read as TOML values (``noise=0.2``,
``hidden=[16, 16]``, ``nesterov=true``); anything else is a word (``activation=relu``), as a session file writes it.
"""
from __future__ import annotations

import argparse
import os
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class UsageError(Exception):
    """A mistake in the command line itself, printed as one line."""


# Experiment fields -> the options that set them, so a refusal names what the user typed.
_FIELD_OPTIONS = {
    "model": "--model", "data": "--data", "criterion": "--criterion", "criterion_options": "--criterion",
    "optimizer": "--optimizer", "lr": "--lr", "optimizer_options": "--optimizer-option",
    "batch_size": "--batch-size", "shuffle": "--shuffle", "epochs": "--epochs", "seed": "--seed",
    "model_options.hidden": "--hidden", "model_options.activation": "--activation",
    "model_options": "--model-option", "start": "--model",
}
# What --optimizer, --lr, --batch-size and --epochs default to. A network on the course's full-batch SGD at lr 0.1
# for 20 steps barely moves (the CNN on digits went from 2.304 to 2.283): Adam on mini-batches reaches a low loss
# in a few seconds (the CNN 0.21 after 3 epochs, the MLP on moons 0.05 after 10, softmax on digits 0.36 after 5).
CLOSED_FORM_DEFAULTS = {"optimizer": "sgd", "lr": 0.1, "batch_size": "full", "epochs": 20}
NETWORK_DEFAULTS = {"optimizer": "adam", "lr": 0.01, "batch_size": "64", "epochs": 10}
NETWORK_EPOCHS = {"cnn": 3, "softmax": 5}
# A network's learning rate with another --optimizer (the panel's defaults suit the (w, b) models: Adam's 0.5
# would throw a network's weights far off); 0.01 for the others.
NETWORK_LR = {"sgd": 0.1, "asgd": 0.1, "lbfgs": 1.0, "adadelta": 1.0}

# The options that make the experiment (refused beside a session, whose runs carry their own).
TRAINING_OPTIONS = ("data", "data_option", "criterion", "optimizer", "lr", "optimizer_option", "epochs",
                    "batch_size", "shuffle", "seed", "hidden", "activation", "model_option")


def add_source_options(p: argparse.ArgumentParser) -> None:
    """Where the experiment comes from: a session file, a preset, or the options that describe one."""
    p.add_argument("session", nargs="?", metavar="SESSION.toml", help="a session or experiment saved by the app")
    p.add_argument("--preset", metavar="NAME", help="a built-in preset instead of a file (see the Presets menu)")
    g = p.add_argument_group("an experiment from options (instead of a session)")
    g.add_argument("--model", metavar="SPEC",
                   help="linear, logistic, plane, mlp, softmax, cnn, or path/to/file.py:function (a function "
                        "returning a torch.nn.Module; the file's code runs, as any script would)")
    g.add_argument("--data", metavar="NAME",
                   help="a built-in dataset (linear, logistic, plane, moons, circles, xor, spirals, digits, ...) "
                        "or a CSV file (x,y or x1,x2,y)")
    g.add_argument("--data-option", action="append", default=[], metavar="K=V",
                   help="a dataset knob, repeatable: n_samples=500, noise=0.2, seed=1")
    g.add_argument("--criterion", metavar="NAME",
                   help="mse, l1, huber, bce, bce-logits, cross-entropy (default: what the data's labels want)")
    g.add_argument("--optimizer", metavar="NAME", help="a torch.optim name: sgd, adam, ... (default sgd; a "
                                                      "network's adam)")
    g.add_argument("--lr", type=float, metavar="X", help="learning rate (default 0.1; a network's 0.01, with "
                                                         "sgd 0.1)")
    g.add_argument("--optimizer-option", action="append", default=[], metavar="K=V",
                   help="a hyperparameter under torch's name, repeatable: momentum=0.9, betas=[0.8, 0.99]")
    g.add_argument("--epochs", type=int, metavar="N", help="epochs (default 20; a network's 10, cnn 3, softmax 5)")
    g.add_argument("--batch-size", metavar="N|full", help="mini-batch size (default: full batch; a network's 64)")
    g.add_argument("--shuffle", action="store_true", help="reshuffle the samples every epoch (seeded)")
    g.add_argument("--seed", type=int, default=0, metavar="N",
                   help="seeds the network's initial weights, the shuffling and dropout (default 0)")
    g.add_argument("--hidden", metavar="W,W,...", help="mlp: hidden layer widths (default 32,32)")
    g.add_argument("--activation", metavar="NAME", help="mlp, cnn: tanh, relu, sigmoid, gelu, elu, leaky-relu")
    g.add_argument("--model-option", action="append", default=[], metavar="K=V",
                   help="a model option, repeatable: batchnorm=true, dropout=0.2, channels=[4, 8]; a file's "
                        "function gets them as keyword arguments")
    from ..export.commands import add_trust_option
    add_trust_option(p)


def check_source(args) -> None:
    """Exactly one source; training options only with ``--model``."""
    given = [bool(args.session), bool(args.preset), bool(args.model)]
    prog = f"landscape-app {args.command}"
    if sum(given) != 1:
        raise UsageError(f"{prog}: give a SESSION.toml, --preset NAME, or --model SPEC --data NAME (one of them)")
    if args.model:
        if not args.data:
            raise UsageError(f"{prog}: --model needs --data NAME (the dataset to train on)")
        return
    defaults = {a.dest: a.default for a in build_defaults()._actions}
    for name in TRAINING_OPTIONS:
        if getattr(args, name) != defaults[name]:
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"{prog}: {flag} describes a new experiment and goes with --model SPEC; a session's "
                             f"runs carry their own settings")


def build_defaults() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    add_source_options(p)
    return p


def parse_value(text: str):
    """A TOML value (number, true/false, [list], "string"), else the text itself as a word."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_pairs(option: str, items) -> dict:
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise UsageError(f"{option} {item!r}: write KEY=VALUE, e.g. {option} noise=0.2")
        out[key] = parse_value(value.strip())
    return out


def parse_widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--hidden {text!r}: give the widths as whole numbers separated by commas, "
                         "e.g. --hidden 32,32") from None
    return widths


def _batch_size(text: str):
    if text.strip().lower() == "full":
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"--batch-size {text!r}: give a whole number or 'full'") from None


def _flag_error(exc):
    """A ConfigError about an Experiment field, renamed after the option that set it."""
    from ..core.errors import ConfigError
    field = getattr(exc, "field", "")
    message = str(exc).split(": ", 1)[1] if ": " in str(exc) else str(exc)
    head, _, rest = field.partition(".")
    if field in _FIELD_OPTIONS:
        flag = _FIELD_OPTIONS[field]
    elif head in _FIELD_OPTIONS:
        flag = f"{_FIELD_OPTIONS[head]} {rest}" if rest else _FIELD_OPTIONS[head]
    else:
        return exc
    return ConfigError(flag, message)


def make_dataset_from(args):
    from ..core.data import dataset_from_csv, make_dataset
    from ..core.errors import DataError
    knobs = parse_pairs("--data-option", args.data_option)
    if args.data.lower().endswith(".csv"):
        if knobs:
            raise UsageError(f"--data-option: a CSV file ({args.data}) has no knobs")
        return dataset_from_csv(args.data)
    try:
        return make_dataset(args.data, **knobs)
    except DataError as exc:
        raise DataError(f"--data {args.data}: {exc}") from None


def experiment_from(args):
    """The experiment the options describe; a mistake names the option."""
    from ..core.errors import ConfigError
    from ..core.experiment import Experiment
    model_options = parse_pairs("--model-option", args.model_option)
    if args.hidden is not None:
        model_options["hidden"] = parse_widths(args.hidden)
    if args.activation is not None:
        model_options["activation"] = args.activation
    data = make_dataset_from(args)
    training = training_defaults(args)
    try:
        return Experiment(data=data, model=args.model, criterion=args.criterion, optimizer=training["optimizer"],
                          lr=training["lr"], optimizer_options=parse_pairs("--optimizer-option", args.optimizer_option),
                          batch_size=_batch_size(training["batch_size"]), shuffle=args.shuffle,
                          epochs=training["epochs"], seed=args.seed, model_options=model_options)
    except ConfigError as exc:
        raise _flag_error(exc) from None


def training_defaults(args) -> dict:
    """--optimizer, --lr, --batch-size and --epochs as given, the rest from the model's defaults (a network's
    train; the closed-form models keep the course's full-batch SGD)."""
    from ..core.models import MODELS
    network = args.model not in MODELS
    defaults = dict(NETWORK_DEFAULTS if network else CLOSED_FORM_DEFAULTS)
    if network:
        defaults["epochs"] = NETWORK_EPOCHS.get(args.model, defaults["epochs"])
        if args.optimizer is not None:
            defaults["lr"] = NETWORK_LR.get(args.optimizer, defaults["lr"])
    given = {"optimizer": args.optimizer, "lr": args.lr, "batch_size": args.batch_size, "epochs": args.epochs}
    return {key: defaults[key] if value is None else value for key, value in given.items()}


def check_outputs(args, session=None) -> None:
    """No output of the command is one of its inputs: ``-o`` (and ``--store``, which it writes too) is not the
    session file, ``--data``, the other output, nor (given the loaded ``session``) a file its runs read."""
    from ..core.inputs import check_not_input, session_inputs
    inputs = [("the session file", getattr(args, "session", None))]
    if getattr(args, "model", None) and getattr(args, "data", None) and os.path.isfile(args.data):
        inputs.append(("--data", args.data))
    if session is not None:
        inputs.extend(session_inputs(session))
    store = getattr(args, "store", None)
    check_not_input(args.output, [*inputs, ("--store", store)], f"-o {args.output}")
    if store is not None:
        check_not_input(store, inputs, f"--store {store}")


def session_from(args):
    """The session to work on: a file, a preset, or one run made from the options."""
    if args.model:
        from ..core.session import Session
        if getattr(args, "own_process", False):
            from ..core.eager_torch import defer_dynamo
            defer_dynamo()
        return Session((experiment_from(args),))
    from ..export.commands import load_session
    return load_session(args)


__all__ = ["UsageError", "add_source_options", "check_source", "check_outputs", "session_from", "experiment_from",
           "parse_value", "parse_pairs"]
