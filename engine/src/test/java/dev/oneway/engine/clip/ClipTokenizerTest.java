package dev.oneway.engine.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.oneway.engine.ModelException;
import dev.oneway.engine.tiny.TinyVocabulary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClipTokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String START = "<|startoftext|>";
    private static final String END = "<|endoftext|>";

    @TempDir
    Path dir;

    @Test
    void commonPromptWordsAreSingleTokensOfTheTinyVocabulary() {
        assertEquals(List.of("a</w>", "photo</w>", "of</w>", "a</w>", "cat</w>"),
                tiny(false).tokenize("a photo of a cat"));
    }

    @Test
    void encodeFramesTheTokensWithStartAndEndAndPadsSd15StyleWithTheEndToken() throws IOException {
        ClipTokenizer tokenizer = tiny(false);
        JsonNode vocab = JSON.readTree(dir.resolve("sd15/vocab.json").toFile());

        int[] ids = tokenizer.encode("a photo of a cat");

        assertEquals(77, ids.length);
        assertEquals(vocab.get(START).intValue(), tokenizer.bosId());
        assertEquals(vocab.get(END).intValue(), tokenizer.eosId());
        assertEquals(tokenizer.eosId(), tokenizer.padId());
        int[] expected = new int[77];
        Arrays.fill(expected, tokenizer.eosId());
        expected[0] = tokenizer.bosId();
        int[] words = idsOf(vocab, List.of("a</w>", "photo</w>", "of</w>", "a</w>", "cat</w>"));
        System.arraycopy(words, 0, expected, 1, words.length);
        assertArrayEquals(expected, ids);
    }

    @Test
    void sd21StylePadsWithTheExclamationMarkWhoseIdIsZero() {
        ClipTokenizer tokenizer = tiny(true);

        int[] ids = tokenizer.encode("a photo of a cat");

        assertEquals(0, tokenizer.padId());
        assertEquals(tokenizer.eosId(), ids[6]);
        for (int i = 7; i < 77; i++) {
            assertEquals(0, ids[i], "padding at " + i);
        }
    }

    @Test
    void whitespaceRunsAndCaseAreFolded() {
        ClipTokenizer tokenizer = tiny(false);

        assertArrayEquals(tokenizer.encode("a photo of"), tokenizer.encode("  A   Photo\n\tof "));
        assertArrayEquals(tokenizer.encode("a photo of"), tokenizer.encode("a\u00a0PHOTO\u3000of"));
    }

    @Test
    void longPromptsAreTruncatedToExactlyMaxLengthAndStillEndWithTheEndToken() throws IOException {
        ClipTokenizer tokenizer = tiny(false);
        JsonNode vocab = JSON.readTree(dir.resolve("sd15/vocab.json").toFile());
        String prompt = "a photo of a cat, ".repeat(20);
        List<String> tokens = tokenizer.tokenize(prompt);
        assertTrue(tokens.size() > 75, "the prompt must overflow");

        int[] ids = tokenizer.encode(prompt);

        assertEquals(77, ids.length);
        assertEquals(tokenizer.bosId(), ids[0]);
        assertArrayEquals(idsOf(vocab, tokens.subList(0, 75)), Arrays.copyOfRange(ids, 1, 76));
        assertEquals(tokenizer.eosId(), ids[76]);
    }

    @Test
    void nonAsciiTextIsSpelledInUtf8ByteSymbolsAndDecodesBackUnchanged() {
        ClipTokenizer tokenizer = tiny(true);
        String text = "café 東京 🙂";

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String token : tokenizer.tokenize(text)) {
            token.replace("</w>", "").chars().forEach(symbol -> bytes.write(gpt2ByteOf((char) symbol)));
        }
        int[] ids = tokenizer.encode(text);

        assertArrayEquals("café東京🙂".getBytes(StandardCharsets.UTF_8), bytes.toByteArray());
        assertEquals(1, Arrays.stream(ids).filter(id -> id == tokenizer.eosId()).count(),
                "no byte fell back to the unknown token (the end token in CLIP)");
        assertEquals(text, tokenizer.decode(ids));
    }

    @Test
    void theVocabularyStartsWithGpt2ByteSymbolsSoThatIdsMatchRealClip() throws IOException {
        TinyVocabulary.write(dir, false);
        JsonNode vocab = JSON.readTree(dir.resolve("vocab.json").toFile());

        assertEquals(0, vocab.get("!").intValue());
        assertEquals(188, vocab.get("\u0100").intValue(), "byte 0 is the first remapped byte");
        assertEquals(220, vocab.get("\u0120").intValue(), "the space byte, as in CLIP's vocabulary");
        assertEquals(256 + 220, vocab.get("\u0120</w>").intValue());
        for (int id = 0; id < 256; id++) {
            assertEquals(id, vocab.get(ClipTokenizer.byteSymbols().get(id)).intValue());
        }
    }

    @Test
    void mergesApplyByRankNotByPosition() throws IOException {
        List<String> tokens = List.of("!", "a", "b", "c</w>", "ab", "bc</w>", "abc</w>", START, END);
        ClipTokenizer abFirst = ClipTokenizer.load(handWritten("ab-first", tokens, List.of("a b", "b c</w>"), END));
        ClipTokenizer bcFirst = ClipTokenizer.load(handWritten("bc-first", tokens, List.of("b c</w>", "a b"), END));
        ClipTokenizer chained = ClipTokenizer.load(
                handWritten("chained", tokens, List.of("b c</w>", "a b", "a bc</w>"), END));

        assertEquals(List.of("ab", "c</w>"), abFirst.tokenize("abc"));
        assertEquals(List.of("a", "bc</w>"), bcFirst.tokenize("abc"));
        assertEquals(List.of("abc</w>"), chained.tokenize("abc"));
        assertArrayEquals(new int[] {7, 6, 8, 8, 8, 8, 8, 8}, chained.encode("ABC"), "max length 8 from the config");
    }

    @Test
    void contractionsSplitOffTheirApostropheSuffix() {
        assertEquals(List.of("it</w>", "'s</w>", "a</w>", "dog</w>", "'s</w>"), tiny(false).tokenize("it's a dog's"));
        assertEquals(List.of("we", "'re", "they", "'ll", "i", "'d", "don", "'t"),
                ClipTokenizer.preTokenize("We're THEY'LL i'd Don'T"));
    }

    @Test
    void numbersSplitIntoSingleDigits() {
        assertEquals(List.of("1</w>", "0</w>", "2</w>", "4</w>", "x</w>", "7</w>", "6</w>", "8</w>"),
                tiny(false).tokenize("1024x768"));
    }

    @Test
    void specialTokensWrittenInTheTextStayWhole() {
        ClipTokenizer tokenizer = tiny(false);

        assertEquals(List.of("a</w>", "cat</w>", END, "dog</w>"), tokenizer.tokenize("a cat<|endoftext|>dog"));
        assertEquals(tokenizer.eosId(), tokenizer.encode("a cat<|endoftext|>dog")[3]);
    }

    @Test
    void addedTokensFromTokenizerConfigKeepTheirFlagsAndNameTheSpecialTokens() throws IOException {
        List<String> tokens = List.of("!", "a</w>", "b</w>", "<x>", START, END);
        Path folder = handWritten("decoder", tokens, List.of(), END);
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("model_max_length", 8);
        config.put("added_tokens_decoder", Map.of(
                "3", Map.of("content", "<x>", "lstrip", true, "rstrip", true, "normalized", true, "special", true)));
        config.put("pad_token", "<x>");
        JSON.writeValue(folder.resolve("tokenizer_config.json").toFile(), config);

        ClipTokenizer tokenizer = ClipTokenizer.load(folder);

        assertEquals(3, tokenizer.padId(), "special_tokens_map.json is not read when added_tokens_decoder is present");
        assertEquals(List.of("a</w>", "<x>", "b</w>"), tokenizer.tokenize("a  <X>  b"), "normalized: matched lower-cased");
        assertEquals(List.of("a</w>", "<x>", "b</w>"), tokenizer.tokenize("a<x>b"));
    }

    @Test
    void specialTokensMapWinsOverTokenizerConfig() throws IOException {
        Path folder = handWritten("precedence", List.of("!", "a</w>", START, END), List.of(), "!");
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"pad_token\": \"<|endoftext|>\"}");

        ClipTokenizer tokenizer = ClipTokenizer.load(folder);

        assertEquals(0, tokenizer.padId());
        assertEquals(77, tokenizer.maxLength(), "CLIP's default when model_max_length is absent");
    }

    @Test
    void aMissingVocabularyFileIsReportedByName() throws IOException {
        TinyVocabulary.write(dir, false);
        Files.delete(dir.resolve("vocab.json"));

        ModelException error = assertThrows(ModelException.class, () -> ClipTokenizer.load(dir));

        assertTrue(error.getMessage().contains(dir.resolve("vocab.json").toString()), error.getMessage());
    }

    @Test
    void aSpecialTokenAbsentFromTheVocabularyIsReportedWithTheFileAndToken() throws IOException {
        Path folder = handWritten("no-bang", List.of("a</w>", START, END), List.of(), "!");

        ModelException error = assertThrows(ModelException.class, () -> ClipTokenizer.load(folder));

        assertTrue(error.getMessage().contains(folder.resolve("vocab.json").toString()), error.getMessage());
        assertTrue(error.getMessage().contains("pad_token \"!\""), error.getMessage());
    }

    @Test
    void tinyVocabularyIsReproducibleDenseAndSmall() throws IOException {
        int size = TinyVocabulary.write(dir.resolve("first"), true);
        TinyVocabulary.write(dir.resolve("second"), true);

        for (String file : List.of("vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json")) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("first").resolve(file)),
                    Files.readAllBytes(dir.resolve("second").resolve(file)), file);
        }
        JsonNode vocab = JSON.readTree(dir.resolve("first/vocab.json").toFile());
        List<Integer> ids = new ArrayList<>();
        vocab.properties().forEach(entry -> ids.add(entry.getValue().intValue()));
        assertEquals(size, vocab.size());
        assertTrue(size <= 1000, "vocabulary of " + size);
        assertEquals(IntStream.range(0, size).boxed().toList(), ids.stream().sorted().toList());
        assertEquals(size - 2, vocab.get(START).intValue());
        assertEquals(size - 1, vocab.get(END).intValue());
    }

    private static int[] idsOf(JsonNode vocab, List<String> tokens) {
        return tokens.stream().mapToInt(token -> vocab.get(token).intValue()).toArray();
    }

    private ClipTokenizer tiny(boolean sd21Style) {
        Path folder = dir.resolve(sd21Style ? "sd21" : "sd15");
        TinyVocabulary.write(folder, sd21Style);
        return ClipTokenizer.load(folder);
    }

    /** A tokenizer folder with exactly these tokens (id = position) and merges, and model_max_length 8. */
    private Path handWritten(String name, List<String> tokens, List<String> merges, String padToken)
            throws IOException {
        Path folder = Files.createDirectories(dir.resolve(name));
        Map<String, Integer> vocab = new LinkedHashMap<>();
        tokens.forEach(token -> vocab.put(token, vocab.size()));
        JSON.writeValue(folder.resolve("vocab.json").toFile(), vocab);
        Files.writeString(folder.resolve("merges.txt"), "#version: 0.2\n" + String.join("\n", merges) + "\n");
        JSON.writeValue(folder.resolve("special_tokens_map.json").toFile(),
                Map.of("bos_token", START, "eos_token", END, "unk_token", END, "pad_token", padToken));
        JSON.writeValue(folder.resolve("tokenizer_config.json").toFile(),
                Map.of("model_max_length", 8, "tokenizer_class", "CLIPTokenizer"));
        return folder;
    }

    /** GPT-2's bytes_to_unicode, inverted: printable Latin-1 stands for itself, other bytes from U+0100 on. */
    private static int gpt2ByteOf(char symbol) {
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            int code = printable ? b : next++;
            if (code == symbol) {
                return b;
            }
        }
        throw new AssertionError("not a byte symbol: " + symbol);
    }
}
