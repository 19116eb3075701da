package dev.oneway.engine.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.oneway.engine.ModelException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP's byte-level BPE tokenizer, with the semantics of transformers' slow CLIPTokenizer when ftfy is
 * absent from the fix-up step: whitespace cleaned and lower-cased, split by CLIP's pattern, each piece's UTF-8
 * bytes spelled with GPT-2's byte symbols, then merged pair by pair in merges.txt rank order.
 * Instances are immutable apart from a word cache and safe to share between threads.
 */
public final class ClipTokenizer {
    private static final ObjectMapper JSON = new ObjectMapper();

    // Unicode \s, as Python's regex module uses, so that e.g. a no-break space separates words too.
    private static final Pattern WHITESPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern PIECE = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);

    /** Marks a word's last symbol, so that "cat" alone and the "cat" in "category" are different tokens. */
    private static final String END_OF_WORD = "</w>";
    /** These two pass through BPE whole, as transformers seeds its cache with them, whatever the configured tokens. */
    private static final Set<String> UNSPLIT_WORDS = Set.of("<|startoftext|>", "<|endoftext|>");
    /** transformers reads no more merges than CLIP's 49408-token vocabulary has room for (minus bytes and specials). */
    private static final int MAX_MERGES = 49152 - 256 - 2;
    /** Prompts come from users of a long-running worker, so the word cache must not grow without bound. */
    private static final int MAX_CACHED_WORDS = 100_000;
    private static final int DEFAULT_MAX_LENGTH = 77;

    private static final char[] BYTE_SYMBOLS = new char[256];
    private static final List<String> BYTE_SYMBOLS_IN_VOCAB_ORDER;
    private static final Map<Character, Integer> SYMBOL_BYTES = new HashMap<>();

    static {
        // GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves; the others (space, controls)
        // are moved to U+0100 and up, so every byte is a visible symbol and the space can separate merge pairs.
        List<String> inVocabOrder = new ArrayList<>();
        List<Integer> remapped = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            if (printable) {
                BYTE_SYMBOLS[b] = (char) b;
                inVocabOrder.add(String.valueOf((char) b));
            } else {
                remapped.add(b);
            }
        }
        for (int i = 0; i < remapped.size(); i++) {
            int b = remapped.get(i);
            BYTE_SYMBOLS[b] = (char) (256 + i);
            inVocabOrder.add(String.valueOf(BYTE_SYMBOLS[b]));
        }
        BYTE_SYMBOLS_IN_VOCAB_ORDER = List.copyOf(inVocabOrder);
        for (int b = 0; b < 256; b++) {
            SYMBOL_BYTES.put(BYTE_SYMBOLS[b], b);
        }
    }

    private final Map<String, Integer> vocab;
    private final Map<Integer, String> tokensById;
    /** Keyed by "first second", as the pair is written in merges.txt; a lower rank merges first. */
    private final Map<String, Integer> mergeRanks;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final int unkId;
    private final int maxLength;
    private final Map<String, List<String>> wordCache = new ConcurrentHashMap<>();

    private ClipTokenizer(Map<String, Integer> vocab, Map<String, Integer> mergeRanks,
                          int bosId, int eosId, int padId, int unkId, int maxLength) {
        this.vocab = vocab;
        this.mergeRanks = mergeRanks;
        this.bosId = bosId;
        this.eosId = eosId;
        this.padId = padId;
        this.unkId = unkId;
        this.maxLength = maxLength;
        Map<Integer, String> inverse = new HashMap<>();
        vocab.forEach((token, id) -> inverse.put(id, token));
        this.tokensById = inverse;
    }

    /**
     * Reads a tokenizer folder of a diffusers snapshot: vocab.json, merges.txt, special_tokens_map.json and
     * tokenizer_config.json. A special token named in special_tokens_map.json wins over tokenizer_config.json,
     * and one named in neither takes CLIPTokenizer's default, as in transformers.
     */
    public static ClipTokenizer load(Path tokenizerDir) {
        Path vocabFile = tokenizerDir.resolve("vocab.json");
        Path specialTokensMapFile = tokenizerDir.resolve("special_tokens_map.json");
        Path configFile = tokenizerDir.resolve("tokenizer_config.json");
        Map<String, Integer> vocab = readVocab(vocabFile);
        Map<String, Integer> mergeRanks = readMerges(tokenizerDir.resolve("merges.txt"));
        JsonNode specialTokensMap = readJsonObject(specialTokensMapFile,
                "a JSON object naming bos_token, eos_token, unk_token and pad_token");
        JsonNode config = readJsonObject(configFile, "a JSON object with the tokenizer's settings");

        SpecialTokens special = new SpecialTokens(vocabFile, vocab, specialTokensMapFile, specialTokensMap,
                configFile, config);
        int bosId = special.id("bos_token", "<|startoftext|>");
        int eosId = special.id("eos_token", "<|endoftext|>");
        int unkId = special.id("unk_token", "<|endoftext|>");
        int padId = special.id("pad_token", "<|endoftext|>");
        return new ClipTokenizer(vocab, mergeRanks, bosId, eosId, padId, unkId, readMaxLength(configFile, config));
    }

    /** The 256 byte symbols in the order CLIP's vocabulary lists them first (ids 0..255 of a CLIP vocab.json). */
    public static List<String> byteSymbols() {
        return BYTE_SYMBOLS_IN_VOCAB_ORDER;
    }

    /** The words BPE sees: the text cleaned and split by CLIP's pattern, each spelled in byte symbols. */
    public static List<String> preTokenize(String text) {
        String cleaned = WHITESPACE.matcher(text).replaceAll(" ").strip().toLowerCase(Locale.ROOT);
        List<String> words = new ArrayList<>();
        Matcher piece = PIECE.matcher(cleaned);
        while (piece.find()) {
            StringBuilder word = new StringBuilder();
            for (byte b : piece.group().getBytes(StandardCharsets.UTF_8)) {
                word.append(BYTE_SYMBOLS[b & 0xFF]);
            }
            words.add(word.toString());
        }
        return words;
    }

    /** The BPE tokens of the text, without start, end or padding tokens and without truncation. */
    public List<String> tokenize(String text) {
        List<String> tokens = new ArrayList<>();
        for (String word : preTokenize(text)) {
            tokens.addAll(bpe(word));
        }
        return tokens;
    }

    /** Exactly {@link #maxLength()} ids: start, the text's tokens (as many as fit), end, then padding. */
    public int[] encode(String text) {
        List<String> tokens = tokenize(text);
        int kept = Math.min(tokens.size(), maxLength - 2);
        int[] ids = new int[maxLength];
        Arrays.fill(ids, padId);
        ids[0] = bosId;
        for (int i = 0; i < kept; i++) {
            ids[i + 1] = vocab.getOrDefault(tokens.get(i), unkId);
        }
        ids[kept + 1] = eosId;
        return ids;
    }

    /**
     * The text between a leading start token and the first end token, as transformers' convert_tokens_to_string
     * spells it: byte symbols back to UTF-8 (invalid sequences replaced), word ends as spaces, then stripped.
     */
    public String decode(int[] ids) {
        StringBuilder symbols = new StringBuilder();
        int from = ids.length > 0 && ids[0] == bosId ? 1 : 0;
        for (int i = from; i < ids.length && ids[i] != eosId; i++) {
            String token = tokensById.get(ids[i]);
            if (token == null) {
                throw new IllegalArgumentException("id " + ids[i] + " is not in the vocabulary");
            }
            symbols.append(token);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < symbols.length(); i++) {
            Integer b = SYMBOL_BYTES.get(symbols.charAt(i));
            if (b == null) {
                throw new IllegalArgumentException("'" + symbols.charAt(i) + "' is not a byte symbol");
            }
            bytes.write(b);
        }
        return bytes.toString(StandardCharsets.UTF_8).replace(END_OF_WORD, " ").strip();
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    public int maxLength() {
        return maxLength;
    }

    private List<String> bpe(String word) {
        List<String> cached = wordCache.get(word);
        if (cached != null) {
            return cached;
        }
        List<String> tokens = UNSPLIT_WORDS.contains(word) ? List.of(word) : merge(word);
        if (wordCache.size() < MAX_CACHED_WORDS) {
            wordCache.put(word, tokens);
        }
        return tokens;
    }

    /**
     * Starts from single symbols and merges the lowest-ranked adjacent pair, at every place it occurs, until no
     * adjacent pair has a rank.
     */
    private List<String> merge(String word) {
        // Byte symbols are single UTF-16 chars (U+0021..U+0143), so each char is one symbol.
        List<String> symbols = new ArrayList<>();
        for (int i = 0; i < word.length() - 1; i++) {
            symbols.add(String.valueOf(word.charAt(i)));
        }
        symbols.add(word.charAt(word.length() - 1) + END_OF_WORD);

        while (symbols.size() > 1) {
            String first = null;
            String second = null;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i < symbols.size() - 1; i++) {
                Integer rank = mergeRanks.get(symbols.get(i) + " " + symbols.get(i + 1));
                if (rank != null && rank < bestRank) {
                    bestRank = rank;
                    first = symbols.get(i);
                    second = symbols.get(i + 1);
                }
            }
            if (first == null) {
                break;
            }
            List<String> merged = new ArrayList<>(symbols.size());
            for (int i = 0; i < symbols.size(); i++) {
                if (i < symbols.size() - 1 && symbols.get(i).equals(first) && symbols.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i++;
                } else {
                    merged.add(symbols.get(i));
                }
            }
            symbols = merged;
        }
        return Collections.unmodifiableList(symbols);
    }

    private static Map<String, Integer> readVocab(Path file) {
        JsonNode root = readJsonObject(file, "a JSON object mapping each token to its id");
        Map<String, Integer> vocab = new HashMap<>();
        for (Map.Entry<String, JsonNode> entry : root.properties()) {
            if (!entry.getValue().isIntegralNumber() || !entry.getValue().canConvertToInt()) {
                throw new ModelException(file + ": token \"" + entry.getKey() + "\" should map to an integer id, found "
                        + entry.getValue());
            }
            vocab.put(entry.getKey(), entry.getValue().intValue());
        }
        return vocab;
    }

    private static Map<String, Integer> readMerges(Path file) {
        String text = readText(file, "a \"#version\" header line, then one merge pair per line");
        List<String> lines = text.strip().lines().toList();
        if (lines.isEmpty() || !lines.get(0).startsWith("#version")) {
            throw new ModelException(file + ": expected a \"#version\" header on the first line, found "
                    + (lines.isEmpty() ? "an empty file" : "\"" + lines.get(0) + "\""));
        }
        Map<String, Integer> ranks = new HashMap<>();
        int count = Math.min(lines.size() - 1, MAX_MERGES);
        for (int rank = 0; rank < count; rank++) {
            String[] pair = lines.get(rank + 1).trim().split("\\s+");
            // transformers keeps malformed lines as pairs that never match; skipping them keeps the other ranks.
            if (pair.length == 2) {
                ranks.put(pair[0] + " " + pair[1], rank);
            }
        }
        return ranks;
    }

    private static int readMaxLength(Path file, JsonNode config) {
        JsonNode value = config.get("model_max_length");
        if (value == null || value.isNull()) {
            return DEFAULT_MAX_LENGTH;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() < 2) {
            throw new ModelException(file + ": model_max_length should be an integer of at least 2 (room for the "
                    + "start and end tokens), found " + value);
        }
        return value.intValue();
    }

    private static JsonNode readJsonObject(Path file, String expected) {
        String text = readText(file, expected);
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (IOException e) {
            throw new ModelException(file + " is not valid JSON: expected " + expected, e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelException(file + ": expected " + expected);
        }
        return root;
    }

    private static String readText(Path file, String expected) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ModelException(file + " is missing: a CLIP tokenizer folder needs it, holding " + expected);
        } catch (IOException e) {
            throw new ModelException(file + " cannot be read: expected " + expected, e);
        }
    }

    /** Resolves special tokens from the two config files and finds their ids in the vocabulary. */
    private record SpecialTokens(Path vocabFile, Map<String, Integer> vocab,
                                 Path specialTokensMapFile, JsonNode specialTokensMap,
                                 Path configFile, JsonNode config) {

        int id(String key, String defaultToken) {
            String source = specialTokensMapFile.toString();
            String token = tokenText(specialTokensMapFile, specialTokensMap.get(key), key);
            if (token == null) {
                source = configFile.toString();
                token = tokenText(configFile, config.get(key), key);
            }
            if (token == null) {
                source = "CLIPTokenizer's default";
                token = defaultToken;
            }
            Integer id = vocab.get(token);
            if (id == null) {
                throw new ModelException(vocabFile + " has no entry for " + key + " \"" + token + "\" (named by "
                        + source + ")");
            }
            return id;
        }

        /** A special token is written either as its text or as an AddedToken object with a "content" field. */
        private static String tokenText(Path file, JsonNode value, String key) {
            if (value == null || value.isNull()) {
                return null;
            }
            if (value.isTextual()) {
                return value.textValue();
            }
            if (value.isObject() && value.path("content").isTextual()) {
                return value.get("content").textValue();
            }
            throw new ModelException(file + ": " + key + " should be a string or an object with a \"content\" "
                    + "string, found " + value);
        }
    }
}
