package dev.isthmus.nn;

import dev.isthmus.device.BatchNormPlan;
import dev.isthmus.device.Device;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * Batch norm over the global batch of a data-parallel job (PyTorch's SyncBatchNorm), built from
 * the kernels every device has: per-channel sums ({@code biasGradient}), the inference kernel
 * as a per-channel affine map, and two sums across the processes per step.
 *
 * <p>Forward: each process sums x and x² per channel and counts its values; the sums over the
 * processes give the global mean μ and biased variance σ² (in double), and the layer normalises
 * with them: y = γ(x − μ)/√(σ² + ε) + β; the running statistics move towards μ and the unbiased
 * variance σ²·M/(M − 1), M the global count. Backward: with x̂ = (x − μ)/√(σ² + ε), each process
 * sums dy and dy·x̂ per channel (its γ and β gradients, which the data-parallel step then averages
 * as it does every gradient), the sums over the processes G₁ and G₂ give
 * dx = γ/√(σ² + ε) · (dy − G₁/M − x̂·G₂/M), as torch's batch_norm_backward_elemt.
 *
 * <p>Host arrays and device vectors are made once; a step allocates nothing.
 */
final class SyncedBatchStatistics implements AutoCloseable {
    private final SumAcrossProcesses processes;
    private final Device device;
    private final int channels;
    private final Tensor mean;
    private final Tensor variance;
    private final Tensor scaleA;
    private final Tensor scaleB;
    private final Tensor shift;
    private final float[] first;
    private final float[] second;
    private final float[] third;
    private final MemorySegment firstView;
    private final MemorySegment secondView;
    private final MemorySegment thirdView;
    private final double[] sums;
    private final double[] globalMean;
    private final double[] globalVariance;
    private Tensor scratch;
    private long globalCount;

    SyncedBatchStatistics(SumAcrossProcesses processes, Device device, int channels) {
        this.processes = processes;
        this.device = device;
        this.channels = channels;
        Shape perChannel = Shape.of(channels);
        mean = device.allocate(perChannel);
        variance = device.allocate(perChannel);
        scaleA = device.allocate(perChannel);
        scaleB = device.allocate(perChannel);
        shift = device.allocate(perChannel);
        first = new float[channels];
        second = new float[channels];
        third = new float[channels];
        firstView = MemorySegment.ofArray(first);
        secondView = MemorySegment.ofArray(second);
        thirdView = MemorySegment.ofArray(third);
        sums = new double[2 * channels + 1];
        globalMean = new double[channels];
        globalVariance = new double[channels];
    }

    /** An input-shaped scratch buffer for x² and a·dy, per batch shape. */
    void allocate(Shape input) {
        closeScratch();
        scratch = device.allocateActivation(input);
    }

    void closeScratch() {
        if (scratch != null) {
            scratch.close();
            scratch = null;
        }
    }

    /** The training forward over the global batch; writes what backward needs into savedMean and savedInvStd. */
    void forward(BatchNormPlan plan, Tensor x, Tensor weight, Tensor bias, Tensor runningMean, Tensor runningVar,
                 float momentum, float eps, Tensor output, Tensor savedMean, Tensor savedInvStd) {
        long localCount = x.elementCount() / channels;
        device.elementwise().fill(mean, 0f);
        device.elementwise().biasGradient(x, mean);
        device.elementwise().mul(x, x, scratch);
        device.elementwise().fill(variance, 0f);
        device.elementwise().biasGradient(scratch, variance);
        device.copyToHost(mean, firstView);
        device.copyToHost(variance, secondView);
        for (int c = 0; c < channels; c++) {
            sums[c] = first[c];
            sums[channels + c] = second[c];
        }
        sums[2 * channels] = localCount;
        processes.sum(sums);
        globalCount = Math.round(sums[2 * channels]);
        if (globalCount < 2) {
            throw new IllegalArgumentException("synchronised batch norm: " + globalCount
                    + " values per channel over all processes; batch statistics need more than one");
        }
        for (int c = 0; c < channels; c++) {
            double mu = sums[c] / globalCount;
            double var = Math.max(0, sums[channels + c] / globalCount - mu * mu);
            globalMean[c] = mu;
            globalVariance[c] = var;
            first[c] = (float) mu;
            second[c] = (float) var;
            third[c] = (float) (1 / Math.sqrt(var + eps));
        }
        device.copyFromHost(firstView, mean);
        device.copyFromHost(secondView, variance);
        device.copyFromHost(firstView, savedMean);
        device.copyFromHost(thirdView, savedInvStd);
        plan.forwardInference(x, weight, bias, mean, variance, eps, output);
        // running ← (1 − m)·running + m·batch statistic (unbiased variance), as torch's.
        device.copyToHost(runningMean, firstView);
        device.copyToHost(runningVar, secondView);
        double unbias = (double) globalCount / (globalCount - 1);
        for (int c = 0; c < channels; c++) {
            first[c] = (float) ((1 - momentum) * first[c] + momentum * globalMean[c]);
            second[c] = (float) ((1 - momentum) * second[c] + momentum * globalVariance[c] * unbias);
        }
        device.copyFromHost(firstView, runningMean);
        device.copyFromHost(secondView, runningVar);
    }

    /**
     * Backward after a synchronised forward: adds this process's γ and β gradients (unless
     * {@code frozen}) and writes dx into {@code gradInput}. The sums across processes run even
     * when nothing here needs dx, because every process must make the same collectives.
     */
    void backward(BatchNormPlan plan, Tensor x, Tensor gradOutput, Tensor weight, Tensor ones, Tensor zeros, float eps,
                  Tensor gradInput, Tensor weightGrad, Tensor biasGrad, boolean frozen) {
        // x̂ = (x − μ)/√(σ² + ε), with this step's global μ and σ² still in mean and variance.
        plan.forwardInference(x, ones, zeros, mean, variance, eps, gradInput);
        device.elementwise().mul(gradInput, gradOutput, scratch);
        device.elementwise().fill(scaleA, 0f);
        device.elementwise().biasGradient(scratch, scaleA);
        device.elementwise().fill(shift, 0f);
        device.elementwise().biasGradient(gradOutput, shift);
        if (!frozen) {
            device.elementwise().add(weightGrad, scaleA, weightGrad);
            device.elementwise().add(biasGrad, shift, biasGrad);
        }
        device.copyToHost(shift, firstView);
        device.copyToHost(scaleA, secondView);
        for (int c = 0; c < channels; c++) {
            sums[c] = first[c];
            sums[channels + c] = second[c];
        }
        sums[2 * channels] = 0;
        processes.sum(sums);
        // dx = a·dy + b·x̂ + c per channel, a = γ/√(σ²+ε), b = −a·G₂/M, c = −a·G₁/M. The inference
        // kernel computes g·(t − 0)/√(1 + ε) + β; so g is the wanted scale times √(1 + ε).
        device.copyToHost(weight, thirdView);
        double unit = Math.sqrt(1 + (double) eps);
        for (int c = 0; c < channels; c++) {
            double a = third[c] / Math.sqrt(globalVariance[c] + eps);
            first[c] = (float) (-a * sums[channels + c] / globalCount * unit);
            second[c] = (float) (-a * sums[c] / globalCount);
            third[c] = (float) (a * unit);
        }
        device.copyFromHost(firstView, scaleB);
        device.copyFromHost(secondView, shift);
        device.copyFromHost(thirdView, scaleA);
        plan.forwardInference(gradInput, scaleB, shift, zeros, ones, eps, scratch);
        plan.forwardInference(gradOutput, scaleA, zeros, zeros, ones, eps, gradInput);
        device.elementwise().add(gradInput, scratch, gradInput);
    }

    @Override
    public void close() {
        closeScratch();
        mean.close();
        variance.close();
        scaleA.close();
        scaleB.close();
        shift.close();
    }
}
