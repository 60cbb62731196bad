"""``--config FILE`` and ``dltool runs rerun``: a saved config fed back to the command that wrote it.

A run folder's ``results.json`` holds the whole config of the run (``.config``, the fields of the experiment's
Config dataclass) and the command (``.command``, e.g. "mnist softmax"). ``dltool <command> --config FILE`` reads
that file (or a run folder, or a JSON or TOML file of the same keys) and makes its values the defaults of the
command's options (click's ``default_map``): what the command line gives wins, everything else is the file's.
The config is then built exactly as from typed options, so every check of the command still applies.

A Config field and its option differ in name and form in places (``csv`` is ``--points-csv``, lists are typed
"a,b", scale's ``learners`` is ``--gpus`` or ``--workers`` by strategy): :data:`COMMANDS` holds the differences,
one entry per training command. Fields that no option sets (softmax's ``settings`` that ``--quick`` chooses, a
config's constants) are *fixed*: applied to the built config as recorded (:func:`apply_fixed`), unless an option
they give way to is typed on the command line (``--optimizers`` replaces softmax's recorded settings).

A results.json is a resolved config (its ``--quick`` preset, if any, already applied): ``--quick`` beside it is
refused rather than applied on top. Nothing here imports TensorFlow; every check runs as the options are read.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from dltool.errors import UsageError

#: ctx.meta key of what the --config callback read, for the shared options' wrapper
META = "dltool.config_file"
#: TOML is read with the standard library's tomllib (Python 3.11+); tomli is not a dependency
TOMLLIB = sys.version_info >= (3, 11)


@dataclass(frozen=True)
class Spec:
    """How one command's Config fields map onto its options."""

    function: str  # the command function (module.qualname), which gets --config
    config: str  # "module:Class" of its Config dataclass
    options: Mapping[str, str] = field(default_factory=dict)  # field → parameter, where the names differ
    forms: Mapping[str, Callable[[Any, Mapping[str, Any]], tuple[str, Any]]] = field(default_factory=dict)
    # ^ field → (parameter, value as typed) from (value, the whole config), where neither rule above fits
    gives_way: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # fixed field → options that drop it
    derived: tuple[str, ...] = ()  # fields a command works out where it runs (not taken from a file)

    def config_class(self) -> type:
        import importlib

        module, name = self.config.split(":")
        return getattr(importlib.import_module(module), name)


def _learners(value: list[int] | None, cfg: Mapping[str, Any]) -> tuple[str, Any]:
    """scale's learner counts as --gpus (mirrored) or --workers (multiworker). A single count N > 1 is written
    "N,N": a lone "N" means 1, 2, 4 … N there."""
    option = "workers" if cfg.get("strategy") == "multiworker" else "gpus"
    if value is None:
        return option, None
    if len(value) == 1 and value[0] > 1:
        return option, f"{value[0]},{value[0]}"
    return option, _typed(value)


