"""``dltool archcalc``: per-layer parameters, activations, MACs and receptive fields, without TensorFlow."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from dltool.cli import options as opt

SPECIAL = ("inception", "receptive-field", "list")


def archcalc(
    network: Annotated[str, typer.Argument(help="alexnet, alexnet-ungrouped, alexnet-torchvision, vgg11, vgg13, "
                                           "vgg16, vgg19; 'inception'; 'receptive-field'; 'list'; any Keras "
                                           "application (resnet50, mobilenetv2 …) or a .keras file.")],
    input_: Annotated[Optional[str], typer.Option("--input", help="Input size HxWxC, e.g. 224x224x3 "
                                                  "(inception default 32x32x256).", show_default=False)] = None,
    bias: Annotated[bool, typer.Option("--bias/--no-bias", help="Count biases.")] = True,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Batch for activation memory.")] = 1,
    dtype: Annotated[str, typer.Option("--dtype", help="fp32, fp16 or bf16 for memory sizes.")] = "fp32",
    formulas: Annotated[bool, typer.Option("--formulas/--no-formulas", help="Show each count as its formula.")]
    = True,
    f1: Annotated[int, typer.Option("--f1", help="inception: 1×1 filters.", rich_help_panel="inception")] = 128,
    f3: Annotated[int, typer.Option("--f3", help="inception: 3×3 filters.", rich_help_panel="inception")] = 192,
    f5: Annotated[int, typer.Option("--f5", help="inception: 5×5 filters.", rich_help_panel="inception")] = 96,
    reduce: Annotated[int, typer.Option("--reduce", help="inception: 1×1 reducer filters before 3×3 and 5×5.",
                                        rich_help_panel="inception")] = 64,
    pool_proj: Annotated[int, typer.Option("--pool-proj", help="inception: 1×1 filters after the pool.",
                                           rich_help_panel="inception")] = 64,
    layers: Annotated[int, typer.Option("--layers", "-n", help="receptive-field: number of stacked convolutions.",
                                        rich_help_panel="receptive-field")] = 3,
    kernel: Annotated[int, typer.Option("--kernel", "-f", help="receptive-field: kernel size F.",
                                        rich_help_panel="receptive-field")] = 5,
    json_: opt.Json = False,
    csv_: opt.Csv = False,
    markdown: opt.Markdown = False,
) -> None:
    """Per-layer arithmetic of a CNN: output shape, activations, weights, biases, MACs, receptive field.

    Each count is shown as the homework writes it, e.g. (3*3*64)*64 = 36,864. Totals include parameter and
    activation memory at --batch-size and --dtype (MB = 10^6 bytes, MiB = 2^20). MACs are multiply-accumulates;
    FLOPs = 2 × MACs. Built-in networks never import TensorFlow; Keras applications and .keras files do.

    Examples: dltool archcalc vgg19 · dltool archcalc alexnet --no-bias · dltool archcalc inception --input
    32x32x256 · dltool archcalc receptive-field -n 3 -f 5 · dltool archcalc vgg19 --json | jq .total_params
    """
    from dltool import archcalc as ac
    from dltool.errors import UsageError
    from dltool.report import output
    from dltool.report.views import archcalc as views

    fmt = output.choose_format(json_, csv_, markdown)
    if batch_size < 1:
        raise UsageError(f"--batch-size must be ≥ 1, got {batch_size}", "use e.g. --batch-size 32")
    key = network.strip().lower()
    if key == "list":
        from dltool.report.tables import Column, TableSpec

        rows = [{"name": n, "description": ac.NETWORKS[n].description} for n in ac.known_names()]
        doc = {"networks": rows, "also": ["inception", "receptive-field", "any Keras application", "a .keras file"]}
        output.emit([TableSpec("Built-in networks", [Column("name", "name", justify="left"),
                                                     Column("description", "description", justify="left")], rows,
                               notes=["Also: inception, receptive-field, any Keras application by name "
                                      "(e.g. resnet50), a .keras file."])], doc, fmt)
        return
    if key == "inception":
        h, w, c = ac.parse_input(input_ or "32x32x256")
        comparison = ac.inception(h, w, c, f1=f1, f3=f3, f5=f5, pool_proj=pool_proj, reduce3=reduce, reduce5=reduce)
        tables, footer = views.inception(comparison)
        output.emit(tables, comparison.to_dict(), fmt, footer)
        return
    if key in ("receptive-field", "receptive_field", "rf"):
        stacked = ac.stacked_receptive_field(layers, kernel)
        tables, footer = views.receptive(stacked)
        output.emit(tables, stacked.to_dict(), fmt, footer)
        return
    report = _report(network, input_, bias)
    tables, footer = views.network(report, batch_size, dtype, formulas)
    output.emit(tables, report.to_dict(batch_size, dtype), fmt, footer)


def _report(network: str, input_: str | None, bias: bool):
    """Built-in spec first (no TensorFlow); then a .keras file or a Keras application."""
    from dltool import archcalc as ac
    from dltool.errors import UsageError

    try:
        ac.resolve_name(network)
    except UsageError as builtin_error:
        if network.endswith(".keras") or "/" in network:
            from dltool.archcalc.keras_model import from_keras

            return from_keras(network, input_shape=input_, bias=bias)
        from dltool.archcalc.keras_model import application_names, from_keras, resolve_application

        try:
            resolve_application(network)
        except UsageError:
            import difflib

            close = difflib.get_close_matches(network.lower(), ac.known_names() + [n.lower() for n in
                                                                                    application_names()], n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UsageError(f"unknown network {network!r}",
                             f"{hint}built-in: {', '.join(ac.known_names())}; or a Keras application name or a "
                             ".keras file ('dltool archcalc list')") from builtin_error
        return from_keras(network, input_shape=input_, bias=bias)
    return ac.build(network, input_shape=input_, bias=bias)


def register(app: typer.Typer) -> None:
    app.command("archcalc")(archcalc)
