package dev.oneway.engine;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.engine.model.Safetensors;
import dev.oneway.engine.model.SafetensorsWriter;
import dev.oneway.engine.model.TensorType;
import dev.oneway.engine.tiny.TinyModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A broken model folder never loads half-silently: the error names the file, the key and what was expected. */
class BadModelFolderTest {

    @TempDir
    static Path root;
    static Path good;

    @BeforeAll
    static void writeGoodModel() {
        good = TinyModels.write(root.resolve("good"), TinyModels.Variant.SD15);
    }

    static Path copy(String name) throws IOException {
        Path target = root.resolve(name);
        try (Stream<Path> files = Files.walk(good)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path dest = target.resolve(good.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest);
                }
            }
        }
        return target;
    }

    static ModelException loadFails(Path dir) {
        return assertThrows(ModelException.class, () -> TiueEngine.load(dir, EngineOptions.defaults()).close());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "model_index.json", "scheduler/scheduler_config.json",
        "tokenizer/vocab.json", "tokenizer/merges.txt", "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json",
        "text_encoder/config.json", "text_encoder/model.safetensors",
        "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
        "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
        "vae_tiny/config.json", "vae_tiny/diffusion_pytorch_model.safetensors"})
    void eachMissingFileIsNamed(String file) throws IOException {
        Path dir = copy("missing-" + file.replace('/', '-'));
        Files.delete(dir.resolve(file));
        ModelException e = loadFails(dir);
        String name = file.substring(file.indexOf('/') + 1);
        assertTrue(e.getMessage().contains(name)
                && (e.getMessage().contains("not found") || e.getMessage().contains("is missing")), e.getMessage());
    }

    @Test
    void aTaesdThatDoesNotFitTheVaesLatentsIsRefusedByName() throws IOException {
        Path dir = copy("taesd-latents");
        Path config = dir.resolve("vae_tiny/config.json");
        Files.writeString(config, Files.readString(config).replace("\"latent_channels\" : 4", "\"latent_channels\" : 16"));

        ModelException e = loadFails(dir);

        assertTrue(e.getMessage().contains("vae_tiny/config.json") && e.getMessage().contains("latent_channels is 16"),
                e.getMessage());
    }

    @Test
    void aMissingTensorIsNamedWithItsExpectedShape() throws IOException {
        Path dir = copy("missing-tensor");
        Path file = dir.resolve("unet/diffusion_pytorch_model.safetensors");
        Map<String, SafetensorsWriter.Tensor> kept = new LinkedHashMap<>();
        try (Safetensors st = Safetensors.open(file)) {
            st.tensors().forEach((name, info) -> {
                if (!name.equals("mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight")) {
                    kept.put(name, new SafetensorsWriter.Tensor(st.readFloats(name), info.shape()));
                }
            });
        }
        SafetensorsWriter.write(file, kept, TensorType.F32);
        ModelException e = loadFails(dir);
        assertTrue(e.getMessage().contains("missing tensor 'mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight'")
                && e.getMessage().contains("[64, 32]") && e.getMessage().contains("diffusion_pytorch_model.safetensors"),
                e.getMessage());
    }

    @Test
    void weightsThatDisagreeWithTheConfigAreAWrongShape() throws IOException {
        Path dir = copy("wrong-shape");
        Path config = dir.resolve("unet/config.json");
        Files.writeString(config, Files.readString(config).replace("\"block_out_channels\" : [ 32, 64 ]",
                "\"block_out_channels\" : [ 32, 48 ]"));
        ModelException e = loadFails(dir);
        assertTrue(e.getMessage().contains("has shape") && e.getMessage().contains("expected")
                && e.getMessage().contains("from unet/config.json"), e.getMessage());
    }

    @Test
    void anUnsupportedBlockTypeIsRefusedByName() throws IOException {
        Path dir = copy("unsupported");
        Path config = dir.resolve("unet/config.json");
        Files.writeString(config, Files.readString(config).replace("\"CrossAttnDownBlock2D\"", "\"SimpleCrossAttnDownBlock2D\""));
        ModelException e = loadFails(dir);
        assertTrue(e.getMessage().contains("unet/config.json") && e.getMessage().contains("SimpleCrossAttnDownBlock2D"),
                e.getMessage());
    }

    @Test
    void aConfigThatIsNotJsonIsNamed() throws IOException {
        Path dir = copy("bad-json");
        Files.writeString(dir.resolve("vae/config.json"), "{\"latent_channels\": 4,");
        ModelException e = loadFails(dir);
        assertTrue(e.getMessage().contains("vae/config.json") && e.getMessage().contains("not valid JSON"), e.getMessage());
    }
}
