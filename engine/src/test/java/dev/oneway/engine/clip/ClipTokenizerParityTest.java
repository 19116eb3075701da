package dev.oneway.engine.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.oneway.engine.tiny.TinyVocabulary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Token ids against transformers' CLIPTokenizer on the generated tiny tokenizer folders, from
 * src/test/resources/parity/tokenizer-cases.json (written by tools/parity/make_tokenizer_fixtures.py): decomposed
 * accents, SD2.x's pad token "!" split out before BPE, literal special tokens, case and whitespace folding.
 */
class ClipTokenizerParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path PARITY = Path.of("src/test/resources/parity").toAbsolutePath();

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd15", "tiny-sd21"})
    void everyPromptGetsTheIdsTransformersGives(String variant) throws IOException {
        ClipTokenizer tokenizer = ClipTokenizer.load(PARITY.resolve(variant).resolve("tokenizer"));
        JsonNode cases = JSON.readTree(PARITY.resolve("tokenizer-cases.json").toFile()).get(variant);
        assertTrue(cases.size() >= 20, "fixture cases: " + cases.size());

        for (JsonNode testCase : cases) {
            String prompt = testCase.get("prompt").textValue();
            int[] expected = JSON.treeToValue(testCase.get("ids"), int[].class);
            assertArrayEquals(expected, tokenizer.encode(prompt), variant + ": " + JSON.writeValueAsString(prompt));
        }
    }

    @Test
    void aDecomposedAccentGetsTheIdsOfTheComposedOne() {
        ClipTokenizer tokenizer = ClipTokenizer.load(PARITY.resolve("tiny-sd15/tokenizer"));

        assertArrayEquals(tokenizer.encode("Caf\u00e9"), tokenizer.encode("Cafe\u0301"));
    }

    @Test
    void sd2xStyleSplitsItsPadTokenOutBeforeBpeAndSd15StyleMergesIt() {
        ClipTokenizer sd21 = ClipTokenizer.load(PARITY.resolve("tiny-sd21/tokenizer"));
        ClipTokenizer sd15 = ClipTokenizer.load(PARITY.resolve("tiny-sd15/tokenizer"));

        assertEquals(List.of("f", "o", "x</w>", "!", "!", "!"), sd21.tokenize("fox!!!"));
        assertEquals(List.of("f", "o", "x</w>", "!", "!", "!</w>"), sd15.tokenize("fox!!!"));
    }

    @Test
    void aLiteralEndTokenIsTheEndTokenAndOnlyAnExactMatchIsWhereItIsNotNormalized() {
        ClipTokenizer sd15 = ClipTokenizer.load(PARITY.resolve("tiny-sd15/tokenizer"));
        ClipTokenizer sd21 = ClipTokenizer.load(PARITY.resolve("tiny-sd21/tokenizer"));

        assertEquals(List.of("a</w>", "cat</w>", "<|endoftext|>", "dog</w>"), sd15.tokenize("a cat<|endoftext|>dog"));
        // SD1.5 names its pad token as a plain string, which makes the end token match only as written;
        // the upper-case spelling is then cut by the byte-level pattern into "<|", "endoftext", "|>".
        assertEquals("<", sd15.tokenize("<|ENDOFTEXT|>").get(0));
        assertEquals(List.of("<|endoftext|>"), sd21.tokenize("<|ENDOFTEXT|>"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd15", "tiny-sd21"})
    void theCommittedTokenizerFoldersAreWhatTheGeneratorWritesToday(String variant) throws IOException {
        TinyVocabulary.write(dir, variant.equals("tiny-sd21"));

        for (String file : List.of("vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json")) {
            assertArrayEquals(Files.readAllBytes(PARITY.resolve(variant).resolve("tokenizer").resolve(file)),
                    Files.readAllBytes(dir.resolve(file)), variant + "/" + file);
        }
    }
}
