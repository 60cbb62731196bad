"""``dltool archcalc``: per-layer parameters, activations, MACs and receptive fields, without TensorFlow."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Optional

import typer

from dltool.cli import choices
from dltool.cli import options as opt


def _inception_option(flag: str, text: str) -> Any:
    """An option of 'archcalc inception' only: in that help panel, None when not given."""
    return Annotated[Optional[int], typer.Option(flag, help=f"inception: {text}", rich_help_panel="inception",
                                                 show_default=False)]


F1 = _inception_option("--f1", "1×1 filters (report-004: 128).")
F3 = _inception_option("--f3", "3×3 filters (report-004: 192).")
F5 = _inception_option("--f5", "5×5 filters (report-004: 96).")
Reduce3 = _inception_option("--reduce3", "1×1 reducer filters before the 3×3 (report-004: 64).")
Reduce5 = _inception_option("--reduce5", "1×1 reducer filters before the 5×5 (report-004: 64).")
Reduce = _inception_option("--reduce", "shortcut that sets --reduce3 and --reduce5 to the same value.")
PoolProj = _inception_option("--pool-proj", "1×1 filters after the pool (report-004: 64).")


# --sort's values (dltool.archcalc.compare.SORT_KEYS; a test keeps the two equal): no archcalc import at start-up
SortKey = Enum("SortKey", {k: k for k in ("params", "macs", "memory")}, type=str)


def archcalc(
    ctx: typer.Context,
    networks: Annotated[list[str], typer.Argument(
        help="a built-in network (alexnet, vgg11 … vgg19 and more: 'list' names them); 'inception'; "
        "'receptive-field'; 'list'; any Keras application (resnet50, mobilenetv2 …) or a .keras file. Two or more "
        "networks: one comparison table, a row per network.", metavar="NETWORK...",
        show_default=False)],
    input_: Annotated[Optional[str], typer.Option("--input", help="Input size HxWxC, e.g. 224x224x3 "
                                                  "(inception: the preset's, 32x32x256 for report-004).",
                                                  show_default=False)] = None,
    bias: Annotated[bool, typer.Option("--bias/--no-bias", help="Count biases.")] = True,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Batch for activation memory.")] = 1,
    dtype: Annotated[str, typer.Option("--dtype", help="fp32, fp16, bf16, fp64 or int8: bytes per value "
                                      "for the memory sizes.")] = "fp32",
    formulas: Annotated[bool, typer.Option("--formulas/--no-formulas", help="Show each count as its formula.")]
    = True,
    preset: Annotated[Optional[str], typer.Option(
        "--preset", click_type=choices.INCEPTION_PRESET,
        help="inception: a named module — report-004 (the default: 32x32x256, Figure 1's filters) or "
        "googlenet-3a (Szegedy et al. 2015, Table 1). Options given beside it override its sizes.",
        rich_help_panel="inception", show_default=False)] = None,
    f1: F1 = None, f3: F3 = None, f5: F5 = None, reduce3: Reduce3 = None, reduce5: Reduce5 = None,
    reduce: Reduce = None, pool_proj: PoolProj = None,
    layers: Annotated[Optional[int], typer.Option("--layers", "-n", help="receptive-field: number of stacked "
                                                  "convolutions (default 3).", rich_help_panel="receptive-field",
                                                  show_default=False)] = None,
    kernel: Annotated[Optional[int], typer.Option("--kernel", "-f", help="receptive-field: kernel size F "
                                                  "(default 5).", rich_help_panel="receptive-field",
                                                  show_default=False)] = None,
    sort: Annotated[Optional[SortKey], typer.Option(
        "--sort", help="several networks: order the rows by parameters, MACs or memory (parameters + activations "
        "at --batch-size/--dtype), smallest first (default: as given).", rich_help_panel="comparison",
        show_default=False)] = None,
    json_: opt.Json = False,
    csv_: opt.Csv = False,
    markdown: opt.Markdown = False,
) -> None:
    """Per-layer arithmetic of a CNN: output shape, activations, weights, biases, MACs, receptive field.

    Each count is shown as the homework writes it, e.g. (3*3*64)*64 = 36,864. Totals include parameter and
    activation memory at --batch-size and --dtype (MB = 10^6 bytes, MiB = 2^20). MACs are multiply-accumulates;
    FLOPs = 2 × MACs. Built-in networks never import TensorFlow; Keras applications and .keras files do.

    Two or more networks give one comparison table instead, a row per network: input, depth (weighted layers),
    parameters, MACs, FLOPs, activations, memory, and the published parameters and MACs with their sources and
    Δ = ours − published (--json: an array, one object per network). --input, --no-bias, --batch-size and --dtype
    apply to every network.

    Examples: dltool archcalc vgg19 · dltool archcalc alexnet --no-bias · dltool archcalc inception --input
    32x32x256 · dltool archcalc inception --preset googlenet-3a · dltool archcalc receptive-field -n 3 -f 5 ·
    dltool archcalc vgg19 --json | jq .total_params · dltool archcalc vgg16 vgg19 alexnet --sort macs
    """
    from dltool import archcalc as ac
    from dltool.report import output
    from dltool.report.views import archcalc as views

    fmt = output.choose_format(json_, csv_, markdown)
    inception = dict(f1=f1, f3=f3, f5=f5, reduce=reduce, reduce3=reduce3, reduce5=reduce5, pool_proj=pool_proj)
    if len(networks) > 1:
        given = [name for name, value in (("--formulas/--no-formulas", formulas), ("--preset", preset), *(
            (f"--{k.replace('_', '-')}", v) for k, v in inception.items()), ("--layers", layers), ("--kernel", kernel))
            if _given(ctx, name, value)]
        return _compare(networks, input_, bias, batch_size, dtype, sort, given, fmt)
    network = networks[0]
    if sort is not None:
        from dltool.errors import UsageError

        raise UsageError("--sort orders the rows of a comparison of several networks, not one",
                         f"leave it out, or give more networks, e.g. 'dltool archcalc {network} vgg16 --sort params'")
    key = _check(network, batch_size, dtype, dict(preset=preset, **inception), dict(layers=layers, kernel=kernel))
    if key == "list":
        return _list(fmt)
    if key == "inception":
        cfg = ac.inception_config(preset, ac.parse_input(input_) if input_ else None, **inception)
        comparison = ac.inception(*cfg.input_shape, **cfg.filters())
        return _emit(views.inception(comparison), comparison.to_dict(), fmt)
    if key in RECEPTIVE_FIELD:
        stacked = ac.stacked_receptive_field(3 if layers is None else layers, 5 if kernel is None else kernel)
        return _emit(views.receptive(stacked), stacked.to_dict(), fmt)
    report = _report(network, input_, bias)
    _emit(views.network(report, batch_size, dtype, formulas), report.to_dict(batch_size, dtype), fmt)


def _emit(view: tuple, doc: dict, fmt) -> None:
    """Print a view's (tables, footer), or ``doc`` with --json."""
    from dltool.report import output

    tables, footer = view
    output.emit(tables, doc, fmt, footer)


