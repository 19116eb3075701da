"""Checks that generated model folders load in diffusers' DiffusionPipeline and make an image.

Usage: python load_in_diffusers.py MODEL_DIR [MODEL_DIR ...]

For each folder (the engine's generated tiny-sd15 / tiny-sd21, e.g. engine/src/test/resources/parity/*):
DiffusionPipeline.from_pretrained must resolve model_index.json to a StableDiffusionPipeline with its
components (safety_checker and feature_extractor [null, null]), then run 4 DDIM steps at 64x64 and return
one PIL image. vae_tiny/ is loaded on its own as AutoencoderTiny and swapped in for a second image, as
diffusers users do with TAESD. Exits non-zero on the first failure.
"""
import sys

import torch
from diffusers import AutoencoderTiny, DiffusionPipeline


def check(folder):
    try:
        pipe = DiffusionPipeline.from_pretrained(folder, torch_dtype=torch.float32)
    except OSError:
        # tiny-sd21 stores its UNet as the .fp16 variant only, as fp16 downloads do
        pipe = DiffusionPipeline.from_pretrained(folder, variant="fp16", torch_dtype=torch.float32)
    names = sorted(k for k, v in pipe.components.items() if v is not None)
    image = pipe("a red fox in the snow", num_inference_steps=4, height=64, width=64,
                 generator=torch.Generator().manual_seed(42), output_type="pil").images[0]
    print(f"{folder}: {type(pipe).__name__} with {names}; image {image.size}")
    pipe.vae = AutoencoderTiny.from_pretrained(folder, subfolder="vae_tiny", torch_dtype=torch.float32)
    image = pipe("a red fox in the snow", num_inference_steps=4, height=64, width=64,
                 generator=torch.Generator().manual_seed(42), output_type="pil").images[0]
    print(f"{folder}: with vae_tiny as AutoencoderTiny; image {image.size}")


if __name__ == "__main__":
    for model in sys.argv[1:]:
        check(model)