_CLI = "dltool.cli.commands."
_EXP = "dltool.experiments."
COMMANDS: dict[str, Spec] = {
    "fit-line": Spec(_CLI + "fit_line.fit_line", _EXP + "fit_line:FitLineConfig", options={"csv": "csv_file"}),
    "mnist softmax": Spec(_CLI + "mnist.softmax", _EXP + "mnist.softmax:SoftmaxConfig",
                          gives_way={"settings": ("optimizers", "lrs", "preset")}),
    "mnist cnn": Spec(_CLI + "mnist.cnn", _EXP + "mnist.cnn:CnnConfig", options={"jit_compile": "xla",
                      "init": "cnn_init"}, gives_way={"evals_per_epoch": ("preset",), "holdout": ("preset",)}),
    "mnist filters": Spec(_CLI + "mnist.filters", _EXP + "mnist.filters:FiltersConfig",
                          options={"filters": "filters_"}),
    "mnist mlp": Spec(_CLI + "mnist.mlp", _EXP + "mnist.mlp:MlpConfig"),
    "mnist devices": Spec(_CLI + "mnist.devices", _EXP + "mnist.devices:DevicesConfig",
                          options={"devices": "devices_"}),
    "mnist workers": Spec(_CLI + "mnist.workers_", _EXP + "mnist.workers:WorkersConfig"),
    "cifar-adaptive": Spec(_CLI + "cifar_adaptive.cifar_adaptive", _EXP + "cifar_adaptive:CifarAdaptiveConfig"),
    "scale": Spec(_CLI + "scale.scale", _EXP + "scale:ScaleConfig",
                  options={"global_batch": "batch_size", "collective_timeout_s": "timeout"},
                  forms={"learners": _learners}, derived=("join",)),
    "allreduce": Spec(_CLI + "allreduce.allreduce", _EXP + "allreduce:AllreduceConfig",
                      options={"min_bytes": "min_size", "max_bytes": "max_size", "train_steps": "steps",
                               "per_device_batch": "batch_size", "collective_timeout_s": "timeout"}),
    "cutout train": Spec(_CLI + "cutout.train", _EXP + "cutout:CutoutConfig"),
    "eggholder": Spec(_CLI + "eggholder.eggholder", _EXP + "eggholder:EggholderConfig"),
}
_BY_FUNCTION = {spec.function: command for command, spec in COMMANDS.items()}


def command_of(func: Callable[..., Any]) -> str | None:
    """The training command that ``func`` (a command function) is, or None: only those get --config."""
    return _BY_FUNCTION.get(f"{func.__module__}.{func.__qualname__}")


# ---------------------------------------------------------------------------------------------------------------
# reading the file


def read(path: Path) -> tuple[Path, dict[str, Any]]:
    """(the file read, its document): a run folder means its results.json; ``.toml`` is TOML, anything else
    JSON."""
    path = Path(path).expanduser()
    file = path / "results.json" if path.is_dir() else path
    if path.is_dir() and not file.exists():
        raise UsageError(f"--config {path} is a folder without a results.json",
                         "give a run folder, its results.json, or a JSON or TOML config file")
    if not file.exists():
        raise UsageError(f"--config {path}: no such file",
                         "give a run folder, its results.json, or a JSON or TOML config file")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"--config {file} cannot be read ({err})", "give a readable JSON or TOML file") from None
    if file.suffix.lower() == ".toml":
        if not TOMLLIB:
            raise UsageError(f"--config {file}: TOML needs Python 3.11 or newer (tomllib)",
                             "give the same keys as a JSON file (e.g. the config object of a results.json)")
        import tomllib

        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise UsageError(f"--config {file} is not valid TOML ({err})", "fix the file") from None
    else:
        try:
            doc = json.loads(text)
        except ValueError as err:
            raise UsageError(f"--config {file} is not valid JSON ({err})",
                             "give a results.json, or a JSON (or .toml) file of config keys") from None
    if not isinstance(doc, dict):
        raise UsageError(f"--config {file} holds a {type(doc).__name__}, not an object of config keys",
                         "give a results.json, or a JSON object (or TOML table) of config keys")
    return file, doc


@dataclass
class Loaded:
    """What a --config file gives a command."""

    file: Path
    resolved: bool  # a results.json: every field resolved (preset applied)
    defaults: dict[str, Any]  # parameter → value as typed, for click's default_map
    fixed: dict[str, Any]  # fields no option sets → value
    gives_way: Mapping[str, tuple[str, ...]]
    notes: list[str] = field(default_factory=list)  # said on stderr when the run starts (:func:`announce`)


