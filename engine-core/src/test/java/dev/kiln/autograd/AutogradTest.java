package dev.kiln.autograd;

import dev.kiln.ops.Ops;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AutogradTest {

    @Test
    void leafGradientsAccumulateAcrossPassesUntilZeroed() {
        Tensor w = Tensor.of(new float[]{1, 2, 3}, 3).setRequiresGrad(true);
        Tensor upstream = Tensor.of(new float[]{1, 1, 1}, 3);
        Autograd.backward(Ops.add(w, w), upstream);
        assertArrayEquals(new float[]{2, 2, 2}, w.grad().toFloatArray());
        Autograd.backward(Ops.add(w, w), upstream);
        assertArrayEquals(new float[]{4, 4, 4}, w.grad().toFloatArray());
    }

    @Test
    void aVeryDeepGraphNeedsNoDeepStack() {
        Tensor w = Tensor.of(new float[]{0.5f}, 1).setRequiresGrad(true);
        try (MemoryScope ignored = MemoryScope.open()) {
            Tensor h = w;
            for (int i = 0; i < 50_000; i++) h = Ops.relu(h);
            assertEquals(50_000, Autograd.backward(h, Tensor.of(new float[]{1}, 1)));
        }
        assertEquals(1.0f, w.grad().toFloatArray()[0]);
    }

    @Test
    void noGradRecordsNothing() {
        Tensor w = Tensor.of(new float[]{1}, 1).setRequiresGrad(true);
        try (Autograd.NoGrad ignored = Autograd.noGrad()) {
            Tensor y = Ops.relu(w);
            assertTrue(!y.requiresGrad() && y.gradFn() == null);
        }
        assertTrue(Ops.relu(w).requiresGrad());
    }

    @Test
    void backwardNeedsAScalarOrAnExplicitGradient() {
        Tensor w = Tensor.of(new float[]{1, 2}, 2).setRequiresGrad(true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Autograd.backward(Ops.relu(w)));
        assertEquals("backward: loss must have one element, got shape (2,)", e.getMessage());
    }

    @Test
    void aMemoryScopeFreesWhatWasCreatedInside() {
        Tensor kept;
        Tensor inside;
        try (MemoryScope scope = MemoryScope.open()) {
            inside = Tensor.of(new float[]{1, 2}, 2);
            kept = scope.keep(Tensor.of(new float[]{3}, 1));
        }
        assertTrue(inside.isClosed());
        assertEquals(3f, kept.toFloatArray()[0]);
    }

    @Test
    void aStridedViewStillGetsItsGradient() {
        // A leaf that is a transposed (non-contiguous) view: w = [[1, -4], [-2, 5], [3, -6]]
        Tensor w = Tensor.of(new float[]{1, -2, 3, -4, 5, -6}, 2, 3).transpose(0, 1).setRequiresGrad(true);
        Autograd.backward(Ops.relu(w), Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 3, 2));
        // relu passes where w > 0: flat indices 0, 3 and 4 of w's own (3, 2) shape
        assertArrayEquals(new float[]{1, 0, 0, 4, 5, 0}, w.grad().toFloatArray());
    }

    @Test
    void aClosedTensorCannotBeViewedAgain() {
        Tensor t = Tensor.of(new float[]{1, 2}, 2);
        Tensor keep = t.view(1, 2);
        t.close();
        assertThrows(IllegalStateException.class, () -> t.view(2, 1));
        assertEquals(2f, keep.toFloatArray()[1], "the other view keeps the storage");
    }
}
