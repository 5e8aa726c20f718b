package dev.isthmus.device.cpu;

import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Which kernels oneDNN runs BF16 convolutions with on this CPU, asked of oneDNN itself: the
 * implementation name of a small BF16 primitive descriptor ({@code jit:avx512_core_bf16},
 * {@code brgconv:avx512_core_amx}, ...) is the ISA it dispatched to. The committed bindings lack
 * {@code dnnl_get_effective_cpu_isa}, and this answers the question that matters more: which
 * kernel a BF16 convolution gets. BF16 is used only where that kernel uses BF16 instructions
 * (AVX-512 BF16 or AMX); elsewhere oneDNN emulates BF16 with F32 arithmetic plus conversions,
 * which is slower than plain F32, so mixed precision is refused with the reason.
 */
final class DnnlLowPrecision {
    private final DnnlRuntime dnnl;
    private String bf16Implementation;
    private String f32Implementation;

    DnnlLowPrecision(DnnlRuntime dnnl) {
        this.dnnl = dnnl;
    }

    /** The implementation oneDNN picks for a channels-last 3×3 training convolution on {@code dtype} operands. */
    synchronized String convolutionImplementation(DType dtype) {
        if (dtype == DType.BF16) {
            if (bf16Implementation == null) {
                bf16Implementation = probe(DType.BF16);
            }
            return bf16Implementation;
        }
        if (f32Implementation == null) {
            f32Implementation = probe(DType.F32);
        }
        return f32Implementation;
    }

    private String probe(DType dtype) {
        Shape input = Shape.of(16, 32, 16, 16);
        Shape output = Shape.of(16, 32, 16, 16);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment desc = DnnlRuntime.operationDescriptor(arena);
            MemorySegment src = dnnl.descriptor(arena, input, Layout.CHANNELS_LAST, dtype);
            MemorySegment dst = dnnl.descriptor(arena, output, Layout.CHANNELS_LAST, DType.F32);
            MemorySegment weights = dnnl.descriptor(arena, new int[] {32, 32, 3, 3}, dnnl_h.dnnl_format_tag_any(), dtype);
            int status = dnnl_h.dnnl_dilated_convolution_forward_desc_init(desc, dnnl_h.dnnl_forward_training(),
                    dnnl_h.dnnl_convolution_direct(), src, weights, MemorySegment.NULL, dst, DnnlRuntime.dims(arena, 1, 1),
                    DnnlRuntime.dims(arena, 0, 0), DnnlRuntime.dims(arena, 1, 1), DnnlRuntime.dims(arena, 1, 1));
            DnnlRuntime.check(status, "dnnl_dilated_convolution_forward_desc_init (" + dtype + " probe)");
            MemorySegment out = arena.allocate(java.lang.foreign.ValueLayout.ADDRESS);
            status = dnnl_h.dnnl_primitive_desc_create(out, desc, dnnl.plainAttributes(), dnnl.engine(), MemorySegment.NULL);
            if (status != dnnl_h.dnnl_success()) {
                return "none (oneDNN status " + status + ")";
            }
            MemorySegment primitiveDesc = out.get(java.lang.foreign.ValueLayout.ADDRESS, 0);
            try {
                MemorySegment name = arena.allocate(java.lang.foreign.ValueLayout.ADDRESS);
                DnnlRuntime.check(dnnl_h.dnnl_primitive_desc_query(primitiveDesc, dnnl_h.dnnl_query_impl_info_str(), 0, name),
                        "dnnl_primitive_desc_query(impl_info_str)");
                return name.get(java.lang.foreign.ValueLayout.ADDRESS, 0).reinterpret(256).getString(0);
            } finally {
                dnnl_h.dnnl_primitive_desc_destroy(primitiveDesc);
            }
        }
    }

    /** Whether an implementation name is a kernel with BF16 instructions (AVX-512 BF16 or AMX), not an emulation or reference. */
    static boolean usesBf16Instructions(String implementation) {
        String name = implementation.toLowerCase(Locale.ROOT);
        return name.contains("amx") || name.contains("avx512_core_bf16") || name.contains("avx2_vnni_2")
                || name.contains("avx512_core_fp16");
    }

    /** The CPU feature flags the kernel reports (Linux), for messages; empty where unreadable. */
    static String cpuFlags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException unreadable) {
            return "";
        }
        return "";
    }

    /** Null when BF16 convolutions get BF16 kernels here; else the reason mixed precision is refused. */
    String whyNot(DType dtype) {
        if (dtype == DType.F16) {
            return "oneDNN 2.x has no F16 training kernels for CPUs (fp16 with loss scaling is for GPUs); use --precision bf16";
        }
        String implementation = convolutionImplementation(DType.BF16);
        if (usesBf16Instructions(implementation)) {
            return null;
        }
        String flags = " " + cpuFlags() + " ";
        String has = (flags.contains(" avx512_bf16 ") ? "avx512_bf16 " : "") + (flags.contains(" amx_bf16 ") ? "amx_bf16" : "");
        return "this CPU has no BF16 instructions that oneDNN uses (it picks " + implementation + " for a BF16 convolution; "
                + "CPU flags: " + (has.isBlank() ? "no avx512_bf16, no amx_bf16" : has.trim() + ", limited by DNNL_MAX_CPU_ISA?")
                + "): BF16 would be emulated with F32 arithmetic plus conversions, slower than F32 itself, so it is not offered;"
                + " use --precision fp32";
    }
}
