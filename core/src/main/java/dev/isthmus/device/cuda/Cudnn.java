package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cudnn.cudnn_h;
import dev.isthmus.device.NativeException;
import dev.isthmus.tensor.Shape;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** cuDNN status checks and descriptor helpers for the CUDA device's plans. */
final class Cudnn {
    private static final String BAD_PARAM = "a shape or setting cuDNN does not accept";
    private static final String NOT_SUPPORTED = "a shape, layout or setting this cuDNN does not support on this GPU";
    private static final String INTERNAL = "cuDNN failed inside; ISTHMUS_CUDA_SYNC=1 names the operation";
    private static final String EXECUTION = "the GPU failed (out of memory or a bad launch); ISTHMUS_CUDA_SYNC=1 names the operation";
    private static final String OUT_OF_MEMORY = "cuDNN could not allocate memory; lower the batch size";
    private static final String SUB_LIBRARY = "a cuDNN sub-library (libcudnn_ops, _cnn, _graph, the engines) did not load: "
            + "it must sit beside libcudnn.so with its own dependencies findable; `isthmus info` lists what was loaded";

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

    /**
     * What to do about a cudnnStatus_t. cuDNN 9 numbers its statuses by category, the thousands
     * (CUDNN_STATUS_BAD_PARAM 2000 and its 2xxx details, NOT_SUPPORTED 3000 and 3xxx, INTERNAL_ERROR
     * 4000 and 4xxx, EXECUTION_FAILED 5000 and 5xxx; 1xxx for the library's own state); cuDNN 8
     * numbered them 1 to 14.
     */
    static String hint(int status) {
        if (status < 1000) {
            return cudnn8Hint(status);
        }
        return switch (status) {
            case 1001 -> "cuDNN is not initialised: cudnnCreate failed or the GPU is unusable";
            case 1002 -> "cuDNN's sub-libraries are of different versions: install one cuDNN, or point "
                    + "-Disthmus.library.cudnn at a folder holding a complete one";
            case 1008, 3009 -> SUB_LIBRARY;
            case 3005, 3006 -> "this cuDNN needs a newer CUDA driver or runtime than this machine has";
            case 3007 -> "this cuDNN has no kernels for this GPU's architecture";
            case 4003, 4004 -> OUT_OF_MEMORY;
            default -> switch (status / 1000) {
                case 1 -> "cuDNN is in a bad state; see cuDNN's documentation of cudnnStatus_t";
                case 2 -> BAD_PARAM;
                case 3 -> NOT_SUPPORTED;
                case 4 -> INTERNAL;
                case 5 -> EXECUTION;
                default -> "see cuDNN's documentation of cudnnStatus_t";
            };
        };
    }

    private static String cudnn8Hint(int status) {
        return switch (status) {
            case 1 -> "cuDNN is not initialised: cudnnCreate failed or the GPU is unusable";
            case 2 -> OUT_OF_MEMORY;
            case 3, 5 -> BAD_PARAM;
            case 4 -> INTERNAL;
            case 6 -> "this cuDNN has no kernels for this GPU's architecture";
            case 8 -> EXECUTION;
            case 9 -> NOT_SUPPORTED;
            case 14 -> "cuDNN's sub-libraries are of different versions: install one cuDNN";
            default -> "see cuDNN's documentation of cudnnStatus_t";
        };
    }

    /** A new tensor descriptor of a row-major [N, C, H, W] (lower ranks padded with 1s at the end). */
    /**
     * cudnnDataType_t of {@code dtype}. The committed bindings carry CUDNN_DATA_FLOAT only
     * (bindings/jextract/cudnn.args); CUDNN_DATA_HALF = 2 and CUDNN_DATA_BFLOAT16 = 9 are the
     * values of the same enum in cuDNN 8 and 9 (cudnn_ops_infer.h / cudnn_graph.h), next to
     * CUDNN_DATA_FLOAT = 0, which this checks.
     */
    static int dataType(dev.isthmus.tensor.DType dtype) {
        if (cudnn_h.CUDNN_DATA_FLOAT() != 0) {
            throw new IllegalStateException("cuDNN bindings: CUDNN_DATA_FLOAT is " + cudnn_h.CUDNN_DATA_FLOAT()
                    + ", not 0, so the HALF/BFLOAT16 codes derived from it would be wrong");
        }
        return switch (dtype) {
            case F32 -> cudnn_h.CUDNN_DATA_FLOAT();
            case F16 -> 2;
            case BF16 -> 9;
            case I32 -> throw new IllegalArgumentException("cuDNN tensors of I32 are not used");
        };
    }

    /** As {@link #tensor(Arena, Shape)} with elements of cudnnDataType_t {@code dataType}. */
    static MemorySegment tensor(Arena arena, Shape shape, int dataType) {
        MemorySegment desc = tensor(arena, shape);
        int[] d = {1, 1, 1, 1};
        for (int i = 0; i < Math.min(4, shape.rank()); i++) {
            d[i] = shape.dim(i);
        }
        check(cudnn_h.cudnnSetTensor4dDescriptor(desc, cudnn_h.CUDNN_TENSOR_NCHW(), dataType, d[0], d[1], d[2], d[3]),
                "cudnnSetTensor4dDescriptor");
        return desc;
    }

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

    /**
     * A new descriptor of a packed row-major F32 tensor of {@code shape}, rank 3 to CUDNN_DIM_MAX (8):
     * the N-d form the 3-D convolution and pooling need (cuDNN's N-d tensors have at least 3 dimensions).
     */
    static MemorySegment tensorNd(Arena arena, Shape shape) {
        int rank = shape.rank();
        if (rank < 3 || rank > 8) {
            throw new IllegalArgumentException("cuda: cuDNN N-d tensors have rank 3 to 8, got " + shape);
        }
        MemorySegment dims = arena.allocate(ValueLayout.JAVA_INT, rank);
        MemorySegment strides = arena.allocate(ValueLayout.JAVA_INT, rank);
        long stride = 1;
        for (int i = rank - 1; i >= 0; i--) {
            dims.setAtIndex(ValueLayout.JAVA_INT, i, shape.dim(i));
            strides.setAtIndex(ValueLayout.JAVA_INT, i, Math.toIntExact(stride));
            stride *= Math.max(1, shape.dim(i));
        }
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        check(cudnn_h.cudnnCreateTensorDescriptor(out), "cudnnCreateTensorDescriptor");
        MemorySegment desc = out.get(ValueLayout.ADDRESS, 0);
        try {
            check(cudnn_h.cudnnSetTensorNdDescriptor(desc, cudnn_h.CUDNN_DATA_FLOAT(), rank, dims, strides),
                    "cudnnSetTensorNdDescriptor for " + shape);
        } catch (RuntimeException e) {
            cudnn_h.cudnnDestroyTensorDescriptor(desc);
            throw e;
        }
        return desc;
    }

    /** An int[] copied into {@code arena}, for cuDNN's N-d array arguments. */
    static MemorySegment ints(Arena arena, int... values) {
        return arena.allocateFrom(ValueLayout.JAVA_INT, values);
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
