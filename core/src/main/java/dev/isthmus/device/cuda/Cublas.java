package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cublas.cublas_h;
import dev.isthmus.device.NativeException;

/** cuBLAS status checks. */
final class Cublas {
    private Cublas() {
    }

    static void check(int status, String operation) {
        if (status != 0) {
            String name;
            String text;
            try {
                name = cublas_h.cublasGetStatusName(status).reinterpret(128).getString(0);
                text = cublas_h.cublasGetStatusString(status).reinterpret(256).getString(0);
            } catch (RuntimeException | LinkageError unavailable) {
                name = "CUBLAS_STATUS " + status;
                text = "see cuBLAS's documentation of cublasStatus_t";
            }
            throw new NativeException("cuBLAS", operation, status, name, text);
        }
    }
}
