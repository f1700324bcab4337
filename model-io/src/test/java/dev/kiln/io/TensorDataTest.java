package dev.kiln.io;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorDataTest {
    private static TensorData shorts(ElementType type, int... bits) {
        byte[] b = new byte[2 * bits.length];
        for (int i = 0; i < bits.length; i++) {
            b[2 * i] = (byte) bits[i];
            b[2 * i + 1] = (byte) (bits[i] >> 8);
        }
        return TensorData.ofBytes(type, new int[] {bits.length}, b);
    }

    @Test
    void halfPrecisionWidensExactly() {
        float[] f = shorts(ElementType.F16, 0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x3555).toFloats();
        assertArrayEquals(new float[] {1f, -2f, 65504f, 0x1p-24f, -0f, Float.POSITIVE_INFINITY, 0.33325195f}, f);
        assertTrue(Float.isNaN(shorts(ElementType.F16, 0x7e00).toFloats()[0]));
    }

    @Test
    void bfloat16WidensExactly() {
        assertArrayEquals(new float[] {1f, -2f, 3.140625f}, shorts(ElementType.BF16, 0x3f80, 0xc000, 0x4049).toFloats());
    }

    @Test
    void conversionsAndChecks() {
        TensorData d = TensorData.ofDoubles(new int[] {2}, new double[] {0.5, 1e300});
        assertArrayEquals(new float[] {0.5f, Float.POSITIVE_INFINITY}, d.toFloats());
        TensorData l = TensorData.ofLongs(new int[] {2}, new long[] {3, 1L << 40});
        assertArrayEquals(new float[] {3f, (float) (1L << 40)}, l.toFloats());
        assertThrows(ArithmeticException.class, l::toInts);
        assertThrows(IllegalStateException.class, d::toLongs);
        assertThrows(IllegalArgumentException.class, () -> TensorData.ofFloats(new int[] {3}, new float[2]));
        assertThrows(IllegalArgumentException.class, () -> TensorData.ofFloats(new int[] {-1}, new float[0]));
        assertEquals(TensorData.ofInts(new int[] {1}, new int[] {5}), TensorData.ofInts(new int[] {1}, new int[] {5}));
    }

    @Test
    void permuteMovesDimensions() {
        TensorData t = TensorData.ofInts(new int[] {2, 3}, new int[] {0, 1, 2, 3, 4, 5});
        TensorData p = Permute.permute(t, 1, 0);
        assertArrayEquals(new int[] {3, 2}, p.shape());
        assertArrayEquals(new int[] {0, 3, 1, 4, 2, 5}, p.toInts());
        assertThrows(IllegalArgumentException.class, () -> Permute.permute(t, 0, 0));
    }
}
