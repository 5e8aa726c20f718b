package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cublas.cublas_h;
import dev.isthmus.bindings.cuda.cuda_h;
import dev.isthmus.bindings.cudnn.cudnn_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * Creates a cuBLAS and a cuDNN handle on a GPU and destroys them again. A broken installation (a
 * library built for a newer CUDA than the driver, a cuDNN whose sub-libraries are missing, a GPU
 * the library has no kernels for) loads without complaint and fails only here, so that
 * {@code isthmus info} and {@code auto} report it instead of a half-built device. Done once per GPU
 * per process; the calling thread's current context is left as it was.
 */
public final class CudaHandleProbe {
    /**
     * What became of each handle: null when it was created and destroyed, else why not.
     *
     * @param cublas the cuBLAS handle's failure, or null
     * @param cudnn  the cuDNN handle's failure, or null
     */
    public record Outcome(String cublas, String cudnn) {
        /** The first failure, or null when both handles work. */
        public String failure() {
            return cublas != null ? cublas : cudnn;
        }
    }

    private static final Map<Integer, Outcome> OUTCOMES = new HashMap<>();

    private CudaHandleProbe() {
    }

    /** The outcome on {@code cuda:ordinal}; the driver must be initialised and the libraries loaded. */
    public static synchronized Outcome on(int ordinal) {
        return OUTCOMES.computeIfAbsent(ordinal, CudaHandleProbe::probe);
    }

    private static Outcome probe(int ordinal) {
        BuildUndo undo = new BuildUndo();
        try (Arena arena = Arena.ofConfined()) {
            int device = CudaDriver.device(ordinal);
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            CudaDriver.check(cuda_h.cuCtxGetCurrent(out), "cuCtxGetCurrent");
            MemorySegment previous = out.get(ValueLayout.ADDRESS, 0);
            undo.push("restore the thread's context", () -> cuda_h.cuCtxSetCurrent(previous));
            CudaDriver.check(cuda_h.cuDevicePrimaryCtxRetain(out, device), "cuDevicePrimaryCtxRetain");
            MemorySegment context = out.get(ValueLayout.ADDRESS, 0);
            undo.push("cuDevicePrimaryCtxRelease", () -> cuda_h.cuDevicePrimaryCtxRelease_v2(device));
            CudaDriver.check(cuda_h.cuCtxSetCurrent(context), "cuCtxSetCurrent");
            String cublas = null;
            try {
                Cublas.check(cublas_h.cublasCreate_v2(out), "cublasCreate (probe on cuda:" + ordinal + ")");
                MemorySegment handle = out.get(ValueLayout.ADDRESS, 0);
                Cublas.check(cublas_h.cublasDestroy_v2(handle), "cublasDestroy (probe on cuda:" + ordinal + ")");
            } catch (RuntimeException | LinkageError failed) {
                cublas = describe(failed);
            }
            String cudnn = null;
            try {
                Cudnn.check(cudnn_h.cudnnCreate(out), "cudnnCreate (probe on cuda:" + ordinal + ")");
                MemorySegment handle = out.get(ValueLayout.ADDRESS, 0);
                Cudnn.check(cudnn_h.cudnnDestroy(handle), "cudnnDestroy (probe on cuda:" + ordinal + ")");
            } catch (RuntimeException | LinkageError failed) {
                cudnn = describe(failed);
            }
            undo.undoAll();
            return new Outcome(cublas, cudnn);
        } catch (RuntimeException | LinkageError failed) {
            undo.undoAll(failed);
            String why = describe(failed);
            return new Outcome(why, why);
        }
    }

    private static String describe(Throwable failed) {
        return failed.getMessage() != null ? failed.getMessage() : failed.toString();
    }
}
