package dev.oneway.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.oneway.engine.model.ModelConfig;
import dev.oneway.engine.model.Safetensors;
import dev.oneway.engine.tiny.TinyModels;
import dev.oneway.engine.unet.UNetConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class UNetOpsTest {

    @ParameterizedTest
    @EnumSource(TinyModels.Variant.class)
    void walkHasOneOpPerConvolutionAndProjectionWeightOfTheCheckpoint(TinyModels.Variant variant) {
        Path model = TinyModels.cached(variant);
        UNetConfig config = UNetConfig.read(ModelConfig.read(model, "unet/config.json"));
        List<UNetOps.Op> pass = new ArrayList<>(UNetOps.encoder(config, 1, 8, 8));
        pass.addAll(UNetOps.decoder(config, 1, 8, 8));

        Path file = model.resolve("unet/diffusion_pytorch_model.safetensors");
        if (!Files.exists(file)) {
            file = model.resolve("unet/diffusion_pytorch_model.fp16.safetensors");
        }
        long convWeights;
        long linearWeights;
        try (Safetensors weights = Safetensors.open(file)) {
            convWeights = weights.tensors().values().stream()
                    .filter(t -> t.name().endsWith(".weight") && t.shape().length == 4).count();
            // the time embedding MLP and each resnet's time projection are not counted by the walk
            linearWeights = weights.tensors().values().stream()
                    .filter(t -> t.name().endsWith(".weight") && t.shape().length == 2)
                    .filter(t -> !t.name().startsWith("time_embedding.") && !t.name().contains("time_emb_proj"))
                    .count();
        }
        assertEquals(convWeights, pass.stream().filter(op -> op.kind() == UNetOps.Kind.CONV).count());
        assertEquals(linearWeights, pass.stream().filter(op -> op.kind() == UNetOps.Kind.LINEAR).count());
    }

    @Test
    void flopsCountMultiplyAddsTwiceAndScaleWithRows() {
        UNetOps.Op conv = new UNetOps.Op(UNetOps.Kind.CONV, "x", new long[] {2, 3, 5, 3, 2, 8, 8});
        assertEquals(2.0 * 2 * 3 * 5 * 9 * 4 * 4, conv.flops());
        UNetOps.Op attention = new UNetOps.Op(UNetOps.Kind.ATTENTION, "x", new long[] {1, 8, 64, 77, 40});
        assertEquals(2 * (2.0 * 8 * 64 * 77 * 40), attention.flops());

        UNetConfig config = UNetConfig.read(ModelConfig.read(TinyModels.cached(TinyModels.Variant.SD15), "unet/config.json"));
        assertEquals(4 * UNetOps.flops(UNetOps.decoder(config, 1, 8, 8)), UNetOps.flops(UNetOps.decoder(config, 4, 8, 8)), 1e-3);
    }
}
