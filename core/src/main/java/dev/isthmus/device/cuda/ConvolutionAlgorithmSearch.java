package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cudnn.cudnnConvolutionBwdDataAlgoPerfStruct;
import dev.isthmus.bindings.cudnn.cudnnConvolutionBwdFilterAlgoPerfStruct;
import dev.isthmus.bindings.cudnn.cudnnConvolutionFwdAlgoPerfStruct;
import dev.isthmus.bindings.cudnn.cudnn_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The cudnnFind search of the three convolution directions, shared by the 2-D and 3-D plans (the
 * descriptors differ, the search does not): times the candidates on this GPU and picks by
 * {@link AlgorithmChoice#pick}.
 */
final class ConvolutionAlgorithmSearch {
    /** The most workspace an algorithm may ask for (cuDNN's fastest sometimes want gigabytes). */
    static final long WORKSPACE_LIMIT = 512L << 20;
    /** At least each direction's algorithm count (cuDNN 9 has 8 forward, 6 backward-data, 7 backward-filter). */
    private static final int REQUESTED = 8;

    private ConvolutionAlgorithmSearch() {
    }

    /**
     * The three directions' choices for the convolution these descriptors describe.
     *
     * @param what the geometry, for error messages
     */
    static AlgorithmCache.Algorithms find(CudaDevice cuda, boolean allowTensorOps, MemorySegment xDesc, MemorySegment wDesc,
                                          MemorySegment convDesc, MemorySegment yDesc, Object what) {
        // cudnnFind allocates each candidate's workspace itself: memory our cache holds would make
        // it skip the algorithms that need more.
        cuda.releaseCachedMemory();
        AlgorithmChoice.Rules rules = new AlgorithmChoice.Rules(cuda.deterministic(), allowTensorOps, WORKSPACE_LIMIT);
        MemorySegment handle = cuda.cudnn();
        try (Arena search = Arena.ofConfined()) {
            MemorySegment count = search.allocate(ValueLayout.JAVA_INT);
            MemoryLayout fwdLayout = cudnnConvolutionFwdAlgoPerfStruct.layout();
            MemorySegment fwd = search.allocate(fwdLayout, REQUESTED);
            Cudnn.check(cudnn_h.cudnnFindConvolutionForwardAlgorithm(handle, xDesc, wDesc, convDesc, yDesc, REQUESTED, count, fwd),
                    "cudnnFindConvolutionForwardAlgorithm for " + what);
            AlgorithmChoice forward = AlgorithmChoice.pick("forward", candidates(fwd, fwdLayout.byteSize(),
                    count.get(ValueLayout.JAVA_INT, 0), 0), rules);
            MemoryLayout dataLayout = cudnnConvolutionBwdDataAlgoPerfStruct.layout();
            MemorySegment data = search.allocate(dataLayout, REQUESTED);
            Cudnn.check(cudnn_h.cudnnFindConvolutionBackwardDataAlgorithm(handle, wDesc, yDesc, convDesc, xDesc, REQUESTED, count,
                    data), "cudnnFindConvolutionBackwardDataAlgorithm for " + what);
            AlgorithmChoice backwardData = AlgorithmChoice.pick("backward-data", candidates(data, dataLayout.byteSize(),
                    count.get(ValueLayout.JAVA_INT, 0), 1), rules);
            MemoryLayout filterLayout = cudnnConvolutionBwdFilterAlgoPerfStruct.layout();
            MemorySegment filter = search.allocate(filterLayout, REQUESTED);
            Cudnn.check(cudnn_h.cudnnFindConvolutionBackwardFilterAlgorithm(handle, xDesc, yDesc, convDesc, wDesc, REQUESTED, count,
                    filter), "cudnnFindConvolutionBackwardFilterAlgorithm for " + what);
            AlgorithmChoice backwardFilter = AlgorithmChoice.pick("backward-filter", candidates(filter, filterLayout.byteSize(),
                    count.get(ValueLayout.JAVA_INT, 0), 2), rules);
            return new AlgorithmCache.Algorithms(forward, backwardData, backwardFilter);
        }
    }

    /** cuDNN's results, fastest first, read from the perf structs of {@code kind} (0 forward, 1 data, 2 filter). */
    private static List<AlgorithmChoice.Candidate> candidates(MemorySegment results, long stride, int count, int kind) {
        List<AlgorithmChoice.Candidate> candidates = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            MemorySegment r = results.asSlice(i * stride, stride);
            candidates.add(switch (kind) {
                case 0 -> new AlgorithmChoice.Candidate(cudnnConvolutionFwdAlgoPerfStruct.algo(r),
                        cudnnConvolutionFwdAlgoPerfStruct.status(r), cudnnConvolutionFwdAlgoPerfStruct.memory(r),
                        cudnnConvolutionFwdAlgoPerfStruct.determinism(r), cudnnConvolutionFwdAlgoPerfStruct.mathType(r));
                case 1 -> new AlgorithmChoice.Candidate(cudnnConvolutionBwdDataAlgoPerfStruct.algo(r),
                        cudnnConvolutionBwdDataAlgoPerfStruct.status(r), cudnnConvolutionBwdDataAlgoPerfStruct.memory(r),
                        cudnnConvolutionBwdDataAlgoPerfStruct.determinism(r), cudnnConvolutionBwdDataAlgoPerfStruct.mathType(r));
                default -> new AlgorithmChoice.Candidate(cudnnConvolutionBwdFilterAlgoPerfStruct.algo(r),
                        cudnnConvolutionBwdFilterAlgoPerfStruct.status(r), cudnnConvolutionBwdFilterAlgoPerfStruct.memory(r),
                        cudnnConvolutionBwdFilterAlgoPerfStruct.determinism(r), cudnnConvolutionBwdFilterAlgoPerfStruct.mathType(r));
            });
        }
        return candidates;
    }
}
