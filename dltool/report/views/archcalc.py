"""archcalc: network rows, totals, inception and receptive-field tables."""

from __future__ import annotations

from dltool.report.tables import Column, TableSpec
from dltool.report.views.common import shape_text

# ---- archcalc -------------------------------------------------------------------------------------------

def network(report, batch_size: int = 1, dtype: str = "fp32", formulas: bool = True):
    rows = []
    for r in report.rows:
        rows.append({
            "layer": r.name, "output": shape_text(r.output_shape),
            "activations": r.activations, "activations_formula": r.activations_formula,
            "weights": r.weights, "weights_formula": r.weights_formula,
            "biases": r.biases, "params": r.params, "macs": r.macs, "macs_formula": r.macs_formula,
            "receptive_field": r.receptive_field if r.receptive_field is not None else "all",
        })
    if formulas:
        columns = [Column("layer", "layer", justify="left"), Column("output", "output"),
                   Column("activations_formula", "activations", justify="right"),
                   Column("weights_formula", "weights", justify="right"),
                   Column("biases", "biases", ","), Column("macs", "MACs", ","),
                   Column("receptive_field", "RF")]
    else:
        columns = [Column("layer", "layer", justify="left"), Column("output", "output"),
                   Column("activations", "activations", ","), Column("weights", "weights", ","),
                   Column("biases", "biases", ","), Column("params", "params", ","),
                   Column("macs", "MACs", ","), Column("receptive_field", "RF")]
    csv_columns = [Column(k, k) for k in ("layer", "output", "activations", "weights", "biases", "params", "macs",
                                          "receptive_field", "activations_formula", "weights_formula",
                                          "macs_formula")]
    layers = TableSpec(f"{report.name} at {shape_text(report.input_shape)}" + ("" if report.bias else " (no biases)"),
                       columns, rows, notes=["MACs: multiply-accumulates per image (formulas in --json/--csv); "
                                             "RF: receptive field in input pixels along one side ('all': the "
                                             "whole input)."], csv_columns=csv_columns)

    mem = report.memory(batch_size, dtype)
    ref = report.reference
    totals = [
        {"what": "parameters (weights + biases)", "value": f"{report.total_params:,}",
         "detail": f"{report.total_weights:,} + {report.total_biases:,}"
                   + (f" + {report.total_other_params:,} other" if report.total_other_params else ""),
         "reference": f"{ref.params_text()} ({ref.source})" if ref else "—"},
        {"what": "activations per image (input included)", "value": f"{report.total_activations:,}",
         "detail": f"input {report.input_activations:,}", "reference": "—"},
        {"what": "MACs per image (multiply-accumulates)", "value": f"{report.total_macs:,}",
         "detail": f"{report.total_macs / 1e9:.3f} G",
         "reference": f"{ref.gmacs} G ({ref.gmacs_source})" if ref and ref.gmacs else "—"},
        {"what": "FLOPs per image (= 2 × MACs)", "value": f"{report.total_flops:,}",
         "detail": f"{report.total_flops / 1e9:.3f} G", "reference": "—"},
        {"what": f"parameter memory ({mem.dtype}, {mem.bytes_per_value} B each)",
         "value": f"{mem.params_mb:,.2f} MB", "detail": f"{mem.params_mib:,.2f} MiB", "reference": "—"},
        {"what": f"activation memory (batch {batch_size}, {mem.dtype})", "value": f"{mem.activation_mb:,.2f} MB",
         "detail": f"{mem.activation_mib:,.2f} MiB", "reference": "—"},
    ]
    totals_table = TableSpec("Totals", [Column("what", "total", justify="left"), Column("value", "computed"),
                                        Column("detail", "detail"), Column("reference", "reference", justify="left")],
                             totals,
                             notes=["MB = 10^6 bytes, MiB = 2^20 bytes. Parameters are memory (values stored and "
                                    "learned), not compute; compute is the MACs / FLOPs rows."] + list(report.notes),
                             primary=False)
    return [layers, totals_table], []


