"""Times the authors' own Loopfree inference on a model folder, for the peer rows of docs/benchmarks.md.

Their code is imported from a Loopfree checkout (loopfree.py and utils/se_parallel_utils.py) and run as their
inference runs it: their register_se_forward patches the diffusers UNet, their encode_prompt encodes the prompt,
their predict_original runs the encoder once and the decoder over the K timesteps, and the VAE decodes; at 512x512
their inference() is called as it is (it fixes the latent at 64x64). Nothing of theirs is copied here. The
components come from the folder one by one (their main() asks for CUDA float16 through DiffusionPipeline): CPU,
float32, PyTorch's default threads, batch 1, DDIM with K steps as their script sets it.

    PYTHONPATH=DIFFUSERS/src python tools/peer/loopfree_peer.py --loopfree LOOPFREE --model FOLDER \
        --size 256 [--steps 4] [--warmup 1] [--repeats 3]

Prints one line per measured image, then "RESULT <median s/image> <min> <max> <torch version> <threads>".
"""
import argparse
import importlib
import statistics
import sys
import time
import types


def import_theirs(loopfree_dir):
    # Their utils import diffusers.models.unet_2d_condition, a module path that later diffusers moved to
    # diffusers.models.unets.unet_2d_condition: the same module under its old name, nothing else.
    import diffusers.models
    try:
        importlib.import_module("diffusers.models.unet_2d_condition")
    except ImportError:
        sys.modules["diffusers.models.unet_2d_condition"] = importlib.import_module(
            "diffusers.models.unets.unet_2d_condition")
    sys.path.insert(0, loopfree_dir)
    loopfree = importlib.import_module("loopfree")
    se_parallel = importlib.import_module("utils.se_parallel_utils")
    return loopfree, se_parallel


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--loopfree", required=True, help="a checkout of github.com/sen-mao/Loopfree")
    p.add_argument("--model", required=True, help="a diffusers-layout SD1.5 / SD2.1 folder")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--prompt", default="a photo of a cat number 0")
    a = p.parse_args()

    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    loopfree, se_parallel = import_theirs(a.loopfree)
    device, dtype = "cpu", torch.float32
    scheduler = DDIMScheduler.from_pretrained(a.model, subfolder="scheduler")
    unet = UNet2DConditionModel.from_pretrained(a.model, subfolder="unet", torch_dtype=dtype).eval()
    vae = AutoencoderKL.from_pretrained(a.model, subfolder="vae", torch_dtype=dtype).eval()
    pipe = types.SimpleNamespace(tokenizer=CLIPTokenizer.from_pretrained(a.model, subfolder="tokenizer"),
                                 text_encoder=CLIPTextModel.from_pretrained(a.model, subfolder="text_encoder",
                                                                            torch_dtype=dtype).eval())
    store = {'se_step': None, 'skip_feature': None, 'mid_feature': None, 'lora_scale': None,
             'use_parallel': True, 'timesteps': [], 'bs': 1}
    se_parallel.register_se_forward(unet, store)
    scheduler.set_timesteps(a.steps)
    store['timesteps'] = scheduler.timesteps

    latent = a.size // 8

    stages = {}

    def timed(name, fn):
        start = time.perf_counter()
        result = fn()
        stages[name] = time.perf_counter() - start
        return result

    @torch.no_grad()
    def one_image(seed):
        stages.clear()
        generator = torch.Generator(device=device).manual_seed(seed)
        embeds = timed("text", lambda: loopfree.encode_prompt(pipe, a.prompt))
        if latent == 64:
            return loopfree.inference(vae, unet, scheduler, embeds, generator, device, dtype, store)
        # their inference() with the latent of this size: noise, their predict_original, the VAE, to 8 bits
        noise = torch.randn((1, unet.config.in_channels, latent, latent), generator=generator, device=device, dtype=dtype)
        x0 = timed("unet", lambda: loopfree.predict_original(unet, scheduler, noise,
                                                              embeds["prompt_embeds"].to(device, dtype), store))
        image = timed("vae", lambda: vae.decode(x0 / vae.config.scaling_factor).sample.float())
        return (image[0] * 127.5 + 128).clamp(0, 255).to(torch.uint8)

    for i in range(a.warmup):
        one_image(1000 + i)
    seconds = []
    for i in range(a.repeats):
        start = time.perf_counter()
        image = one_image(1000 + i)
        seconds.append(time.perf_counter() - start)
        split = ", ".join(f"{name} {s:.2f} s" for name, s in stages.items())  # at 512x512 their inference() is one stage
        print(f"image {i}: {seconds[-1]:.2f} s, {tuple(image.shape)}{'; ' + split if split else ''}", flush=True)
    print(f"RESULT {statistics.median(seconds):.3f} {min(seconds):.3f} {max(seconds):.3f} {torch.__version__} "
          f"{torch.get_num_threads()}", flush=True)


if __name__ == "__main__":
    main()
