package dev.oneway.engine.tiny;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generated folders are what diffusers writes and loads: tools/parity/load_in_diffusers.py loads them in
 * DiffusionPipeline (a bare null for an absent component makes it fail with "'NoneType' object is not
 * subscriptable"); these tests pin the shape that made it pass.
 */
class TinyModelsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void modelIndexNamesEachComponentAsALibraryClassPairAndAbsentOnesAsNullPairs() throws IOException {
        Path folder = TinyModels.write(dir.resolve("sd15"), TinyModels.Variant.SD15);
        JsonNode index = JSON.readTree(folder.resolve("model_index.json").toFile());

        assertEquals("StableDiffusionPipeline", index.get("_class_name").textValue());
        Map<String, List<String>> components = Map.of(
                "scheduler", List.of("diffusers", "DDIMScheduler"),
                "text_encoder", List.of("transformers", "CLIPTextModel"),
                "tokenizer", List.of("transformers", "CLIPTokenizer"),
                "unet", List.of("diffusers", "UNet2DConditionModel"),
                "vae", List.of("diffusers", "AutoencoderKL"));
        components.forEach((name, pair) -> {
            assertEquals(JSON.valueToTree(pair), index.get(name), name);
            assertTrue(Files.isDirectory(folder.resolve(name)), name + "/ exists");
        });
        for (String absent : List.of("safety_checker", "feature_extractor", "image_encoder")) {
            JsonNode value = index.get(absent);
            assertTrue(value.isArray() && value.size() == 2 && value.get(0).isNull() && value.get(1).isNull(),
                    absent + " must be [null, null], was " + value);
        }
        assertTrue(index.get("requires_safety_checker").isBoolean());
        List<String> keys = new ArrayList<>();
        index.fieldNames().forEachRemaining(keys::add);
        assertEquals(keys.stream().sorted().toList(), keys, "diffusers writes the keys sorted");
        assertTrue(!index.has("vae_tiny"), "vae_tiny is no StableDiffusionPipeline argument; diffusers ignores the folder");
    }

    @Test
    void generatedFoldersCarryATaesdDecoderInDiffusersLayout() throws IOException {
        Path folder = TinyModels.write(dir.resolve("sd21"), TinyModels.Variant.SD21);
        JsonNode config = JSON.readTree(folder.resolve("vae_tiny/config.json").toFile());

        assertEquals("AutoencoderTiny", config.get("_class_name").textValue());
        assertEquals(1.0, config.get("scaling_factor").doubleValue());
        assertTrue(Files.size(folder.resolve("vae_tiny/diffusion_pytorch_model.safetensors")) > 0);
    }

    @Test
    void theCommittedParityFoldersHoldTodaysModelIndex() throws IOException {
        for (String variant : List.of("tiny-sd15", "tiny-sd21")) {
            Path committed = Path.of("src/test/resources/parity", variant, "model_index.json");
            assertEquals(TinyModels.modelIndex(), JSON.readTree(committed.toFile()), variant);
        }
    }
}
