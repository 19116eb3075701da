package dev.oneway.engine.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import dev.oneway.engine.model.ModelConfig;
import dev.oneway.engine.model.Weights;
import dev.oneway.engine.nn.LayerNorm;
import dev.oneway.engine.nn.Linear;
import dev.oneway.engine.nn.Ops;
import java.util.ArrayList;
import java.util.List;

/**
 * transformers' CLIPTextModel up to last_hidden_state: token + position embeddings, pre-norm
 * transformer layers with a causal mask, final layer norm. Weight keys: text_model.*.
 */
public final class ClipTextModel {

    /** text_encoder/config.json. */
    public record Config(int vocabSize, int hiddenSize, int intermediateSize, int heads, int layers,
                         int maxPositions, String hiddenAct, double layerNormEps) {
        public static Config read(ModelConfig c) {
            return new Config(
                    c.getInt("vocab_size"),
                    c.getInt("hidden_size"),
                    c.getInt("intermediate_size"),
                    c.getInt("num_attention_heads"),
                    c.getInt("num_hidden_layers"),
                    c.getInt("max_position_embeddings"),
                    c.getChoice("hidden_act", "quick_gelu", "quick_gelu", "gelu"),
                    c.getDouble("layer_norm_eps", 1e-5));
        }
    }

    record SelfAttention(Linear q_proj, Linear k_proj, Linear v_proj, Linear out_proj, int heads) {
        static SelfAttention load(Weights w, Config c) {
            int d = c.hiddenSize();
            return new SelfAttention(Linear.load(w.at("q_proj"), d, d), Linear.load(w.at("k_proj"), d, d),
                    Linear.load(w.at("v_proj"), d, d), Linear.load(w.at("out_proj"), d, d), c.heads());
        }

        NDArray forward(NDArray x, NDArray causalMask) {
            return out_proj.forward(Ops.attention(q_proj.forward(x), k_proj.forward(x), v_proj.forward(x), heads, causalMask));
        }
    }

    record Mlp(Linear fc1, Linear fc2, String act) {
        NDArray forward(NDArray x) {
            return fc2.forward(Ops.activation(act, fc1.forward(x)));
        }
    }

    record EncoderLayer(LayerNorm layer_norm1, SelfAttention self_attn, LayerNorm layer_norm2, Mlp mlp) {
        static EncoderLayer load(Weights w, Config c) {
            return new EncoderLayer(
                    LayerNorm.load(w.at("layer_norm1"), c.hiddenSize(), c.layerNormEps()),
                    SelfAttention.load(w.at("self_attn"), c),
                    LayerNorm.load(w.at("layer_norm2"), c.hiddenSize(), c.layerNormEps()),
                    new Mlp(Linear.load(w.at("mlp").at("fc1"), c.hiddenSize(), c.intermediateSize()),
                            Linear.load(w.at("mlp").at("fc2"), c.intermediateSize(), c.hiddenSize()), c.hiddenAct()));
        }

        NDArray forward(NDArray h, NDArray causalMask) {
            return Ops.scoped(() -> {
                NDArray x = h.add(self_attn.forward(layer_norm1.forward(h), causalMask));
                return x.addi(mlp.forward(layer_norm2.forward(x)));
            });
        }
    }

    private final Config config;
    private final NDArray tokenEmbedding;
    private final NDArray positionEmbedding;
    private final List<EncoderLayer> layers;
    private final LayerNorm finalLayerNorm;

    public ClipTextModel(Config config, Weights weights) {
        this.config = config;
        Weights text = weights.at("text_model");
        Weights embeddings = text.at("embeddings");
        this.tokenEmbedding = embeddings.at("token_embedding").get("weight", config.vocabSize(), config.hiddenSize());
        this.positionEmbedding = embeddings.at("position_embedding").get("weight", config.maxPositions(), config.hiddenSize());
        this.layers = new ArrayList<>();
        for (int i = 0; i < config.layers(); i++) {
            layers.add(EncoderLayer.load(text.at("encoder").at("layers").at(i), config));
        }
        this.finalLayerNorm = LayerNorm.load(text.at("final_layer_norm"), config.hiddenSize(), config.layerNormEps());
    }

    public Config config() {
        return config;
    }

    /** ids [B, L] (int64) -> last_hidden_state [B, L, hidden]. */
    public NDArray forward(NDArray ids) {
        return Ops.scoped(() -> {
            long length = ids.getShape().get(1);
            NDArray tokens = ids.getNDArrayInternal().embedding(ids, tokenEmbedding, SparseFormat.DENSE).singletonOrThrow();
            NDArray h = tokens.add(positionEmbedding.get(new NDIndex("0:{}", length)));
            NDArray mask = causalMask(ids.getManager(), length, h.getDataType());
            for (EncoderLayer layer : layers) {
                h = layer.forward(h, mask);
            }
            return finalLayerNorm.forward(h);
        });
    }

    /** -inf-like above the diagonal so each token sees only itself and earlier tokens. */
    private static NDArray causalMask(NDManager manager, long length, DataType dtype) {
        float[] mask = new float[(int) (length * length)];
        float blocked = dtype == DataType.FLOAT16 ? -65504f : -3.4028235e38f;
        for (int i = 0; i < length; i++) {
            for (int j = i + 1; j < length; j++) {
                mask[(int) (i * length + j)] = blocked;
            }
        }
        return manager.create(mask, new Shape(1, 1, length, length)).toDevice(manager.getDevice(), false).toType(dtype, false);
    }
}