RECEPTIVE_FIELD = ("receptive-field", "receptive_field", "rf")  # the names of the receptive-field calculator


def _check(network: str, batch_size: int, dtype: str, inception: dict, receptive: dict) -> str:
    """The network's key, once every option is checked (before anything is built): inception's options only
    with 'inception', --layers and --kernel only with 'receptive-field'."""
    from dltool.archcalc.core import normalize_dtype
    from dltool.errors import UsageError

    if batch_size < 1:
        raise UsageError(f"--batch-size must be ≥ 1, got {batch_size}", "use e.g. --batch-size 32")
    normalize_dtype(dtype)  # an unknown --dtype is refused before anything is built
    key = network.strip().lower()
    given = [f"--{name.replace('_', '-')}" for name, value in inception.items() if value is not None]
    if given and key != "inception":
        raise UsageError(f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} only to "
                         f"'dltool archcalc inception', not to {network!r}",
                         f"leave {'it' if len(given) == 1 else 'them'} out, or run 'dltool archcalc inception'")
    given = [f"--{name}" for name, value in receptive.items() if value is not None]
    if given and key not in RECEPTIVE_FIELD:  # they were silently ignored: 'archcalc vgg19 -f 3' looked valid
        raise UsageError(f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} only to "
                         f"'dltool archcalc receptive-field', not to {network!r}",
                         f"leave {'it' if len(given) == 1 else 'them'} out, or run "
                         f"'dltool archcalc receptive-field'")
    return key


def _list(fmt) -> None:
    """'archcalc list': the built-in networks and what else the command takes."""
    from dltool import archcalc as ac
    from dltool.report import output
    from dltool.report.tables import Column, TableSpec

    rows = [{"name": n, "description": ac.NETWORKS[n].description} for n in ac.known_names()]
    doc = {"networks": rows, "also": ["inception", "receptive-field", "any Keras application", "a .keras file"]}
    output.emit([TableSpec("Built-in networks", [Column("name", "name", justify="left"),
                                                 Column("description", "description", justify="left")], rows,
                           notes=["Also: inception (--preset report-004 or googlenet-3a), receptive-field, "
                                  "any Keras application by name (e.g. efficientnetb0), a .keras file."])], doc, fmt)


def _given(ctx: typer.Context, option: str, value: Any) -> bool:
    """An option was typed: a value other than None, or (for a flag with a default) its source is the command line."""
    if option == "--formulas/--no-formulas":
        from dltool.cli._click import click

        return ctx.get_parameter_source("formulas") not in (click.core.ParameterSource.DEFAULT, None)
    return value is not None


