"""Using dltool from Python: the numbers behind `dltool archcalc`, without a terminal or TensorFlow."""

from dltool.archcalc import build, inception, stacked_receptive_field

vgg19 = build("vgg19")
print(f"VGG19: {vgg19.total_params:,} parameters, {vgg19.total_activations:,} activations per image")
memory = vgg19.memory(batch_size=32, dtype="bf16")
print(f"  at batch 32 in bf16: {memory.activation_mib:,.0f} MiB of activations, {memory.params_mib:,.0f} MiB of weights")

module = inception(28, 28, 192)
print(f"Inception at 28x28x192: {module.naive.total_multiplications:,} -> {module.reduced.total_multiplications:,} "
      f"multiplications ({module.ratio:.2f}x fewer)")
print(f"Three stacked 3x3 convolutions see {stacked_receptive_field(3, 3).rf} pixels, like one 7x7")