def inception(comparison):
    from dltool.archcalc.inception import INCEPTION_PRESETS

    ref = comparison.reference
    preset = INCEPTION_PRESETS.get(comparison.preset) if comparison.preset else None
    tables = []
    for module in (comparison.naive, comparison.reduced):
        rows = []
        for branch in module.branches:
            for op in branch.ops:
                rows.append({"branch": branch.name, "operation": op.name, "output": shape_text(op.output_shape),
                             "multiplications": op.multiplications, "formula": op.formula, "weights": op.weights})
        tables.append(TableSpec(
            f"{module.variant} Inception module on {shape_text(module.input_shape)} → "
            f"{shape_text(module.output_shape)}",
            [Column("branch", "branch", justify="left"), Column("operation", "operation", justify="left"),
             Column("output", "output"), Column("formula", "multiplications", justify="right"),
             Column("weights", "weights", ",")],
            rows, notes=[f"concatenation: {module.concat_formula}",
                         f"total multiplications: {module.total_formula}"]))
    summary = []
    for m in (comparison.naive, comparison.reduced):
        published = "—"
        if ref and ref.variant == m.variant:
            published = f"{ref.published_as} ({ref.source})"
        summary.append({"variant": m.variant, "output": shape_text(m.output_shape),
                        "multiplications": m.total_multiplications, "weights": m.total_weights,
                        "reference": published})
    notes = [f"saving: {comparison.saving:,} multiplications ({comparison.saving_pct:.2f} %, "
             f"{comparison.ratio:.3f}× fewer)"]
    if preset is not None:
        notes.append(f"these sizes are the preset {preset.name}: {preset.description}")
    if ref is not None:
        ours = getattr(comparison, ref.variant).total_multiplications
        verdict = "agrees" if ref.matches(ours) else "DIFFERS"
        notes.append(f"{ref.module}: ours {ours:,} = {ours / ref.unit:,.2f} M; {ref.source} lists "
                     f"{ref.published_as} — {verdict} at the published rounding")
    else:
        notes.append("reference: no published count for these sizes (report 004 asks for this calculation and "
                     "gives no number); --preset googlenet-3a has one")
    tables.append(TableSpec("Naive vs dimension-reduced", [
        Column("variant", "variant", justify="left"), Column("output", "output after concatenation"),
        Column("multiplications", "multiplications", ","), Column("weights", "weights", ","),
        Column("reference", "published multiplications", justify="left")], summary, notes=notes))
    return tables, []


def receptive(stacked):
    rows = [{"layer": s.layer, "rf": s.rf, "formula": s.formula} for s in stacked.steps]
    return [TableSpec(f"Receptive field of {stacked.n} stacked {stacked.f}×{stacked.f} convolutions (stride 1)",
                      [Column("layer", "layer", justify="left"), Column("rf", "receptive field"),
                       Column("formula", "step", justify="left")], rows,
                      notes=[f"N(F−1)+1 = {stacked.formula}"])], []


