package dev.oneway.engine.tiny;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.oneway.engine.clip.ClipTokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a small but real CLIP tokenizer folder: a vocabulary built the way CLIP built its own (byte symbols, the
 * same with an end-of-word mark, one token per merge, then the start and end tokens), with merges learned by BPE
 * from a short built-in set of prompts. Common prompt words become single tokens, anything else still encodes
 * through the byte symbols, and the same call always writes the same bytes.
 */
public final class TinyVocabulary {
    private static final String START = "<|startoftext|>";
    private static final String END = "<|endoftext|>";
    private static final int MAX_VOCAB_SIZE = 1000;
    private static final int MAX_MERGES = MAX_VOCAB_SIZE - 2 * 256 - 2;

    private static final List<String> CORPUS = List.of(
            "a photo of a cat",
            "a photo of a dog",
            "a photo of a cat sitting on a chair",
            "a close up photo of a dog in the snow",
            "a painting of a house by the sea",
            "a painting of a cat in the style of van gogh",
            "a portrait of an old man, oil painting",
            "a portrait of a young woman with red hair",
            "an astronaut riding a horse on the moon",
            "a red car parked in front of a house",
            "a bowl of fruit on a wooden table",
            "a cup of coffee on a table in the morning",
            "a mountain lake at sunset, highly detailed",
            "a city street at night in the rain",
            "a forest in the fog, digital art",
            "a small boat on a calm lake",
            "a cat and a dog playing in the garden",
            "a photo of a green apple on a white table",
            "a watercolor painting of a bird on a tree",
            "a blue bird sitting on a tree branch",
            "an old castle on a hill, fantasy art",
            "a robot reading a book in a library",
            "a house in the mountains with snow",
            "a beach with palm trees and blue water",
            "a bowl of soup with bread on the side",
            "a dog wearing a red hat",
            "a cat sleeping on a sofa",
            "a black and white photo of a street",
            "a close up portrait of a cat with green eyes",
            "it's a sunny day in the park",
            "it's raining in the city at night",
            "the dog's ball is on the grass",
            "a futuristic city with flying cars, 4k",
            "a train crossing a bridge over a river",
            "a field of yellow flowers under a blue sky",
            "a plate of pasta with tomato sauce",
            "a lighthouse on a rocky coast at sunset",
            "a snowy mountain under the stars at night",
            "a photo of 2 cats on a bed",
            "a highly detailed drawing of a dragon");

    private TinyVocabulary() { }

    /**
     * Writes vocab.json, merges.txt, special_tokens_map.json and tokenizer_config.json into tokenizerDir (created if
     * needed). SD1.5 pads with the end token; SD2.1's tokenizer pads with "!" (id 0). Returns the vocabulary size,
     * which the text encoder's config needs.
     */
    public static int write(Path tokenizerDir, boolean sd21Style) {
        List<String[]> merges = learnMerges();
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String symbol : ClipTokenizer.byteSymbols()) {
            vocab.put(symbol, vocab.size());
        }
        for (String symbol : ClipTokenizer.byteSymbols()) {
            vocab.put(symbol + "</w>", vocab.size());
        }
        for (String[] pair : merges) {
            // Two merges can spell the same token ("ab"+"c" and "a"+"bc"); ids must stay dense.
            vocab.putIfAbsent(pair[0] + pair[1], vocab.size());
        }
        vocab.put(START, vocab.size());
        vocab.put(END, vocab.size());

