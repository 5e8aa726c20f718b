package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cudnn.cudnn_h;
import dev.isthmus.device.NativeException;
import dev.isthmus.tensor.Shape;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** cuDNN status checks and descriptor helpers for the CUDA device's plans. */
final class Cudnn {
    private Cudnn() {
    }

    static void check(int status, String operation) {
        if (status != 0) {
            String text;
            try {
                text = cudnn_h.cudnnGetErrorString(status).reinterpret(256).getString(0);
            } catch (RuntimeException | LinkageError unavailable) {
                text = "cuDNN status " + status;
            }
            throw new NativeException("cuDNN", operation, status, text, hint(status));
        }
    }

    private static String hint(int status) {
        return switch (status) {
            case 2000, 2001 -> "a shape or setting cuDNN does not support";
            case 4000 -> "the GPU failed (out of memory or a bad launch); ISTHMUS_CUDA_SYNC=1 names the operation";
            default -> "see cuDNN's documentation of cudnnStatus_t";
        };
    }

    /** A new tensor descriptor of a row-major [N, C, H, W] (lower ranks padded with 1s at the end). */
    static MemorySegment tensor(Arena arena, Shape shape) {
        int[] d = {1, 1, 1, 1};
        for (int i = 0; i < Math.min(4, shape.rank()); i++) {
            d[i] = shape.dim(i);
        }
        if (shape.rank() > 4) {
            throw new IllegalArgumentException("cuda: tensors of rank " + shape.rank() + " are not supported by cuDNN here");
        }
        return tensor(arena, d[0], d[1], d[2], d[3]);
    }

    static MemorySegment tensor(Arena arena, int n, int c, int h, int w) {
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        check(cudnn_h.cudnnCreateTensorDescriptor(out), "cudnnCreateTensorDescriptor");
        MemorySegment desc = out.get(ValueLayout.ADDRESS, 0);
        check(cudnn_h.cudnnSetTensor4dDescriptor(desc, cudnn_h.CUDNN_TENSOR_NCHW(), cudnn_h.CUDNN_DATA_FLOAT(), n, c, h, w),
                "cudnnSetTensor4dDescriptor");
        return desc;
    }

    /** [N, C, inner, 1]: the view cuDNN's per-channel operations need of an [N, C, ...] tensor. */
    static MemorySegment channelView(Arena arena, Shape shape) {
        int inner = (int) (shape.elementCount() / Math.max(1, (long) shape.dim(0) * shape.dim(1)));
        return tensor(arena, shape.dim(0), shape.dim(1), inner, 1);
    }

    static void destroyTensor(MemorySegment desc) {
        if (desc != null) {
            cudnn_h.cudnnDestroyTensorDescriptor(desc);
        }
    }
}