# Names of the calculators that are not networks: they take no part in a comparison.
NOT_NETWORKS = ("list", "inception", *RECEPTIVE_FIELD)


def _compare(networks: list[str], input_: str | None, bias: bool, batch_size: int, dtype: str, sort,
             given: list[str], fmt) -> None:
    """'archcalc NET NET …': every name and option checked first (no TensorFlow yet), the built-ins built, then
    the Keras ones (TensorFlow is imported only if one is given), one row each."""
    from dltool import archcalc as ac
    from dltool.archcalc.compare import compare
    from dltool.archcalc.core import normalize_dtype
    from dltool.errors import UsageError
    from dltool.report import output
    from dltool.report.views import archcalc as views

    if given:
        raise UsageError(f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} to one network's "
                         f"per-layer view, not to a comparison of {len(networks)} networks",
                         "leave it out, or run 'dltool archcalc' with one network")
    if batch_size < 1:
        raise UsageError(f"--batch-size must be ≥ 1, got {batch_size}", "use e.g. --batch-size 32")
    normalize_dtype(dtype)
    shape = ac.parse_input(input_) if input_ else None
    sources, seen = [], {}
    for network in networks:
        if network.strip().lower() in NOT_NETWORKS:
            raise UsageError(f"'{network}' is not a network and cannot be compared",
                             f"run 'dltool archcalc {network.strip().lower()}' on its own")
        kind, key = _source(network)
        if kind == "file":
            _check_model_file(network, must_exist=True)
        if key in seen:
            raise UsageError(f"{key} is given twice" + (f" (as {seen[key]!r} and {network!r})"
                                                         if network != seen[key] else ""), "give each network once")
        seen[key] = network
        sources.append((kind, network))
    reports: dict[int, Any] = {i: ac.build(name, input_shape=shape, bias=bias)
                               for i, (kind, name) in enumerate(sources) if kind == "builtin"}
    if len(reports) < len(sources):
        from dltool.archcalc.keras_model import from_keras

        reports.update({i: from_keras(name, input_shape=shape, bias=bias)
                        for i, (kind, name) in enumerate(sources) if kind != "builtin"})
    result = compare([reports[i] for i in range(len(sources))], batch_size, dtype,
                     getattr(sort, "value", sort))
    _emit(views.comparison(result, stacked=fmt is output.Format.TABLE), result.to_dict(), fmt)


def _source(network: str) -> tuple[str, str]:
    """('builtin', canonical name), ('file', path) or ('keras', application name), without TensorFlow; an
    unknown name is a UsageError with the closest known one."""
    from dltool import archcalc as ac
    from dltool.errors import UsageError

    try:
        return "builtin", ac.resolve_name(network)
    except UsageError as builtin_error:
        if network.endswith(".keras") or "/" in network:
            return "file", network
        from dltool.archcalc.keras_model import application_names, resolve_application

        try:
            return "keras", resolve_application(network)
        except UsageError:
            import difflib

            close = difflib.get_close_matches(network.lower(), ac.known_names() + [n.lower() for n in
                                                                                    application_names()], n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UsageError(f"unknown network {network!r}",
                             f"{hint}built-in: {', '.join(ac.known_names())}; or a Keras application name or a "
                             ".keras file ('dltool archcalc list')") from builtin_error


def _report(network: str, input_: str | None, bias: bool):
    """Built-in spec first (no TensorFlow); then a .keras file or a Keras application."""
    from dltool import archcalc as ac

    kind, _ = _source(network)
    if kind == "builtin":
        return ac.build(network, input_shape=input_, bias=bias)
    from dltool.archcalc.keras_model import from_keras

    if kind == "file":
        _check_model_file(network)
    return from_keras(network, input_shape=input_, bias=bias)


def _check_model_file(path: str, must_exist: bool = False) -> None:
    """A .keras file is a zip archive; anything else would reach Keras, whose error says "File not found".
    ``must_exist``: a missing file is refused here, before TensorFlow is imported (a comparison checks every name
    first)."""
    import zipfile
    from pathlib import Path

    from dltool.errors import UsageError

    file = Path(path)
    if must_exist and not file.exists():
        raise UsageError(f"No such model file: {path}", "Check the path, or give a network name.")
    if file.is_dir():
        raise UsageError(f"{path} is a folder, not a .keras file", "give a model saved with model.save('name.keras')")
    if file.is_file() and not zipfile.is_zipfile(file):
        raise UsageError(f"{path} is not a Keras model file (a .keras file is a zip archive)",
                         "give a model saved with model.save('name.keras')")


def register(app: typer.Typer) -> None:
    app.command("archcalc")(archcalc)
