package dev.isthmus.device;

import dev.isthmus.bindings.NativeLibrary;
import dev.isthmus.bindings.NativeLibraryException;
import dev.isthmus.device.cuda.CudaDriver;
import dev.isthmus.device.cuda.CudaHandleProbe;

/** Whether this machine can run the CUDA device, and if not, exactly why. */
final class CudaSupport {
    private CudaSupport() {
    }

    /**
     * Null when a GPU, the driver, cuBLAS and cuDNN are all usable (both can make a handle on
     * cuda:0); otherwise the first reason they are not.
     */
    static String unavailableReason() {
        try {
            CudaDriver.initialize();
            if (CudaDriver.deviceCount() == 0) {
                return "the CUDA driver reports no GPU";
            }
            NativeLibrary.CUBLAS.load();
            NativeLibrary.CUDNN.load();
            return CudaHandleProbe.on(0).failure();
        } catch (NativeLibraryException missing) {
            return missing.library().displayName() + " not found (" + missing.attempts().size()
                    + " places tried; `isthmus info` lists them)";
        } catch (RuntimeException | LinkageError broken) {
            return broken.getMessage();
        }
    }

    static Device open(int index) {
        dev.isthmus.bindings.NativeAccess.require(CudaSupport.class.getModule(), "opening cuda:" + index);
        String why = unavailableReason();
        if (why != null) {
            throw new IllegalStateException("cuda:" + index + " is unavailable: " + why);
        }
        return new dev.isthmus.device.cuda.CudaDevice(index);
    }
}
