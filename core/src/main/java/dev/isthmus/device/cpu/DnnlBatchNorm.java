package dev.isthmus.device.cpu;

import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.device.BatchNormPlan;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Batch normalisation through oneDNN on [N, C, H, W] activations of either layout (BatchNorm1d
 * inputs, rank 2 or 3, go to the Java plan). oneDNN returns the biased batch variance; the running
 * variance is updated here with the unbiased one, and the layer's saved 1/sqrt(var + eps) is
 * derived from it, so the plan keeps the device-independent contract of BatchNormPlan. BF16 data
 * (a mixed-precision run) is normalised with F32 statistics, scale and shift, as autocast's.
 */
final class DnnlBatchNorm extends BatchNormPlan {
    private final CpuDevice cpu;
    private final DnnlRuntime dnnl;
    private final Arena arena = Arena.ofShared();
    private final Tensor variance;
    private final Tensor scaleGrad;
    private final Tensor shiftGrad;
    private final Tensor unusedShift;
    private Layout layout;
    private DType dataType;
    private DnnlPrimitive training;
    private DnnlPrimitive inference;
    private DnnlPrimitive backward;

    DnnlBatchNorm(CpuDevice cpu, DnnlRuntime dnnl, Shape inputShape) {
        super(cpu, inputShape);
        this.cpu = cpu;
        this.dnnl = dnnl;
        this.variance = cpu.allocate(Shape.of(channels));
        this.scaleGrad = cpu.allocate(Shape.of(channels));
        this.shiftGrad = cpu.allocate(Shape.of(channels));
        this.unusedShift = cpu.allocate(Shape.of(channels));
    }

    private MemorySegment opDescriptor(int propKind, int flags, Layout dataLayout, DType type, float epsilon) {
        MemorySegment desc = DnnlRuntime.operationDescriptor(arena);
        MemorySegment data = dnnl.descriptor(arena, inputShape, dataLayout, type);
        int status = propKind == dnnl_h.dnnl_backward()
                ? dnnl_h.dnnl_batch_normalization_backward_desc_init(desc, propKind, data, data, epsilon, flags)
                : dnnl_h.dnnl_batch_normalization_forward_desc_init(desc, propKind, data, epsilon, flags);
        DnnlRuntime.check(status, "dnnl_batch_normalization_desc_init for " + inputShape);
        return desc;
    }

    /** Makes the three primitives for this layout and eps (oneDNN fixes eps in the primitive). */
    private void prepare(Layout dataLayout, DType type, float eps) {
        if (layout == dataLayout && type == dataType && eps == preparedEps) {
            return;
        }
        closePrimitives();
        MemorySegment perChannel = dnnl.descriptor(arena, new int[] {channels}, dnnl_h.dnnl_a());
        int scaleShift = dnnl_h.dnnl_use_scale() | dnnl_h.dnnl_use_shift();
        MemorySegment trainingDesc = opDescriptor(dnnl_h.dnnl_forward_training(), scaleShift, dataLayout, type, eps);
        MemorySegment[] fourPerChannel = {null, null, perChannel, perChannel, perChannel, perChannel};
        int[] trainingKinds = {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DST(), dnnl_h.DNNL_ARG_SCALE(), dnnl_h.DNNL_ARG_SHIFT(),
            dnnl_h.DNNL_ARG_MEAN(), dnnl_h.DNNL_ARG_VARIANCE()};
        int[] trainingQueries = {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_dst_md(), dnnl_h.dnnl_query_weights_md(),
            dnnl_h.dnnl_query_weights_md(), dnnl_h.dnnl_query_dst_md(), dnnl_h.dnnl_query_dst_md()};
        training = DnnlPrimitive.create(dnnl, "batch norm forward", trainingDesc, dnnl.plainAttributes(), null, trainingKinds,
                trainingQueries, new int[6], fourPerChannel);

        MemorySegment inferenceDesc = opDescriptor(dnnl_h.dnnl_forward_inference(), scaleShift | dnnl_h.dnnl_use_global_stats(),
                dataLayout, type, eps);
        int[] inferenceQueries = {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_dst_md(), dnnl_h.dnnl_query_weights_md(),
            dnnl_h.dnnl_query_weights_md(), dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_src_md()};
        inference = DnnlPrimitive.create(dnnl, "batch norm inference", inferenceDesc, dnnl.plainAttributes(), null, trainingKinds,
                inferenceQueries, new int[6], fourPerChannel);

        MemorySegment backwardDesc = opDescriptor(dnnl_h.dnnl_backward(), scaleShift, dataLayout, type, eps);
        // oneDNN 2.6 counts the shift among the backward's inputs when use_shift is set, though the
        // gradients do not depend on it; a zero tensor stands in.
        int[] backwardKinds = {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_SCALE(), dnnl_h.DNNL_ARG_MEAN(),
            dnnl_h.DNNL_ARG_VARIANCE(), dnnl_h.DNNL_ARG_DIFF_SRC(), dnnl_h.DNNL_ARG_DIFF_SCALE(), dnnl_h.DNNL_ARG_DIFF_SHIFT(),
            dnnl_h.DNNL_ARG_SHIFT()};
        int[] backwardQueries = {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_diff_dst_md(), 0, 0, 0,
            dnnl_h.dnnl_query_diff_src_md(), 0, 0, 0};
        backward = DnnlPrimitive.create(dnnl, "batch norm backward", backwardDesc, dnnl.plainAttributes(), training.primitiveDesc(),
                backwardKinds, backwardQueries, new int[9],
                new MemorySegment[] {null, null, perChannel, perChannel, perChannel, null, perChannel, perChannel, perChannel});
        layout = dataLayout;
        dataType = type;
        preparedEps = eps;
    }

