"""env: the environment report (versions, CPU, GPUs, NCCL, matmul peaks, datasets) as tables."""

from __future__ import annotations

from dltool.report.tables import Column, TableSpec

_COLS = [Column("item", "item", justify="left"), Column("value", "value", justify="left")]


def _flops(value: float | None) -> str:
    return "—" if value is None else f"{value / 1e12:.3g} TFLOP/s"


def tables(env) -> tuple[list[TableSpec], list[str]]:
    rows = [{"item": "dltool", "value": env.dltool}, {"item": "Python", "value": env.python},
            {"item": "platform", "value": env.platform}]
    rows += [{"item": name, "value": version or "not installed"} for name, version in env.packages.items()]
    cpu = env.cpu
    flags = ", ".join(f for f, on in cpu["flags"].items() if on) or "none of " + ", ".join(cpu["flags"])
    rows += [{"item": "CPU", "value": cpu["model"]},
             {"item": "CPU cores", "value": f"{cpu['logical_cores']} logical, {cpu['usable_cores']} usable here"},
             {"item": "CPU flags", "value": flags if cpu["flags"] else "unknown"},
             {"item": "CPU fast precision", "value": cpu["fast_precision"]}]
    if env.gpus:
        for g in env.gpus:
            bits = [g["name"]]
            if g.get("memory_mib"):
                bits.append(f"{g['memory_mib'] / 1024:.1f} GiB")
            if g.get("compute_capability"):
                bits.append(f"compute capability {g['compute_capability']}")
            kind = {"machine_code": f"runs machine code ({g.get('code')})",
                    "ptx_jit": f"JIT-compiles {g.get('code')} PTX on first use (no machine code for it)",
                    "none": "no code in this TensorFlow build fits it"}.get(g.get("code_kind"))
            if kind:
                bits.append(kind)
            rows.append({"item": f"GPU {g['index']}", "value": ", ".join(bits)})
    else:
        rows.append({"item": "GPUs", "value": f"none ({env.gpu_source})"})
    rows.append({"item": "NVIDIA driver", "value": env.driver_version or "none (no nvidia-smi)"})
    for key, value in env.tensorflow_build.items():
        if key == "cuda_compute_capabilities":
            continue
        rows.append({"item": f"TF {key.replace('_', ' ')}", "value": str(value)})
    arches = env.build_compute_capabilities
    if arches:
        sass = ", ".join(a for a in arches if a.startswith("sm_")) or "none"
        ptx = ", ".join(a for a in arches if a.startswith("compute_")) or "none"
        rows.append({"item": "TF build code", "value": f"machine code {sass}; PTX {ptx}"})
    nccl = env.nccl
    usable = {True: "yes", False: "no", None: "unknown"}[nccl.get("usable")]
    rows.append({"item": "NCCL", "value": f"{usable}: {nccl.get('detail', '')}"})
    main = TableSpec("dltool env", _COLS, rows, notes=[f"WARNING: {w}" for w in env.warnings] + list(env.notes))

    peak_rows = []
    for device, precisions in env.peaks.items():
        for precision in ("fp32", "bf16", "fp16"):
            entry = precisions.get(precision)
            if entry:
                peak_rows.append({"item": f"{device} {precision}",
                                  "value": f"{_flops(entry.get('flops'))} (n={entry.get('n')}, "
                                           f"measured {entry.get('measured')})"})
    if not peak_rows:
        peak_rows.append({"item": "matmul peak", "value": "not measured"})
    peaks = TableSpec("matmul peak (MFU's denominator)", _COLS, peak_rows,
                      notes=[env.peak_hint] if env.peak_hint else [], primary=False)

    data_rows = [{"item": name, "value": (f"{d['found']} ({d['how']}, via {d['via']})" if d.get("found")
                                          else d.get("how", "not found"))} for name, d in env.datasets.items()]
    data = TableSpec("datasets", _COLS, data_rows, primary=False)
    return [main, peaks, data], []
