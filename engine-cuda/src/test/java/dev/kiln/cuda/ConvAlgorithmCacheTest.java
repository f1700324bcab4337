package dev.kiln.cuda;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The algorithm cache's key and lookup; plain Java, so it runs without a GPU. */
class ConvAlgorithmCacheTest {

    @Test
    void alignmentIsTheLargestPowerOfTwoDividingEveryAddressUpToTheCap() {
        assertEquals(256, ConvAlgorithmCache.alignment(0x10000, 0x20100));
        assertEquals(4, ConvAlgorithmCache.alignment(0x10000, 0x10004));
        assertEquals(16, ConvAlgorithmCache.alignment(0x10010, 0x10020, 0x10040));
        assertEquals(256, ConvAlgorithmCache.alignment(1L << 40), "capped");
        assertEquals(64, ConvAlgorithmCache.alignment(0, 0x10040), "a null buffer constrains nothing");
    }

    @Test
    void theSearchRunsOncePerKeyAndAgainForAnotherAlignment() {
        ConvAlgorithmCache cache = new ConvAlgorithmCache();
        AtomicInteger searches = new AtomicInteger();
        ConvAlgorithmCache.Key aligned = key(256), offset = key(4);
        for (int i = 0; i < 3; i++) {
            cache.get(aligned, () -> new ConvAlgorithmCache.Choice(searches.incrementAndGet(), 0, 0));
        }
        assertEquals(1, searches.get());
        ConvAlgorithmCache.Choice other = cache.get(offset,
                () -> new ConvAlgorithmCache.Choice(searches.incrementAndGet(), 0, 0));
        assertEquals(2, other.algorithm(), "a misaligned view gets its own search");
        assertEquals(2, cache.size());
    }

    private static ConvAlgorithmCache.Key key(int alignment) {
        return new ConvAlgorithmCache.Key(ConvAlgorithmCache.Pass.FORWARD, 8, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, false,
                false, alignment);
    }
}