def load(ctx: Any, command: str, path: Path) -> Loaded:
    """Read ``path`` for ``command`` (the command of click context ``ctx``). Every key is checked
    (a key the config does not have, a wrong type, another command's results.json): UsageError, exit 2."""
    spec = COMMANDS[command]
    params = {p.name: p for p in ctx.command.params}
    file, doc = read(path)
    resolved = isinstance(doc.get("config"), dict)
    values = dict(doc["config"]) if resolved else {k: v for k, v in doc.items() if k != "command"}
    recorded = doc.get("command")
    if recorded is not None and recorded != command:
        where = file.parent if file.name == "results.json" else file
        raise UsageError(f"--config {file} is a config of `dltool {recorded}`, not of `dltool {command}`",
                         f"run `dltool {recorded} --config {file}` or `dltool runs rerun {where}`")
    if resolved and recorded is None:
        raise UsageError(f"--config {file} has a config but no command", "give the results.json of a dltool run")
    cls = spec.config_class()
    hints = typing.get_type_hints(cls)
    fields = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in values if k not in fields]
    if unknown:
        keys = ", ".join(f for f in fields if f not in spec.derived)
        raise UsageError(f"--config {file}: {', '.join(map(repr, unknown))} "
                         f"{'is not a key' if len(unknown) == 1 else 'are not keys'} of `dltool {command}`",
                         f"its keys: {keys}")
    config = {k: _coerce(v, hints[k], k, file) for k, v in values.items() if k not in spec.derived}
    defaults, fixed, gives_way, notes = {}, {}, dict(spec.gives_way), []
    for key, value in config.items():
        if key in spec.forms:
            param, typed = spec.forms[key](value, config)
        else:
            param, typed = spec.options.get(key, key), _typed(value)
        if param not in params:
            fixed[key] = value
        elif key == "data_dir" and value is not None and not Path(value).expanduser().is_dir():
            notes.append(f"--config: the recorded --data-dir {value} is not on this machine; the data are looked "
                         "for as without --data-dir (give --data-dir to choose)")
        elif typed is not None:
            defaults[param] = _check(ctx, params[param], typed, key, value, file)
        elif key not in spec.forms and key != "data_dir":  # null, which an option cannot give: kept as recorded
            fixed[key], gives_way[key] = None, (param,)  # (a preset would fill it), unless the option is typed
    return Loaded(file, resolved, defaults, fixed, gives_way, notes)


def _typed(value: Any) -> Any:
    """A config value as its option takes it: lists "a,b" ([] is "", which the options read as 'skip'),
    dicts "k=v,…", paths as text."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(_typed(v)) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}={_typed(v)}" for k, v in value.items())
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return str(value)


def _check(ctx: Any, param: Any, typed: Any, key: str, value: Any, file: Path) -> Any:
    """The value converted and checked as the option would be (its type, range and checks), so that a bad value
    names the file's key."""
    from dltool.cli._click import click

    try:
        param.process_value(ctx, typed)
    except click.exceptions.BadParameter as err:
        raise UsageError(f"--config {file}: {key} = {json.dumps(value)} is refused by {param.opts[0]} "
                         f"({err.format_message().rstrip('.')})", "fix the value in the file") from None
    return typed


def _coerce(value: Any, hint: Any, key: str, file: Path) -> Any:
    """``value`` (from JSON or TOML) as the field's type ``hint`` wants it; a UsageError naming the key."""
    def bad(want: str) -> UsageError:
        return UsageError(f"--config {file}: {key} must be {want}, got {json.dumps(value)}",
                          "fix the value in the file (results.json records each key in its own type)")

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or (sys.version_info >= (3, 10) and _is_union(hint)):
        if value is None:
            if type(None) in args:
                return None
            raise bad(_describe(hint))
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, key, file)
            except UsageError:
                continue
        raise bad(_describe(hint))
    if value is None:
        raise bad(_describe(hint))
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise bad("true or false")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise bad("a whole number")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value) if isinstance(value, float) else value
        raise bad("a finite number")
    if hint is str:
        if isinstance(value, str):
            return value
        raise bad("a string")
    if hint is Path:
        if isinstance(value, str):
            return Path(value)
        raise bad("a path (a string)")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise bad(_describe(hint))
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise bad(_describe(hint))
            return tuple(_coerce(v, a, key, file) for v, a in zip(value, args))
        item = args[0] if args else Any
        items = [_coerce(v, item, key, file) for v in value]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise bad(_describe(hint))
        kind = args[1] if args else Any
        return {str(k): _coerce(v, kind, key, file) for k, v in value.items()}
    return value  # Any, or a type no config uses: as given


