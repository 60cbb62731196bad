"""Fused optimizer updates: one TensorFlow kernel per variable instead of Keras' chain of element-wise ops.

Keras 3 optimizers write their update in ``keras.ops`` (Adam: ≈ 10 ops and 3 assigns per variable), each a
separate pass over the parameters. TensorFlow's ``ResourceApply*`` kernels do the same maths in one pass over
memory. :func:`apply_gradients` uses them for the Keras optimizers whose maths they reproduce exactly, on the
optimizer's own slot variables (so ``Engine.reset``, checkpoints and ``optimizer.variables`` are unchanged), and
falls back to ``optimizer.apply_gradients`` for everything else:

==================  ===============================  ================================================
Keras optimizer     kernel                           fused when
==================  ===============================  ================================================
SGD                 ResourceApplyGradientDescent     momentum 0
SGD (momentum)      ResourceApplyKerasMomentum       always (nesterov too: same look-ahead form)
Adam                ResourceApplyAdam                not amsgrad
Adagrad             ResourceApplyAdagradV2           ε = 0 (Keras adds ε inside √(r+ε), the kernel
                                                     outside: √r+ε; equal only at ε = 0, TF1's Adagrad)
Adadelta            ResourceApplyAdadelta            always
RMSprop (+ TF1's)   ResourceApplyRMSProp             not centered; at momentum 0 the kernel still writes a
                                                     momentum slot: :func:`prepare` adds a scratch one
==================  ===============================  ================================================

Never fused: weight decay, gradient clipping, EMA, gradient accumulation, loss scaling (fp16), a strategy with
more than one replica (Keras' cross-replica update path does the all-reduce), and the other optimizers.
Tests check each fused update against the Keras optimizer over 100 steps to fp32 tolerance.
"""

from __future__ import annotations

from typing import Any


def fusable(optimizer: Any, num_replicas: int = 1) -> bool:
    """True when :func:`apply_gradients` replaces ``optimizer``'s update by fused kernels."""
    import keras

    from dltool.engine.optimizers import rmsprop_tf1_class

    if num_replicas != 1 or type(optimizer) not in (keras.optimizers.SGD, keras.optimizers.Adam,
                                                      keras.optimizers.Adagrad, keras.optimizers.Adadelta,
                                                      keras.optimizers.RMSprop, rmsprop_tf1_class()):
        return False
    if (optimizer.weight_decay or optimizer.clipnorm or optimizer.clipvalue or optimizer.global_clipnorm
            or optimizer.use_ema or getattr(optimizer, "gradient_accumulation_steps", None)):
        return False
    if isinstance(optimizer, keras.optimizers.Adam):
        return not optimizer.amsgrad
    if isinstance(optimizer, keras.optimizers.Adagrad):
        return float(optimizer.epsilon) == 0.0
    if isinstance(optimizer, keras.optimizers.RMSprop):
        return not optimizer.centered
    return True


def prepare(optimizer: Any, variables: list) -> list:
    """Variables the fused kernels need beyond the optimizer's own (create them outside ``tf.function``, in the
    strategy's scope): RMSprop at momentum 0 keeps no momentum slot, ``ResourceApplyRMSProp`` writes one. With
    μ = 0 the kernel overwrites it each step (v ← 0·v + η·g/√(r+ε)), so it carries no state — but a NaN left
    in it by a diverged run would survive 0·v: callers zero these on reset. Returns them ([] when none)."""
    import keras

    if not isinstance(optimizer, keras.optimizers.RMSprop) or float(optimizer.momentum) > 0:
        return []
    if getattr(optimizer, "_fused_momentums", None) is None:
        import tensorflow as tf

        optimizer._fused_momentums = [tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False,
                                                  name="fused_momentum") for v in variables]
    return list(optimizer._fused_momentums)


def apply_gradients(optimizer: Any, grads: list, variables: list, *, fused: bool = True) -> None:
    """Apply ``grads`` to ``variables``: fused kernels where :func:`fusable` allows (and ``fused``), otherwise
    ``optimizer.apply_gradients``. Call inside the compiled step; ``optimizer`` must be built on ``variables``."""
    if not fused:
        optimizer.apply_gradients(zip(grads, variables))
        return
    import keras
    import tensorflow as tf

    raw = tf.raw_ops
    lr = tf.cast(optimizer._get_current_learning_rate(), tf.float32)
    step = tf.cast(optimizer.iterations + 1, tf.float32)
    for grad, var in zip(grads, variables):
        if grad is None:
            continue
        handle = _handle(var)
        dtype = tf.as_dtype(var.dtype)
        g = tf.cast(grad, dtype)
        lr_v = tf.cast(lr, dtype)
        index = optimizer._get_variable_index(var)
        if isinstance(optimizer, keras.optimizers.Adam):
            b1, b2 = float(optimizer.beta_1), float(optimizer.beta_2)
            raw.ResourceApplyAdam(
                var=handle, m=_handle(optimizer._momentums[index]), v=_handle(optimizer._velocities[index]),
                beta1_power=tf.cast(tf.pow(b1, step), dtype), beta2_power=tf.cast(tf.pow(b2, step), dtype),
                lr=lr_v, beta1=tf.constant(b1, dtype), beta2=tf.constant(b2, dtype),
                epsilon=tf.constant(float(optimizer.epsilon), dtype), grad=g, use_locking=False)
        elif isinstance(optimizer, keras.optimizers.RMSprop):
            mom = (optimizer._momentums[index] if float(optimizer.momentum) > 0
                   else optimizer._fused_momentums[index])
            raw.ResourceApplyRMSProp(var=handle, ms=_handle(optimizer._velocities[index]), mom=_handle(mom),
                                     lr=lr_v, rho=tf.constant(float(optimizer.rho), dtype),
                                     momentum=tf.constant(float(optimizer.momentum), dtype),
                                     epsilon=tf.constant(float(optimizer.epsilon), dtype), grad=g,
                                     use_locking=False)
        elif isinstance(optimizer, keras.optimizers.Adadelta):
            raw.ResourceApplyAdadelta(var=handle, accum=_handle(optimizer._accumulated_grads[index]),
                                      accum_update=_handle(optimizer._accumulated_delta_vars[index]), lr=lr_v,
                                      rho=tf.constant(float(optimizer.rho), dtype),
                                      epsilon=tf.constant(float(optimizer.epsilon), dtype), grad=g,
                                      use_locking=False)
        elif isinstance(optimizer, keras.optimizers.Adagrad):
            raw.ResourceApplyAdagradV2(var=handle, accum=_handle(optimizer._accumulators[index]), lr=lr_v,
                                       epsilon=tf.constant(0.0, dtype), grad=g, use_locking=False)
        elif float(optimizer.momentum) != 0.0:
            raw.ResourceApplyKerasMomentum(var=handle, accum=_handle(optimizer.momentums[index]), lr=lr_v, grad=g,
                                           momentum=tf.constant(float(optimizer.momentum), dtype),
                                           use_locking=False, use_nesterov=bool(optimizer.nesterov))
        else:
            raw.ResourceApplyGradientDescent(var=handle, alpha=lr_v, delta=g, use_locking=False)
    optimizer.iterations.assign_add(1)


def _handle(variable: Any):
    """The resource handle of a Keras (or TensorFlow) variable."""
    return variable.handle
