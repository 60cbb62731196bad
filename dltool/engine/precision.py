"""The precisions dltool trains in, named in one place: the CLI's choices and the engine's Keras dtype policies.

Plain data, no imports: ``dltool --help`` reads it without starting TensorFlow.
"""

POLICIES = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}
PRECISIONS = tuple(POLICIES)
