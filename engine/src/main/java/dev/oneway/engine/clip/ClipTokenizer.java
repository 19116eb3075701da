package dev.oneway.engine.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.oneway.engine.ModelException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP's byte-level BPE tokenizer, with the semantics of transformers' CLIPTokenizer (transformers 5, where it is
 * the tokenizers-backed pipeline):
 * <ol>
 *   <li>added tokens (the special tokens, e.g. SD2.x's pad token "!") are split out of the text first: those not
 *       "normalized" are matched in the raw text, the others in the normalized rest; leftmost-longest;</li>
 *   <li>the rest is normalized: Unicode NFC, whitespace runs to one space, lower-cased code point by code point;</li>
 *   <li>split by CLIP's pattern, then by GPT-2's byte-level pattern (which cuts a literal "&lt;|endoftext|&gt;" that
 *       was not an added-token match into "&lt;|", "endoftext", "|&gt;"), each piece's UTF-8 bytes spelled with
 *       GPT-2's byte symbols;</li>
 *   <li>each word merged pair by pair in merges.txt rank order.</li>
 * </ol>
 * Instances are immutable apart from a word cache and safe to share between threads.
 */
public final class ClipTokenizer {
    private static final ObjectMapper JSON = new ObjectMapper();

    // Unicode \s, as the reference's regex engine uses, so that e.g. a no-break space separates words too.
    private static final Pattern WHITESPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern CLIP_PIECE = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.UNICODE_CHARACTER_CLASS);
    /** The ByteLevel pre-tokenizer's own split, applied to each CLIP piece. */
    private static final Pattern BYTE_LEVEL_PIECE = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    /** Marks a word's last symbol, so that "cat" alone and the "cat" in "category" are different tokens. */
    private static final String END_OF_WORD = "</w>";
    /** transformers' order of the special-token attributes: a later one redefines an earlier one's flags. */
    private static final List<String> SPECIAL_TOKEN_KEYS = List.of(
            "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");
    private static final Map<String, String> CLIP_DEFAULTS = Map.of("bos_token", "<|startoftext|>",
            "eos_token", "<|endoftext|>", "unk_token", "<|endoftext|>", "pad_token", "<|endoftext|>");
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

    /**
     * A token matched whole in the text before BPE, with tokenizers' AddedToken flags: lstrip/rstrip swallow the
     * whitespace beside it, singleWord matches only between non-word characters, normalized matches it in the
     * normalized text (its content normalized too) instead of the raw text.
     */
    record AddedToken(String content, boolean lstrip, boolean rstrip, boolean singleWord, boolean normalized) {
    }

    private final Map<String, Integer> vocab;
    private final Map<Integer, String> tokensById;
    /** Keyed by "first second", as the pair is written in merges.txt; a lower rank merges first. */
    private final Map<String, Integer> mergeRanks;
    /** Matched in the raw text. */
    private final List<AddedToken> rawAddedTokens;
    /** Matched in the normalized text; contents already normalized. */
    private final List<AddedToken> normalizedAddedTokens;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final int unkId;
    private final int maxLength;
    private final Map<String, List<String>> wordCache = new ConcurrentHashMap<>();

    private ClipTokenizer(Map<String, Integer> vocab, Map<String, Integer> mergeRanks, Collection<AddedToken> added,
                          int bosId, int eosId, int padId, int unkId, int maxLength) {
        this.vocab = vocab;
        this.mergeRanks = mergeRanks;
        this.rawAddedTokens = added.stream().filter(token -> !token.normalized()).toList();
        this.normalizedAddedTokens = added.stream().filter(AddedToken::normalized)
                .map(token -> new AddedToken(normalize(token.content()), token.lstrip(), token.rstrip(),
                        token.singleWord(), true))
                .toList();
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
     * tokenizer_config.json, as transformers does. When tokenizer_config.json lists added_tokens_decoder, those are
     * the added tokens and the special tokens are named by tokenizer_config.json alone; otherwise (older folders)
     * a special token named in special_tokens_map.json wins over tokenizer_config.json. A special token named in
     * neither takes CLIPTokenizer's default. Every special token is an added token: written as an AddedToken object
     * it keeps its flags, written as a plain string it is matched in the raw text.
     */
    public static ClipTokenizer load(Path tokenizerDir) {
        Path vocabFile = tokenizerDir.resolve("vocab.json");
        Path specialTokensMapFile = tokenizerDir.resolve("special_tokens_map.json");
        Path configFile = tokenizerDir.resolve("tokenizer_config.json");
        Map<String, Integer> vocab = readVocab(vocabFile);
        Map<String, Integer> mergeRanks = readMerges(tokenizerDir.resolve("merges.txt"));
        JsonNode config = readJsonObject(configFile, "a JSON object with the tokenizer's settings");
        Map<String, AddedToken> addedTokens = new LinkedHashMap<>();
        // A special token named by its text takes the flags added_tokens_decoder gives that text, if any.
        Map<String, AddedToken> declared = new HashMap<>();
        JsonNode decoder = config.get("added_tokens_decoder");
        Path namingFile;
        JsonNode naming;
        if (decoder != null && decoder.isObject()) {
            for (Map.Entry<String, JsonNode> entry : decoder.properties()) {
                AddedToken token = addedToken(configFile, entry.getValue(), "added_tokens_decoder." + entry.getKey());
                addedTokens.put(token.content(), token);
                declared.put(token.content(), token);
            }
            namingFile = configFile;
            naming = config;
        } else {
            JsonNode specialTokensMap = readJsonObject(specialTokensMapFile,
                    "a JSON object naming bos_token, eos_token, unk_token and pad_token");
            ObjectNode merged = config.deepCopy();
            specialTokensMap.properties().forEach(entry -> merged.set(entry.getKey(), entry.getValue()));
            namingFile = specialTokensMapFile;
            naming = merged;
        }
        Map<String, String> specialTokens = new HashMap<>();
        Map<String, String> sources = new HashMap<>();
        for (String key : SPECIAL_TOKEN_KEYS) {
            JsonNode value = naming.get(key);
            String source = namingFile.toString();
            if (value == null || value.isNull()) {
                // CLIPTokenizer's constructor defaults: special tokens like any other named one.
                value = CLIP_DEFAULTS.containsKey(key) ? TextNode.valueOf(CLIP_DEFAULTS.get(key)) : null;
                source = "CLIPTokenizer's default";
            }
            if (value == null) {
                continue;
            }
            AddedToken token = value.isTextual() && declared.containsKey(value.textValue())
                    ? declared.get(value.textValue())
                    : addedToken(namingFile, value, key);
            addedTokens.remove(token.content());
            addedTokens.put(token.content(), token);
            specialTokens.put(key, token.content());
            sources.put(key, source);
        }
        int bosId = specialId(vocabFile, vocab, "bos_token", specialTokens, sources);
        int eosId = specialId(vocabFile, vocab, "eos_token", specialTokens, sources);
        int unkId = specialId(vocabFile, vocab, "unk_token", specialTokens, sources);
        int padId = specialId(vocabFile, vocab, "pad_token", specialTokens, sources);
        for (AddedToken token : addedTokens.values()) {
            if (!vocab.containsKey(token.content())) {
                throw new ModelException(vocabFile + " has no entry for the added token \"" + token.content()
                        + "\" (named by " + namingFile + ")");
            }
        }
        return new ClipTokenizer(vocab, mergeRanks, addedTokens.values(), bosId, eosId, padId, unkId,
                readMaxLength(configFile, config));
    }

    /** The 256 byte symbols in the order CLIP's vocabulary lists them first (ids 0..255 of a CLIP vocab.json). */
    public static List<String> byteSymbols() {
        return BYTE_SYMBOLS_IN_VOCAB_ORDER;
    }

    /**
     * transformers' CLIP normalizer: Unicode NFC, each whitespace run to one space, then lower case one code point
     * at a time (as tokenizers' Lowercase does: "\u0130" becomes "i\u0307", a lone capital sigma "\u03c3").
     */
    public static String normalize(String text) {
        String composed = WHITESPACE.matcher(Normalizer.normalize(text, Normalizer.Form.NFC)).replaceAll(" ");
        StringBuilder lower = new StringBuilder(composed.length());
        composed.codePoints().forEach(cp -> lower.append(new String(Character.toChars(cp)).toLowerCase(Locale.ROOT)));
        return lower.toString();
    }

    /** The words BPE sees in text that holds no added token: normalized, split, spelled in byte symbols. */
    public static List<String> preTokenize(String text) {
        List<String> words = new ArrayList<>();
        Matcher clipPiece = CLIP_PIECE.matcher(normalize(text));
        while (clipPiece.find()) {
            Matcher piece = BYTE_LEVEL_PIECE.matcher(clipPiece.group());
            while (piece.find()) {
                StringBuilder word = new StringBuilder();
                for (byte b : piece.group().getBytes(StandardCharsets.UTF_8)) {
                    word.append(BYTE_SYMBOLS[b & 0xFF]);
                }
                words.add(word.toString());
            }
        }
        return words;
    }

    /** The tokens of the text: added tokens whole, BPE tokens between; no start, end or padding, no truncation. */
    public List<String> tokenize(String text) {
        List<String> tokens = new ArrayList<>();
        for (Piece raw : splitOut(text, rawAddedTokens)) {
            if (raw.added() != null) {
                tokens.add(raw.added().content());
                continue;
            }
            for (Piece piece : splitOut(normalize(raw.text()), normalizedAddedTokens)) {
                if (piece.added() != null) {
                    tokens.add(piece.added().content());
                } else {
                    for (String word : preTokenize(piece.text())) {
                        tokens.addAll(bpe(word));
                    }
                }
            }
        }
        return tokens;
    }

    /** A stretch of text, or an added token matched there (its text then includes any whitespace it swallowed). */
    private record Piece(String text, AddedToken added) {
    }

    /**
     * Cuts the added tokens out of the text, as tokenizers' AddedVocabulary does: leftmost-longest matches, left
     * to right without overlap; a single-word token beside a word character is skipped; lstrip and rstrip extend
     * the match over adjacent whitespace.
     */
    private static List<Piece> splitOut(String text, List<AddedToken> added) {
        if (added.isEmpty() || text.isEmpty()) {
            return List.of(new Piece(text, null));
        }
        List<Piece> pieces = new ArrayList<>();
        int done = 0;
        int at = 0;
        while (at < text.length()) {
            AddedToken match = null;
            for (AddedToken token : added) {
                if (text.startsWith(token.content(), at)
                        && (match == null || token.content().length() > match.content().length())) {
                    match = token;
                }
            }
            if (match == null) {
                at++;
                continue;
            }
            int start = at;
            int stop = at + match.content().length();
            at = stop;
            if (match.singleWord() && (endsWithWordChar(text, start) || startsWithWordChar(text, stop))) {
                continue;
            }
            if (match.lstrip()) {
                while (start > done && Character.isWhitespace(text.codePointBefore(start))) {
                    start -= Character.charCount(text.codePointBefore(start));
                }
            }
            if (match.rstrip()) {
                while (stop < text.length() && Character.isWhitespace(text.codePointAt(stop))) {
                    stop += Character.charCount(text.codePointAt(stop));
                }
                at = stop;
            }
            if (done < start) {
                pieces.add(new Piece(text.substring(done, start), null));
            }
            pieces.add(new Piece(text.substring(start, stop), match));
            done = stop;
        }
        if (done < text.length()) {
            pieces.add(new Piece(text.substring(done), null));
        }
        return pieces;
    }

    private static boolean endsWithWordChar(String text, int end) {
        return end > 0 && isWordChar(text.codePointBefore(end));
    }

    private static boolean startsWithWordChar(String text, int start) {
        return start < text.length() && isWordChar(text.codePointAt(start));
    }

    private static boolean isWordChar(int codePoint) {
        return Character.isLetterOrDigit(codePoint) || codePoint == '_';
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
        List<String> tokens = merge(word);
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

    /** An added token as transformers reads it: a plain string is special and not normalized. */
    private static AddedToken addedToken(Path file, JsonNode value, String key) {
        if (value.isTextual()) {
            return new AddedToken(value.textValue(), false, false, false, false);
        }
        if (value.isObject() && value.path("content").isTextual()) {
            return new AddedToken(value.get("content").textValue(), value.path("lstrip").asBoolean(false),
                    value.path("rstrip").asBoolean(false), value.path("single_word").asBoolean(false),
                    value.path("normalized").asBoolean(false));
        }
        throw new ModelException(file + ": " + key + " should be a string or an object with a \"content\" string, "
                + "found " + value);
    }

    private static int specialId(Path vocabFile, Map<String, Integer> vocab, String key, Map<String, String> named,
                                 Map<String, String> sources) {
        String token = named.get(key);
        Integer id = vocab.get(token);
        if (id == null) {
            throw new ModelException(vocabFile + " has no entry for " + key + " \"" + token + "\" (named by "
                    + sources.get(key) + ")");
        }
        return id;
    }
}
