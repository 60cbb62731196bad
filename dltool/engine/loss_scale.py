"""fp16 loss scaling on several replicas: every replica skips an overflowed step, or none does.

Keras 3's ``LossScaleOptimizer`` (TF backend, ``_tf_apply``) checks each replica's *own* gradients for inf/NaN,
before they are summed, and then takes replica 0's answer ("each replica computed the same value, since grads
is all-reduced" — they are not, at that point). So an overflow on replica 1 alone is applied: the all-reduced
sum is inf and the weights become NaN. Across worker processes each worker's replica 0 decides for its worker:
one worker enters the gradient all-reduce and the other skips it, and both wait at the collective until it
times out (or forever, with NCCL and no timeout).

:func:`agree_finite` runs in the replica context before ``apply_gradients``: one all-reduce of a scalar
"my gradients are finite" 0/1 flag (a sum, compared with the replica count: a MIN), then every replica whose
peers overflowed poisons its own gradients with NaN, so every replica's own check says "not finite" and all of
them skip the step and halve the loss scale together. When all are finite the gradients pass through unchanged
(×1.0). Cost: one scalar all-reduce per fp16 step on 2+ replicas; none on one replica.
"""

from __future__ import annotations


def all_finite(grads) -> "tf.Tensor":  # noqa: F821 - tensorflow is imported lazily
    """This replica's verdict AND every other replica's: one all-reduce of a 0/1 flag (a scalar bool)."""
    import tensorflow as tf

    local = [tf.reduce_all(tf.math.is_finite(g)) for g in grads if g is not None]
    flag = tf.cast(tf.reduce_all(tf.stack(local)) if local else tf.constant(True), tf.float32)
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync if context is not None else 1
    if replicas > 1:  # tf.distribute reduces by SUM or MEAN only: the sum of 0/1 flags is n when all agree
        flag = context.all_reduce(tf.distribute.ReduceOp.SUM, flag)
    return flag > replicas - 0.5


def agree_finite(grads) -> list:
    """The gradients, made non-finite on every replica when any replica's are (see the module docstring)."""
    import tensorflow as tf

    factor = tf.where(all_finite(grads), 1.0, float("nan"))  # ×1 leaves finite gradients bit-identical
    out = []
    for g in grads:
        if g is None:
            out.append(g)
        elif isinstance(g, tf.IndexedSlices):  # sparse gradients (embeddings)
            out.append(tf.IndexedSlices(g.values * tf.cast(factor, g.values.dtype), g.indices, g.dense_shape))
        else:
            out.append(g * tf.cast(factor, g.dtype))
    return out
