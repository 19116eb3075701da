"""Token ids from transformers' CLIPTokenizer for the engine's ClipTokenizerParityTest.

Usage: python make_tokenizer_fixtures.py PARITY_DIR OUT.json

PARITY_DIR holds the engine's generated tiny-sd15 and tiny-sd21 folders (engine/src/test/resources/parity);
tiny-sd15's tokenizer pads with "<|endoftext|>" as SD1.5's does, tiny-sd21's pads with "!" as SD2.x's does
(so "!" is a special token there). For each folder and prompt the script records the 77 input ids
(padding="max_length", truncation=True), as diffusers' pipelines ask for them.
"""
import json
import sys

from transformers import CLIPTokenizer

PROMPTS = [
    "Cafe\u0301",                         # decomposed accent: NFC makes it "Café"
    "Caf\u00e9",                          # the composed form, same ids
    "fox!!!",                             # "!" is SD2.x's pad token, split out before BPE there
    "a fox !!! dog",
    "!fox!",
    "fox! !",
    "a cat<|endoftext|>dog",              # a literal end token in the prompt
    "a cat <|endoftext|> dog",
    "a cat<|ENDOFTEXT|>dog",              # matched only where the end token is a normalized added token
    "<|startoftext|>cat",
    "  A   Photo\n\tof ",
    "a\u00a0PHOTO\u3000of",
    "\u0130stanbul",                      # lower case one code point at a time
    "\u039f\u0394\u039f\u03a3",           # a final capital sigma stays sigma, not final sigma
    "\ufb01 ligature",                    # NFC keeps compatibility characters
    "\u6771\u4eac tower",
    "it's a dog's life, don't",
    "1024x768",
    "caf\u00e9 \U0001f642",
    "",
    "a photo of a cat, " * 20,            # truncated to 77
]


def main(parity_dir, out):
    cases = {}
    for variant in ["tiny-sd15", "tiny-sd21"]:
        tokenizer = CLIPTokenizer.from_pretrained(f"{parity_dir}/{variant}", subfolder="tokenizer")
        ids = tokenizer(PROMPTS, padding="max_length", max_length=tokenizer.model_max_length,
                        truncation=True).input_ids
        cases[variant] = [{"prompt": p, "ids": i} for p, i in zip(PROMPTS, ids)]
    with open(out, "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=True, indent=1)
        f.write("\n")
    print(f"{sum(len(v) for v in cases.values())} cases written to {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
