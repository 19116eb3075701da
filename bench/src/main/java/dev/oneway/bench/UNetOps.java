package dev.oneway.bench;

import dev.oneway.engine.unet.UNetConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The compute ops of one UNet pass, walked from unet/config.json the way the engine builds the network
 * (conv_in, down blocks, mid block, up blocks with concatenated skips, conv_out). FLOPs count a
 * multiply-add as 2: convolutions, linear layers and the two attention matmuls (QK^T, scores x V).
 * Norms, activations, softmax, additions and the tiny time-embedding MLP are not counted.
 */
public final class UNetOps {

    public enum Kind { CONV, LINEAR, ATTENTION, GROUP_NORM, LAYER_NORM }

    /**
     * One op of the pass. dims by kind: CONV {n, cin, cout, kernel, stride, h, w} (input size); LINEAR {rows, in, out};
     * ATTENTION {n, heads, nq, nk, headDim}; GROUP_NORM {n, c, h, w, groups}; LAYER_NORM {rows, c}.
     */
    public record Op(Kind kind, String part, long[] dims) {

        public double flops() {
            return switch (kind) {
                case CONV -> {
                    long outH = dims[5] / dims[4];
                    long outW = dims[6] / dims[4];
                    yield 2.0 * dims[0] * dims[1] * dims[2] * dims[3] * dims[3] * outH * outW;
                }
                case LINEAR -> 2.0 * dims[0] * dims[1] * dims[2];
                case ATTENTION -> 4.0 * dims[0] * dims[1] * dims[2] * dims[3] * dims[4];
                default -> 0;
            };
        }

        /** Ops with equal keys do the same work on the same shapes. */
        public String key() {
            return kind + java.util.Arrays.toString(dims);
        }
    }

    public static final int TEXT_TOKENS = 77;

    private final UNetConfig c;
    private final List<Op> ops = new ArrayList<>();
    private String part;

    private UNetOps(UNetConfig config) {
        this.c = config;
    }

    /** The encoder (conv_in, down blocks, mid block) at n rows of a latent h x w. */
    public static List<Op> encoder(UNetConfig config, int n, int latentH, int latentW) {
        UNetOps walk = new UNetOps(config);
        walk.encode(n, latentH, latentW);
        return walk.ops;
    }

    /** The decoder (up blocks, norm, conv_out) at n rows (K x B for TiUE). */
    public static List<Op> decoder(UNetConfig config, int n, int latentH, int latentW) {
        UNetOps walk = new UNetOps(config);
        walk.decode(n, latentH, latentW);
        return walk.ops;
    }

    public static double flops(List<Op> ops) {
        return ops.stream().mapToDouble(Op::flops).sum();
    }

    private void encode(int n, int h, int w) {
        int[] ch = c.blockOutChannels();
        part = "conv_in";
        conv(n, c.inChannels(), ch[0], 3, 1, h, w);
        for (int i = 0; i < c.blocks(); i++) {
            part = "down_blocks." + i;
            int rh = h >> i;
            int rw = w >> i;
            boolean cross = c.downBlockTypes().get(i).equals(UNetConfig.CROSS_DOWN);
            for (int j = 0; j < c.layersPerBlock(); j++) {
                resnet(n, j == 0 ? (i == 0 ? ch[0] : ch[i - 1]) : ch[i], ch[i], rh, rw);
                if (cross) {
                    transformer(n, ch[i], c.headsPerBlock()[i], rh, rw);
                }
            }
            if (i < c.blocks() - 1) {
                conv(n, ch[i], ch[i], 3, 2, rh, rw);
            }
        }
        part = "mid_block";
        int last = c.blocks() - 1;
        int lh = h >> last;
        int lw = w >> last;
        resnet(n, ch[last], ch[last], lh, lw);
        transformer(n, ch[last], c.headsPerBlock()[last], lh, lw);
        resnet(n, ch[last], ch[last], lh, lw);
    }

