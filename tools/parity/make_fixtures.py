"""Reference outputs for the engine's parity test, computed with diffusers and transformers.

Usage: python make_fixtures.py MODEL_DIR OUT.safetensors

MODEL_DIR is a diffusers-layout model folder (the engine's generated tiny-sd15 / tiny-sd21 are
committed under engine/src/test/resources/parity/). The script runs every TiUE stage with the
reference libraries in float32 on the CPU and saves each stage's output, so the Java test
(dev.oneway.engine.ParityTest) can compare stage by stage without Python:

  ids                    CLIPTokenizer input ids, padded to 77 (as float32)     [B, 77]
  text                   CLIPTextModel last_hidden_state                       [B, 77, D]
  noise                  torch.randn(generator=manual_seed(seed_b)), per job    [B, 4, h, w]
  timesteps              DDIMScheduler.set_timesteps(K).timesteps (float32)    [K]
  skip.i / mid           UNet encoder at t_0: conv_in, down blocks, mid block   (Loopfree se_parallel)
  eps                    UNet decoder at K x B, step-major                      [K*B, 4, h, w]
  latents                loop-free DDIM: scheduler.step over the K predictions  [B, 4, h, w]
  looped                 classic DDIM loop with the full UNet per step          [B, 4, h, w]
  image                  AutoencoderKL.decode(latents / scaling_factor).sample  [B, 3, H, W]

Prompts, seeds, size and K are fixed below and repeated in the Java test.
"""
import sys

import torch
from safetensors.torch import save_file
from transformers import CLIPTextModel, CLIPTokenizer
from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel

PROMPTS = ["a red fox in the snow", "lighthouse at dawn, oil painting"]
SEEDS = [42, 7]
WIDTH, HEIGHT, STEPS = 96, 64, 4


def load_unet(folder):
    try:
        return UNet2DConditionModel.from_pretrained(folder, subfolder="unet", torch_dtype=torch.float32)
    except (OSError, EnvironmentError):
        return UNet2DConditionModel.from_pretrained(folder, subfolder="unet", variant="fp16").float()


def encoder(unet, z, t, text):
    emb = unet.time_embedding(unet.time_proj(t.expand(z.shape[0])).to(z.dtype))
    sample = unet.conv_in(z)
    skips = (sample,)
    for block in unet.down_blocks:
        if getattr(block, "has_cross_attention", False):
            sample, res = block(hidden_states=sample, temb=emb, encoder_hidden_states=text)
        else:
            sample, res = block(hidden_states=sample, temb=emb)
        skips += res
    sample = unet.mid_block(sample, emb, encoder_hidden_states=text)
    return list(skips), sample


def decoder(unet, skips, mid, timesteps, text):
    k, b = len(timesteps), mid.shape[0]
    skips = [s.repeat(k, 1, 1, 1) for s in skips]
    sample = mid.repeat(k, 1, 1, 1)
    text = text.repeat(k, 1, 1)
    t = timesteps.unsqueeze(1).repeat(1, b).flatten()
    emb = unet.time_embedding(unet.time_proj(t).to(sample.dtype))
    for block in unet.up_blocks:
        res = tuple(skips[-len(block.resnets):])
        skips = skips[:-len(block.resnets)]
        if getattr(block, "has_cross_attention", False):
            sample = block(hidden_states=sample, temb=emb, res_hidden_states_tuple=res, encoder_hidden_states=text)
        else:
            sample = block(hidden_states=sample, temb=emb, res_hidden_states_tuple=res)
    sample = unet.conv_out(unet.conv_act(unet.conv_norm_out(sample)))
    return sample


@torch.no_grad()
def main(folder, out):
    torch.manual_seed(0)
    tokenizer = CLIPTokenizer.from_pretrained(folder, subfolder="tokenizer")
    text_encoder = CLIPTextModel.from_pretrained(folder, subfolder="text_encoder", torch_dtype=torch.float32).eval()
    unet = load_unet(folder).eval()
    vae = AutoencoderKL.from_pretrained(folder, subfolder="vae", torch_dtype=torch.float32).eval()
    scheduler = DDIMScheduler.from_pretrained(folder, subfolder="scheduler")

    ids = tokenizer(PROMPTS, padding="max_length", max_length=tokenizer.model_max_length,
                    truncation=True, return_tensors="pt").input_ids
    text = text_encoder(ids)[0]
    h, w = HEIGHT // 8, WIDTH // 8
    noise = torch.cat([torch.randn((1, 4, h, w), generator=torch.Generator().manual_seed(s)) for s in SEEDS])

    scheduler.set_timesteps(STEPS)
    timesteps = scheduler.timesteps
    skips, mid = encoder(unet, noise, timesteps[0], text)
    eps = decoder(unet, skips, mid, timesteps, text)
    b = noise.shape[0]
    latents = noise
    for i, t in enumerate(timesteps):
        latents = scheduler.step(eps[i * b:(i + 1) * b], t, latents).prev_sample

    looped_scheduler = DDIMScheduler.from_pretrained(folder, subfolder="scheduler")
    looped_scheduler.set_timesteps(STEPS)
    looped = noise
    for t in looped_scheduler.timesteps:
        looped = looped_scheduler.step(unet(looped, t, encoder_hidden_states=text).sample, t, looped).prev_sample

    image = vae.decode(latents / vae.config.scaling_factor).sample

    tensors = {"ids": ids.to(torch.float32), "text": text, "noise": noise, "timesteps": timesteps.to(torch.float32),
               "mid": mid, "eps": eps, "latents": latents, "looped": looped, "image": image}
    for i, s in enumerate(skips):
        tensors[f"skip.{i}"] = s
    save_file({k: v.contiguous() for k, v in tensors.items()}, out)
    for k, v in tensors.items():
        print(f"{k:10s} {tuple(v.shape)} {v.dtype}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
