"""Using dltool from Python: the numbers behind `dltool archcalc`, without a terminal or TensorFlow."""

from dltool.archcalc import build, inception, inception_preset, stacked_receptive_field

vgg19 = build("vgg19")
print(f"VGG19: {vgg19.total_params:,} parameters, {vgg19.total_activations:,} activations per image")
memory = vgg19.memory(batch_size=32, dtype="bf16")
print(f"  at batch 32 in bf16: {memory.activation_mib:,.0f} MiB of activations, "
      f"{memory.params_mib:,.0f} MiB of weights")

googlenet_3a = inception_preset("googlenet-3a").config  # 28x28x192 in, reducers 96 (3x3) and 16 (5x5)
module = inception(*googlenet_3a.input_shape, **googlenet_3a.filters())
print(f"GoogLeNet inception (3a): {module.naive.total_multiplications:,} -> {module.reduced.total_multiplications:,} "
      f"multiplications ({module.ratio:.2f}x fewer; {module.reference.source}: {module.reference.published_as})")
print(f"Three stacked 3x3 convolutions see {stacked_receptive_field(3, 3).rf} pixels, like one 7x7")