def comparison(result, stacked: bool = False):
    """One row per network (``dltool archcalc NET NET …``): totals, memory, published counts and Δ.

    ``stacked`` (the terminal): a network's name over its input, MACs over FLOPs, parameter over activation memory
    and each published figure over its Δ share a cell, two lines high: 8 columns instead of 13, and a 120-column
    terminal shows every number whole (with 13, rich cut them to "138,3…"). Markdown keeps one value per cell."""
    from dltool.archcalc.compare import SORT_KEYS

    sources: list[str] = []

    def marked(text: str, source: str | None) -> str:
        if source not in sources:
            sources.append(source)
        return f"{text} [{sources.index(source) + 1}]"

    def delta(value: int | None, agree: bool | None) -> str | None:
        return None if value is None else f"{value:+,} {'✓' if agree else '✗'}"

    rows = []
    for n in result.networks:
        mem = n.memory
        rows.append({
            **n.to_dict(), "input": shape_text(n.input_shape),
            "gmacs": f"{n.total_macs / 1e9:,.3f} G", "gflops": f"{n.total_flops / 1e9:,.3f} G",
            "params_memory": f"{mem.params_mb:,.2f} MB", "activation_memory": f"{mem.activation_mb:,.2f} MB",
            "dtype": mem.dtype, "batch_size": mem.batch_size, "params_bytes": mem.params_bytes,
            "activation_bytes": mem.activation_bytes, "params_mb": mem.params_mb, "activation_mb": mem.activation_mb,
            "published_params_cell": None if n.reference is None
            else marked(n.published_params_text, n.published_params_source),
            "delta_params_cell": delta(n.delta_params, n.params_agree),
            "published_macs_cell": None if n.published_gmacs is None
            else marked(f"{n.published_gmacs} G", n.published_macs_source),
            "delta_macs_cell": delta(n.delta_macs, n.macs_agree),
            "input_shape": "x".join(map(str, n.input_shape)),
        })
    mem_label = f"batch {result.batch_size}, {result.dtype}"
    head = [Column("name", "network", justify="left"), Column("input", "input"), Column("depth", "depth"),
            Column("total_params", "params", ",")]
    if stacked:
        head[:2] = [Column("name_input", "network\ninput", justify="left")]
        for row in rows:
            row["name_input"] = f"{row['name']}\n{row['input']}"
            row["macs_flops"] = f"{row['gmacs']}\n{row['gflops']}"
            row["memory_cell"] = f"{row['params_memory']}\n{row['activation_memory']}"
            for key in ("params", "macs"):
                if row[f"published_{key}_cell"] is not None:
                    row[f"published_{key}_cell"] += f"\n{row[f'delta_{key}_cell']}"
        columns = head + [
            Column("macs_flops", "MACs\nFLOPs"), Column("total_activations", "activations", ","),
            Column("memory_cell", "memory:\nparams\nactivations"),
            Column("published_params_cell", "published\nparams, Δ"),
            Column("published_macs_cell", "published\nMACs, Δ", secondary=True)]
    else:
        columns = head + [
            Column("gmacs", "MACs"), Column("gflops", "FLOPs"), Column("total_activations", "activations", ","),
            Column("params_memory", f"param memory ({result.dtype})"),
            Column("activation_memory", f"activation memory ({mem_label})"),
            Column("published_params_cell", "published params"), Column("delta_params_cell", "Δ params"),
            Column("published_macs_cell", "published MACs"), Column("delta_macs_cell", "Δ MACs")]
    csv_columns = [Column(k, k) for k in (
        "name", "input_shape", "depth", "total_params", "total_macs", "total_flops", "total_activations",
        "batch_size", "dtype", "params_bytes", "activation_bytes", "params_mb", "activation_mb",
        "published_params", "published_params_source", "delta_params", "params_agree",
        "published_macs", "published_macs_source", "delta_macs", "macs_agree")]
    order = (f"sorted by {SORT_KEYS[result.sort]} (--sort {result.sort}), smallest first" if result.sort
             else "in the order given")
    notes = [f"Per image, {order}. depth: weighted layers, i.e. every convolution and fully connected layer, "
             "parallel branches and projection shortcuts included (BatchNorm not counted). MACs: "
             "multiply-accumulates, FLOPs = 2 × MACs, in 10^9 (G). activations: every row's output elements, the "
             f"input included. Memory: MB = 10^6 bytes, at {mem_label}.",
             "Δ = ours − published, exact; ✓: ours equals the published figure at the rounding it is published "
             "with, ✗: it does not; —: nothing published (for this configuration: see the notes)."]
    notes += [f"[{i}] {source}" for i, source in enumerate(sources, start=1)]
    shared: dict[str, list[str]] = {}  # a note that several networks carry is printed once, naming them all
    for n in result.networks:
        for note in n.notes:
            shared.setdefault(note, []).append(n.name)
    notes += [f"{', '.join(names)}: {note}" for note, names in shared.items()]
    title = f"{len(result.networks)} networks compared" + (f" (memory at {mem_label})" if stacked else "")
    return [TableSpec(title, columns, rows, notes=notes, csv_columns=csv_columns)], []

