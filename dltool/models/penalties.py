"""The L1 penalty definitions of the MNIST MLP study: name → how λ is applied (B: batch size, N: training images,
n: weights in the layer). The study (:mod:`dltool.experiments.mnist.mlp`) applies them; its report view names
them. Which one report 003 used, with the evidence, is in the study's module doc.
"""

REPORT_L1_DIVISOR = 50  # λ·Σ|w|/50 reproduces report 003's L1 run (evidence in the study's module doc and docs)
L1_DEFINITIONS = {
    "report": f"λ·Σ|w|/{REPORT_L1_DIVISOR}",  # the default: report 003's 94.1 % and mean |w| 0.002
    "batch": "λ·Σ|w|/B",  # divided by the run's batch size
    "sum": "λ·Σ|w|",  # Keras' L1 regulariser, added to every batch's mean loss as it stands
    "mean": "λ·mean|w|",  # λ·Σ|w|/n
    "dataset": "λ·Σ|w|/N",  # the penalty spread over one epoch's examples
    "activity": "λ·Σ|h| per example",  # Keras' activity L1 on the hidden outputs (after ReLU), batch mean
}