        StringBuilder mergesText = new StringBuilder("#version: 0.2\n");
        for (String[] pair : merges) {
            mergesText.append(pair[0]).append(' ').append(pair[1]).append('\n');
        }
        String padToken = sd21Style ? "!" : END;
        try {
            Files.createDirectories(tokenizerDir);
            writeJson(tokenizerDir.resolve("vocab.json"), vocab);
            Files.writeString(tokenizerDir.resolve("merges.txt"), mergesText, StandardCharsets.UTF_8);
            writeJson(tokenizerDir.resolve("special_tokens_map.json"), specialTokensMap(padToken));
            writeJson(tokenizerDir.resolve("tokenizer_config.json"), tokenizerConfig(padToken));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tiny tokenizer into " + tokenizerDir, e);
        }
        return vocab.size();
    }

    /**
     * Classic BPE training on the corpus's words as the tokenizer sees them: repeatedly merge the most frequent
     * adjacent pair (ties broken alphabetically, for a deterministic result) until no pair occurs twice or the
     * vocabulary is full.
     */
    private static List<String[]> learnMerges() {
        Map<String, Integer> wordCounts = new TreeMap<>();
        for (String prompt : CORPUS) {
            for (String word : ClipTokenizer.preTokenize(prompt)) {
                wordCounts.merge(word, 1, Integer::sum);
            }
        }
        List<List<String>> words = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        wordCounts.forEach((word, count) -> {
            List<String> symbols = new ArrayList<>();
            for (int i = 0; i < word.length() - 1; i++) {
                symbols.add(String.valueOf(word.charAt(i)));
            }
            symbols.add(word.charAt(word.length() - 1) + "</w>");
            words.add(symbols);
            counts.add(count);
        });

        List<String[]> merges = new ArrayList<>();
        while (merges.size() < MAX_MERGES) {
            Map<String, Integer> pairCounts = new TreeMap<>();
            for (int w = 0; w < words.size(); w++) {
                List<String> symbols = words.get(w);
                for (int i = 0; i < symbols.size() - 1; i++) {
                    pairCounts.merge(symbols.get(i) + " " + symbols.get(i + 1), counts.get(w), Integer::sum);
                }
            }
            String best = null;
            int bestCount = 1;
            for (Map.Entry<String, Integer> pair : pairCounts.entrySet()) {
                if (pair.getValue() > bestCount) {
                    best = pair.getKey();
                    bestCount = pair.getValue();
                }
            }
            if (best == null) {
                break;
            }
            String[] pair = best.split(" ");
            merges.add(pair);
            for (List<String> symbols : words) {
                for (int i = 0; i < symbols.size() - 1; i++) {
                    if (symbols.get(i).equals(pair[0]) && symbols.get(i + 1).equals(pair[1])) {
                        symbols.set(i, pair[0] + pair[1]);
                        symbols.remove(i + 1);
                    }
                }
            }
        }
        return merges;
    }

    private static Map<String, Object> specialTokensMap(String padToken) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("bos_token", addedToken(START, false));
        map.put("eos_token", addedToken(END, false));
        map.put("pad_token", padToken);
        map.put("unk_token", addedToken(END, false));
        return map;
    }

    private static Map<String, Object> tokenizerConfig(String padToken) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("add_prefix_space", false);
        config.put("bos_token", addedToken(START, true));
        config.put("do_lower_case", true);
        config.put("eos_token", addedToken(END, true));
        config.put("errors", "replace");
        config.put("model_max_length", 77);
        config.put("pad_token", padToken);
        config.put("special_tokens_map_file", "./special_tokens_map.json");
        config.put("tokenizer_class", "CLIPTokenizer");
        config.put("unk_token", addedToken(END, true));
        return config;
    }

    /** transformers' serialised AddedToken; tokenizer_config.json tags it with its Python type. */
    private static Map<String, Object> addedToken(String content, boolean typed) {
        Map<String, Object> token = new LinkedHashMap<>();
        if (typed) {
            token.put("__type", "AddedToken");
        }
        token.put("content", content);
        token.put("lstrip", false);
        token.put("normalized", true);
        token.put("rstrip", false);
        token.put("single_word", false);
        return token;
    }

    private static void writeJson(Path file, Object value) throws IOException {
        // A fixed "\n" line break, not the platform's, so the files are the same bytes everywhere.
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter().withObjectIndenter(new DefaultIndenter("  ", "\n"));
        ObjectWriter writer = new ObjectMapper().writer(printer);
        Files.writeString(file, writer.writeValueAsString(value) + "\n", StandardCharsets.UTF_8);
    }
}
