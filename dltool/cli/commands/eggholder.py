"""``dltool eggholder``: depth vs width under a budget of hidden units, regressing the Eggholder function."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from dltool.cli import options as opt

# the longest option declarations, named here so that the command reads as a list of its options
Orders = Annotated[str, typer.Option(
    "--orders", help="'all': every ordered sequence of widths is its own network, (16,32) and (32,16) both (143 "
    "networks by default); 'non-increasing': one per set of widths, widest first (51).")]
TimeAlone = Annotated[Optional[int], typer.Option(
    "--time-alone", help="Time each network on its own for this many steps (fastest of 3 bursts, after a warm-up "
    "call) and extrapolate to the run's steps: the per-network training time of the table and the time plot "
    "(default 50; --quick 20). 0: off (only the bundle's time ÷ its size, the same for every network of a "
    "bundle).", show_default=False)]


@opt.shared("xla", "quick")
def eggholder(
    samples: Annotated[Optional[int], typer.Option("--samples", help="Uniform samples on [−512, 512]², split "
                       "train/test (default 100,000; --quick 5,000).", show_default=False)] = None,
    noise_std: Annotated[float, typer.Option("--noise-std", help="Standard deviation of the Gaussian noise added "
                         "to f (function units); it is the noise floor of the test RMSE.")] = 0.3,
    test_fraction: Annotated[float, typer.Option("--test-fraction", help="Share of the samples held out for "
                             "the test RMSE.")] = 0.2,
    widths: Annotated[Optional[str], typer.Option("--widths", help="Comma-separated hidden widths to choose from "
                      "(default 16,32,64,128,256,512; --quick 32,128).", show_default=False)] = None,
    layers: Annotated[Optional[str], typer.Option("--layers", help="Comma-separated numbers of hidden layers "
                      "(default 1,2,3).", show_default=False)] = None,
    budget: Annotated[int, typer.Option("--budget", help="Largest total number of hidden units of a network.")]
    = 512,
    orders: Orders = "all",
    epochs: Annotated[Optional[int], typer.Option("--epochs", help="Training epochs per network "
                      "(default 2,000; --quick 40).", show_default=False)] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Examples per SGD step.")] = 1000,
    lr: Annotated[float, typer.Option("--lr", help="SGD learning rate, on the standardised target "
                  "(0.05 diverges for the widest BN networks).")] = 0.01,
    momentum: Annotated[float, typer.Option("--momentum", help="Nesterov momentum μ.")] = 0.9,
    bundle: Annotated[str, typer.Option("--bundle", help="Networks trained side by side in one compiled model: "
                      "a number (1 = one at a time, exact per-network times) or 'auto' (small networks together, "
                      "by multiply-adds).")] = "auto",
    time_alone: TimeAlone = None,
    max_networks: Annotated[Optional[int], typer.Option("--max-networks", help="Train only the N smallest "
                            "networks of the grid.", show_default=False)] = None,
    bn_recalibrate: Annotated[bool, typer.Option("--bn-recalibrate/--no-bn-recalibrate", help="After training, "
                              "replace the BN layers' moving averages by the final network's statistics on 10,000 "
                              "training samples (one forward pass, no weight changes).")] = True,
    *, run: opt.RunOptions,
) -> None:
    """Can a wide shallow or a narrow deep network learn the Eggholder function better, for the same number of
    hidden units? Trains every network and compares test RMSE (function units), parameters and time.

    f(x1, x2) = −(x2 + 47)·sin√|x1/2 + (x2 + 47)| − x1·sin√|x1 − (x2 + 47)| on [−512, 512]², y = f + noise.
    Networks: hidden widths from 16…512, 1–3 hidden layers, total hidden units ≤ --budget; ReLU, batch
    normalisation on 2- and 3-layer networks, SGD with Nesterov momentum, batch 1,000. Inputs are scaled by
    1/512 and the target standardised for training; RMSEs are reported in f's units, beside the constant
    predictor's (≈ 298) and the noise floor (--noise-std). Training time per network: each network is timed
    on its own for --time-alone steps and extrapolated to the run (networks train side by side in bundles, whose
    time is shared). --quick: 5,000 samples, widths 32,128, 40 epochs (14 networks, under a minute).
    """
    from dltool.cli.sweep import launch
    from dltool.experiments import eggholder as exp
    from dltool.experiments.common import parse_ints
    from dltool.report import output
    from dltool.report.views import eggholder as views

    cfg = exp.EggholderConfig.from_options(
        run.quick, samples=samples, test_fraction=test_fraction, noise_std=noise_std,
        widths=parse_ints(widths, "--widths"), layers=parse_ints(layers, "--layers"), budget=budget,
        orders=opt.name(orders), epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum,
        bundle=exp.parse_bundle(bundle), xla=run.xla, bn_recalibrate=bn_recalibrate, time_alone=time_alone,
        max_networks=max_networks, seed=run.seed)
    bundles = cfg.bundles()
    output.info(f"eggholder: {sum(len(b) for b in bundles)} networks in {len(bundles)} compiled "
                f"bundle{'s' if len(bundles) > 1 else ''}, {cfg.epochs:,} epochs each")
    launch("eggholder", cfg, run, exp.run, views)


def register(app: typer.Typer) -> None:
    app.command("eggholder")(eggholder)