    private float preparedEps = Float.NaN;

    @Override
    protected void doForwardTraining(Tensor input, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                     float momentum, float eps, Tensor y, Tensor savedMean, Tensor savedInvStd) {
        Tensor x = cpu.scratch().inLayout(input, y.layout(), CpuScratch.Slot.FIRST_INPUT);
        prepare(x.layout(), x.dtype(), eps);
        training.bind(0, x.memory());
        training.bind(1, y.memory());
        training.bind(2, gamma.memory());
        training.bind(3, beta.memory());
        training.bind(4, savedMean.memory());
        training.bind(5, variance.memory());
        training.execute();
        MemorySegment mean = savedMean.memory();
        MemorySegment batchVariance = variance.memory();
        MemorySegment invStd = savedInvStd.memory();
        MemorySegment runMean = runningMean.memory();
        MemorySegment runVar = runningVar.memory();
        double unbias = (double) outer * inner / ((double) outer * inner - 1);
        for (int c = 0; c < channels; c++) {
            double v = batchVariance.getAtIndex(JAVA_FLOAT, c);
            invStd.setAtIndex(JAVA_FLOAT, c, (float) (1 / Math.sqrt(v + eps)));
            runMean.setAtIndex(JAVA_FLOAT, c, (float) ((1 - momentum) * runMean.getAtIndex(JAVA_FLOAT, c)
                    + momentum * (double) mean.getAtIndex(JAVA_FLOAT, c)));
            runVar.setAtIndex(JAVA_FLOAT, c, (float) ((1 - momentum) * runVar.getAtIndex(JAVA_FLOAT, c) + momentum * v * unbias));
        }
    }

    @Override
    protected void doForwardInference(Tensor input, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                      float eps, Tensor y) {
        Tensor x = cpu.scratch().inLayout(input, y.layout(), CpuScratch.Slot.FIRST_INPUT);
        prepare(x.layout(), x.dtype(), eps);
        inference.bind(0, x.memory());
        inference.bind(1, y.memory());
        inference.bind(2, gamma.memory());
        inference.bind(3, beta.memory());
        inference.bind(4, runningMean.memory());
        inference.bind(5, runningVar.memory());
        inference.execute();
    }

    @Override
    protected void doBackward(Tensor input, Tensor upstream, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                              float eps, Tensor gradInput, Tensor gammaGrad, Tensor betaGrad) {
        // oneDNN normalises within one layout: the result's; other operands are converted first.
        Tensor x = cpu.scratch().inLayout(input, gradInput.layout(), CpuScratch.Slot.FIRST_INPUT);
        Tensor gradOutput = cpu.scratch().inLayout(upstream, gradInput.layout(), CpuScratch.Slot.SECOND_INPUT);
        prepare(x.layout(), x.dtype(), eps);
        // oneDNN wants the variance: recover it from the saved 1/sqrt(var + eps).
        MemorySegment invStd = savedInvStd.memory();
        MemorySegment v = variance.memory();
        for (int c = 0; c < channels; c++) {
            double s = invStd.getAtIndex(JAVA_FLOAT, c);
            v.setAtIndex(JAVA_FLOAT, c, (float) (1 / (s * s) - eps));
        }
        backward.bind(0, x.memory());
        backward.bind(1, gradOutput.memory());
        backward.bind(2, gamma.memory());
        backward.bind(3, savedMean.memory());
        backward.bind(4, variance.memory());
        backward.bind(5, gradInput.memory());
        backward.bind(6, scaleGrad.memory());
        backward.bind(7, shiftGrad.memory());
        backward.bind(8, unusedShift.memory());
        backward.execute();
        MemorySegment dScale = scaleGrad.memory();
        MemorySegment dShift = shiftGrad.memory();
        MemorySegment gammaG = gammaGrad.memory();
        MemorySegment betaG = betaGrad.memory();
        for (int c = 0; c < channels; c++) {
            gammaG.setAtIndex(JAVA_FLOAT, c, gammaG.getAtIndex(JAVA_FLOAT, c) + dScale.getAtIndex(JAVA_FLOAT, c));
            betaG.setAtIndex(JAVA_FLOAT, c, betaG.getAtIndex(JAVA_FLOAT, c) + dShift.getAtIndex(JAVA_FLOAT, c));
        }
    }

    private void closePrimitives() {
        for (DnnlPrimitive primitive : new DnnlPrimitive[] {training, inference, backward}) {
            if (primitive != null) {
                primitive.close();
            }
        }
        training = null;
        inference = null;
        backward = null;
    }

    @Override
    public void close() {
        closePrimitives();
        variance.close();
        scaleGrad.close();
        shiftGrad.close();
        unusedShift.close();
        arena.close();
    }
}
