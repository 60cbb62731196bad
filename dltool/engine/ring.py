"""The α–β model of a ring all-reduce (Patarasuk & Yuan, 2009; the model nccl-tests' busbw rests on).

On n devices a ring all-reduce of S bytes takes 2(n−1) steps, each paying the latency α, and each device sends
and receives 2(n−1)/n · S bytes at bandwidth B. The allreduce study fits α and B to its measurements; its
report draws the fitted model beside them.
"""


def ring_time(size: float, n: int, alpha: float, bandwidth: float) -> float:
    """α–β ring all-reduce: 2(n−1) latency steps, each replica sends and receives 2(n−1)/n · S bytes."""
    return 2 * (n - 1) * alpha + 2 * (n - 1) / n * size / bandwidth