def _is_union(hint: Any) -> bool:
    import types

    return isinstance(hint, getattr(types, "UnionType", ()))


def _describe(hint: Any) -> str:
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "a string", Path: "a path"}
    if hint in names:
        return names[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or _is_union(hint):
        parts = [_describe(a) for a in args if a is not type(None)]
        return " or ".join(parts + (["null"] if type(None) in args else []))
    if origin is list:
        return f"a list of {_plural(args[0])}" if args else "a list"
    if origin is tuple:
        return "a list of " + ", ".join(_describe(a) for a in args)
    if origin is dict:
        return f"an object of {_plural(args[1])}" if args else "an object"
    return str(hint)


def _plural(hint: Any) -> str:
    plural = {bool: "true/false values", int: "whole numbers", float: "numbers", str: "strings", Path: "paths"}
    return plural.get(hint, _describe(hint))


# ---------------------------------------------------------------------------------------------------------------
# applying it


def install(ctx: Any, command: str, path: Path) -> None:
    """The --config callback: the file's values become the defaults of the command's options (click's
    ``default_map``, read by every option processed after this eager one); the rest waits in ``ctx.meta``."""
    loaded = load(ctx, command, path)
    ctx.default_map = {**(ctx.default_map or {}), **loaded.defaults}
    ctx.meta[META] = loaded


def announce() -> None:
    """Say the notes of the --config file read for the current command (the recorded --data-dir that is not on
    this machine), one line each, once the run starts: read while the options are parsed, they came before the
    one-line error of a run that an option then refused."""
    from dltool.cli._click import click

    ctx = click.globals.get_current_context(silent=True)
    loaded: Loaded | None = ctx.meta.get(META) if ctx is not None else None
    if loaded is None or not loaded.notes:
        return
    from dltool.report import output

    for note in loaded.notes:
        output.stderr_console().print(note, soft_wrap=True, markup=False)
    loaded.notes.clear()


def fixed_fields(ctx: Any, typed: Callable[[str], bool]) -> dict[str, Any]:
    """The fixed fields of the --config file read for ``ctx`` (none without one), less those whose options
    ``typed(parameter)`` says the command line gave. Refuses --quick beside a results.json."""
    loaded: Loaded | None = ctx.meta.get(META)
    if loaded is None:
        return {}
    if loaded.resolved and "quick" in {p.name for p in ctx.command.params} and typed("quick"):
        raise UsageError(f"--quick cannot shrink the config of {loaded.file}: it is already resolved (any preset "
                         "applied)", "give the options to change instead (--help lists them), or leave out --config")
    return {k: v for k, v in loaded.fixed.items() if not any(typed(p) for p in loaded.gives_way.get(k, ()))}


def apply_fixed(cfg: Any, fixed: Mapping[str, Any]) -> Any:
    """``cfg`` with the file's fixed fields, validated again."""
    if not fixed:
        return cfg
    cfg = dataclasses.replace(cfg, **fixed)
    cfg.validate()
    return cfg


def rerun_args(run: Path, extra: list[str]) -> tuple[Path, str, list[str]]:
    """(results.json, its command, the arguments of ``dltool``) that run a saved run again with ``extra``
    options after its config."""
    from dltool import runlog

    file = Path(run) / "results.json" if Path(run).is_dir() else Path(run)
    doc = runlog.load(run)
    command = doc.get("command")
    if command not in COMMANDS or not isinstance(doc.get("config"), dict):
        trainers = ", ".join(COMMANDS)
        raise UsageError(f"{run} is a run of {command!r}, which `runs rerun` cannot repeat" if command
                         else f"{file} records no command and config",
                         f"rerun the run folder of a training command ({trainers})")
    return file, command, [*command.split(), "--config", str(file), *extra]

