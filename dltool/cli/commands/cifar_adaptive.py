"""``dltool cifar-adaptive``: AdaGrad, RMSProp, RMSProp + Nesterov, AdaDelta and Adam on a CIFAR-10 MLP."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from dltool.cli import options as opt


@opt.shared("data_dir", "precision", "xla", "quick")
def cifar_adaptive(
    methods: Annotated[str, typer.Option("--methods", help="Comma-separated methods to train.")]
    = "adagrad,rmsprop,rmsprop-nesterov,adadelta,adam",
    lrs: Annotated[Optional[str], typer.Option("--lrs", help="Learning rates per method, e.g. adam=3e-4,adagrad=0.02 "
                   "(others keep their defaults, listed above).", show_default=False)] = None,
    parts: Annotated[str, typer.Option("--parts", help="2: without dropout, 3: with dropout; 2,3 runs both.")]
    = "2,3",
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Training epochs of every run "
                      "(--quick: 2).")] = 200,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Minibatch size.")] = 128,
    l2: Annotated[float, typer.Option("--l2", help="L2 strength λ on the hidden kernels (loss + λ·Σw²).")] = 1e-4,
    input_dropout: Annotated[float, typer.Option("--input-dropout", help="Part 3: fraction of inputs dropped.")]
    = 0.2,
    dropout: Annotated[float, typer.Option("--dropout", help="Part 3: fraction of hidden units dropped.")] = 0.5,
    momentum: Annotated[float, typer.Option("--momentum", help="μ of RMSProp + Nesterov.")] = 0.9,
    subset: Annotated[Optional[int], typer.Option("--subset", min=1, help="Train on a seeded sample of N images "
                      "(--quick: 512).", show_default=False)] = None,
    test_subset: Annotated[Optional[int], typer.Option("--test-subset", min=1, help="Test on a seeded sample of N "
                           "images (--quick: 256).", show_default=False)] = None,
    *, run: opt.RunOptions,
) -> None:
    from dltool.cli.sweep import launch
    from dltool.experiments import cifar_adaptive as exp
    from dltool.experiments.common import parse_ints, parse_names
    from dltool.report.views import cifar_adaptive as views

    cfg = exp.CifarAdaptiveConfig.from_options(
        run.quick, methods=parse_names(methods), lrs=exp.parse_lrs(lrs), parts=parse_ints(parts, "--parts", minimum=2),
        epochs=epochs, batch_size=batch_size, l2=l2, input_dropout=input_dropout, dropout=dropout,
        momentum=momentum, subset=subset, test_subset=test_subset,
        **run.settings("data_dir", "precision", "xla", "seed"))
    launch("cifar-adaptive", cfg, run, exp.run, views)


def help_text() -> str:
    """The command's --help: what it runs, each method's update equations, the dropout note."""
    from dltool.experiments.cifar_adaptive import help_equations

    equations = "\n\n".join(f"• {line}" for line in help_equations())
    return (
        "Adaptive learning-rate methods on a CIFAR-10 MLP 3072→1000→1000→10 (ReLU, batch 128, L2 λ=1e-4), "
        "part 2 without dropout, part 3 with dropout 0.2 on the input and 0.5 on the hidden layers.\n\n"
        "Prints, per method: final and best training loss (cross-entropy + L2, epoch means), a status ('loss rose' "
        "when the last epoch's loss is above the loss at the start), training time without and with dropout and "
        "their ratio (tracing excluded), test accuracy without and with dropout. Plots training_loss.png "
        "(five curves per part) and test_accuracy.png in the run folder.\n\n"
        "Update equations (g: gradient, η: learning rate; default η in brackets, other hyperparameters after):"
        f"\n\n{equations}\n\n"
        "λ=1e-4: at the Glorot initialisation the penalty λ·Σw² is ≈0.25, a tenth of the initial cross-entropy "
        "ln 10 ≈ 2.30: it bounds the weights without dominating the data term.\n\n"
        "Dropout at test time: classic dropout (Srivastava et al.) keeps units with probability p without "
        "rescaling and multiplies the outgoing weights by p at test time. Keras uses inverted dropout: kept units "
        "are divided by p during training and nothing is scaled at test time. The two are the same network: "
        "weights W with classic dropout compute exactly what weights p·W compute with inverted dropout, under every "
        "mask and at test time; the run checks it on the trained model (dropout_check in --json). The assignment's "
        "'scale the weights by the dropout probability' means the keep probability p (0.8 input, 0.5 hidden), not "
        "the drop probability.\n\n"
        "AdaDelta at Zeiler's η=1: its first steps move every weight by ≈1.4e-3 whatever its gradient and the loss "
        "jumps before it falls (back below its start within ≈30 steps on the 2,000-image sample).\n\n"
        "The defaults follow the assignment (200 epochs of all 50,000 images: hours on a CPU). --quick: 512 "
        "training and 256 test images, 2 epochs (8 steps: AdaDelta ends inside its jump, 'loss rose'; too few "
        "steps for a time ratio). Example: dltool cifar-adaptive --epochs 20 --precision bf16 "
        "--json | jq '.rows[] | {method, test_accuracy, test_accuracy_dropout}'"
    )


def register(app: typer.Typer) -> None:
    from dltool.cli.commands import help_when_shown  # the equations come from the experiment module (numpy)

    app.command("cifar-adaptive", cls=help_when_shown(help_text), short_help="AdaGrad, RMSProp, RMSProp+Nesterov, "
                "AdaDelta, Adam on a CIFAR-10 MLP, without and with dropout.")(cifar_adaptive)