    private void decode(int n, int h, int w) {
        int blocks = c.blocks();
        int[] reversed = new int[blocks];
        for (int i = 0; i < blocks; i++) {
            reversed[i] = c.blockOutChannels()[blocks - 1 - i];
        }
        for (int u = 0; u < blocks; u++) {
            part = "up_blocks." + u;
            int rh = h >> (blocks - 1 - u);
            int rw = w >> (blocks - 1 - u);
            int out = reversed[u];
            int prevOut = u == 0 ? reversed[0] : reversed[u - 1];
            int skipIn = reversed[Math.min(u + 1, blocks - 1)];
            boolean cross = c.upBlockTypes().get(u).equals(UNetConfig.CROSS_UP);
            int layers = c.layersPerBlock() + 1;
            for (int j = 0; j < layers; j++) {
                int skip = j == layers - 1 ? skipIn : out;
                resnet(n, (j == 0 ? prevOut : out) + skip, out, rh, rw);
                if (cross) {
                    transformer(n, out, c.headsPerBlock()[blocks - 1 - u], rh, rw);
                }
            }
            if (u < blocks - 1) {
                conv(n, out, out, 3, 1, rh * 2, rw * 2);
            }
        }
        part = "conv_out";
        groupNorm(n, c.blockOutChannels()[0], h, w);
        conv(n, c.blockOutChannels()[0], c.outChannels(), 3, 1, h, w);
    }

    private void resnet(int n, int in, int out, int h, int w) {
        groupNorm(n, in, h, w);
        conv(n, in, out, 3, 1, h, w);
        groupNorm(n, out, h, w);
        conv(n, out, out, 3, 1, h, w);
        if (in != out) {
            conv(n, in, out, 1, 1, h, w);
        }
    }

    private void transformer(int n, int channels, int heads, int h, int w) {
        long tokens = (long) n * h * w;
        int headDim = channels / heads;
        groupNorm(n, channels, h, w);
        if (c.useLinearProjection()) {
            add(Kind.LINEAR, tokens, channels, channels);
        } else {
            conv(n, channels, channels, 1, 1, h, w);
        }
        // attn1: self-attention over the h*w tokens
        add(Kind.LAYER_NORM, tokens, channels);
        for (int p = 0; p < 3; p++) {
            add(Kind.LINEAR, tokens, channels, channels);
        }
        add(Kind.ATTENTION, n, heads, (long) h * w, (long) h * w, headDim);
        add(Kind.LINEAR, tokens, channels, channels);
        // attn2: cross-attention on the text
        add(Kind.LAYER_NORM, tokens, channels);
        add(Kind.LINEAR, tokens, channels, channels);
        add(Kind.LINEAR, (long) n * TEXT_TOKENS, c.crossAttentionDim(), channels);
        add(Kind.LINEAR, (long) n * TEXT_TOKENS, c.crossAttentionDim(), channels);
        add(Kind.ATTENTION, n, heads, (long) h * w, TEXT_TOKENS, headDim);
        add(Kind.LINEAR, tokens, channels, channels);
        // GEGLU feed-forward
        add(Kind.LAYER_NORM, tokens, channels);
        add(Kind.LINEAR, tokens, channels, channels * 8L);
        add(Kind.LINEAR, tokens, channels * 4L, channels);
        if (c.useLinearProjection()) {
            add(Kind.LINEAR, tokens, channels, channels);
        } else {
            conv(n, channels, channels, 1, 1, h, w);
        }
    }

    private void conv(int n, int in, int out, int kernel, int stride, int h, int w) {
        add(Kind.CONV, n, in, out, kernel, stride, h, w);
    }

    private void groupNorm(int n, int channels, int h, int w) {
        add(Kind.GROUP_NORM, n, channels, h, w, c.normNumGroups());
    }

    private void add(Kind kind, long... dims) {
        ops.add(new Op(kind, part, dims));
    }
}
