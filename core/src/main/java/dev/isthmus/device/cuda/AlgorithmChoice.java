package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cudnn.cudnn_h;

import java.util.List;

/**
 * What a convolution plan runs in one direction (forward, backward data, backward filter): the
 * algorithm cudnnFind* timed fastest among those allowed, its workspace, and the math type it was
 * timed with, which must be set on the convolution descriptor before the call (else cuDNN may run
 * another, slower kernel for the same algorithm; PyTorch does the same).
 *
 * @param algo           cudnnConvolution*Algo_t
 * @param workspaceBytes the workspace it needs
 * @param mathType       cudnnMathType_t to set before running it
 */
record AlgorithmChoice(int algo, long workspaceBytes, int mathType) {
    /** cudnnDeterminism_t's CUDNN_DETERMINISTIC (generated since the cuDNN 9.6 regeneration). */
    static final int CUDNN_DETERMINISTIC = cudnn_h.CUDNN_DETERMINISTIC();

    /** One result of cudnnFind*, as the three perf structs report it. */
    record Candidate(int algo, int status, long memory, int determinism, int mathType) {
    }

    /** What the choice may use. */
    record Rules(boolean deterministic, boolean tf32, long workspaceLimit) {
    }

    /**
     * The first usable candidate of cuDNN's list (sorted fastest first): it succeeded, fits the
     * workspace limit, is deterministic when that is asked, and in strict FP32 (no TF32) was timed
     * without tensor-op math, which would round inputs to TF32; strict FP32 then runs it with FMA
     * math, as its descriptor had during the search.
     *
     * @throws IllegalStateException naming the direction and why each candidate was refused
     */
    static AlgorithmChoice pick(String direction, List<Candidate> candidates, Rules rules) {
        int failed = 0;
        int tooBig = 0;
        int nonDeterministic = 0;
        int tensorOp = 0;
        for (Candidate candidate : candidates) {
            if (candidate.status() != 0) {
                failed++;
            } else if (candidate.memory() < 0 || candidate.memory() > rules.workspaceLimit()) {
                tooBig++;
            } else if (rules.deterministic() && candidate.determinism() != CUDNN_DETERMINISTIC) {
                nonDeterministic++;
            } else if (!rules.tf32() && roundsToTf32(candidate.mathType())) {
                tensorOp++;
            } else {
                int mathType = rules.tf32() ? candidate.mathType() : cudnn_h.CUDNN_FMA_MATH();
                return new AlgorithmChoice(candidate.algo(), candidate.memory(), mathType);
            }
        }
        throw new IllegalStateException("cuDNN found no usable " + direction + " convolution algorithm among "
                + candidates.size() + ": " + failed + " failed, " + tooBig + " need more than "
                + (rules.workspaceLimit() >> 20) + " MiB of workspace, " + nonDeterministic + " are not deterministic"
                + (rules.deterministic() ? " (determinism was asked for)" : "") + ", " + tensorOp
                + " use tensor-op math (strict FP32 was asked for)");
    }

    private static boolean roundsToTf32(int mathType) {
        return mathType == cudnn_h.CUDNN_TENSOR_OP_MATH() || mathType == cudnn_h.CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION();
    }
}
