"""Reference output of diffusers' AutoencoderTiny (TAESD) decoder for the engine's TaesdParityTest.

Usage: python make_taesd_fixtures.py MODEL_DIR OUT.safetensors

MODEL_DIR is a generated tiny model folder with a vae_tiny/ (engine/src/test/resources/parity/tiny-sd15).
The latents are fixed: torch.randn with seed 2024, shape [2, 4, 8, 12], times 2 (so some pass the soft
clamp tanh(x / 3) * 3 far from linear). They are decoded as diffusers' pipelines decode with any VAE:
vae.decode(latents / vae.config.scaling_factor).sample (TAESD's scaling_factor is 1.0), in float32 on the CPU.

  latents   [2, 4, 8, 12]
  image     [2, 3, 64, 96]   in [-1, 1]
"""
import sys

import torch
from safetensors.torch import save_file
from diffusers import AutoencoderTiny


@torch.no_grad()
def main(folder, out):
    vae_tiny = AutoencoderTiny.from_pretrained(folder, subfolder="vae_tiny", torch_dtype=torch.float32).eval()
    latents = torch.randn((2, 4, 8, 12), generator=torch.Generator().manual_seed(2024)) * 2
    image = vae_tiny.decode(latents / vae_tiny.config.scaling_factor).sample
    save_file({"latents": latents.contiguous(), "image": image.contiguous()}, out)
    print(f"image {tuple(image.shape)} range [{image.min():.4f}, {image.max():.4f}] std {image.std():.4f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
