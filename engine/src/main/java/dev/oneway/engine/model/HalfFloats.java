package dev.oneway.engine.model;

/**
 * IEEE half and bfloat16 conversions. DJL cannot create BF16 arrays (the JVM aborts), so bf16 weights
 * are widened here; the writer narrows for test fixtures and generated models.
 */
public final class HalfFloats {
    private HalfFloats() { }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** Round to nearest even, as PyTorch does when casting to bfloat16. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) 0x7fc0;
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float f16ToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            // subnormal: value = mant * 2^-24
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** Round to nearest even; overflow goes to infinity like a hardware cast. */
    public static short floatToF16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        float abs = Math.abs(value);
        if (Float.isNaN(value)) {
            return (short) (sign | 0x7e00);
        }
        if (abs >= 65520f) {
            return (short) (sign | 0x7c00);
        }
        if (abs < 0x1p-14f) {
            // subnormal half: multiples of 2^-24, rounded to nearest even
            int mant = Math.round(abs * 0x1p24f);
            if (Math.abs(abs * 0x1p24f - Math.floor(abs * 0x1p24f) - 0.5f) == 0f && (mant & 1) == 1) {
                mant -= 1;
            }
            return (short) (sign | mant);
        }
        int exp = ((bits >>> 23) & 0xff) - 127 + 15;
        int mant = bits & 0x7fffff;
        int halfMant = mant >>> 13;
        int rest = mant & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (halfMant & 1) == 1)) {
            halfMant++;
            if (halfMant == 0x400) {
                halfMant = 0;
                exp++;
            }
        }
        return (short) (sign | (exp << 10) | halfMant);
    }
}
