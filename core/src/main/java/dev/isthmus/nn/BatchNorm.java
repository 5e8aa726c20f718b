package dev.isthmus.nn;

import dev.isthmus.device.BatchNormPlan;
import dev.isthmus.device.Device;
import dev.isthmus.device.MemoryPlan;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Batch normalisation over axis 1 with PyTorch's semantics: batch statistics in training (the
 * running statistics move by {@code momentum} towards them, the variance unbiased), running
 * statistics in eval; optional affine weight (γ, init 1) and bias (β, init 0). Backward after an
 * eval forward differentiates the frozen normalisation, as PyTorch's: dx = dy·γ/√(running var + ε),
 * dγ += Σ dy·x̂, dβ += Σ dy with x̂ normalised by the running statistics.
 * {@link BatchNorm2d} takes [N, C, H, W]; {@link BatchNorm1d} [N, C] or [N, C, L].
 */
public abstract class BatchNorm extends Layer {
    private final int numFeatures;
    private final float eps;
    private final float momentum;
    private final boolean affine;
    private long batchesTracked;

    private Tensor weight;
    private Tensor weightGrad;
    private Tensor bias;
    private Tensor biasGrad;
    private Tensor runningMean;
    private Tensor runningVar;
    private Tensor savedMean;
    private Tensor savedInvStd;
    private Tensor ones;
    private Tensor zeros;
    private BatchNormPlan plan;
    private Tensor output;
    private Tensor input;
    private SumAcrossProcesses processes;
    private SyncedBatchStatistics synced;
    // Low-precision activations only: F32 copies for the eval-mode backward's sums, made on its first use.
    private Tensor frozenNormalized;
    private Tensor frozenGradOutput;

    /**
     * Batch norm over {@code numFeatures} channels, with PyTorch's arguments.
     *
     * @param numFeatures the channels (C of [N, C] or [N, C, H, W])
     * @param eps added for numerical stability
     * @param momentum the momentum factor
     * @param affine whether to learn a per-channel scale γ and shift β
     */
    protected BatchNorm(int numFeatures, float eps, float momentum, boolean affine) {
        if (numFeatures <= 0) {
            throw new IllegalArgumentException(name() + "(" + numFeatures + "): features must be > 0");
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException(name() + ": eps must be > 0, got " + eps);
        }
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException(name() + ": momentum must be in [0, 1], got " + momentum);
        }
        this.numFeatures = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        this.affine = affine;
    }

    abstract String name();

    /** Whether this rank of input is accepted (2-D: 4; 1-D: 2 or 3). */
    abstract boolean acceptsRank(int rank);

    abstract String expectedInput();

    @Override
    public String describe() {
        return name() + "(" + numFeatures + (eps != 1e-5f ? ", eps=" + eps : "")
                + (momentum != 0.1f ? ", momentum=" + momentum : "") + (affine ? "" : ", affine=false") + ")";
    }

    /**
     * Normalises over the global batch of a data-parallel job (PyTorch's SyncBatchNorm): training
     * forwards and their backward sum their per-channel statistics over the processes (see
     * {@link SyncedBatchStatistics}); evaluation is unchanged. Set before the model is built.
     *
     * @param processes the sum over the job's processes
     * @return this layer
     * @throws IllegalStateException after the layer was set up
     */
    public BatchNorm synchronize(SumAcrossProcesses processes) {
        if (processes == null) {
            throw new IllegalArgumentException(describe() + ": synchronize needs the processes to sum over");
        }
        if (device() != null) {
            throw new IllegalStateException(describe() + ": synchronize before the model is built");
        }
        this.processes = processes;
        return this;
    }

    /** {@return whether training statistics are summed over the processes of a data-parallel job} */
    public boolean synchronizes() {
        return processes != null;
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        if (!acceptsRank(input.rank()) || input.dim(1) != numFeatures) {
            throw new IllegalArgumentException(describe() + ": expected input " + expectedInput() + ", got " + input);
        }
        return input;
    }

    @Override
    protected void createParameters(Device device) {
        Shape channels = Shape.of(numFeatures);
        // Without affine, γ = 1 and β = 0 stay fixed; their gradients land in scratch tensors.
        weight = device.allocate(channels);
        weightGrad = device.allocate(channels);
        bias = device.allocate(channels);
        biasGrad = device.allocate(channels);
        runningMean = device.allocate(channels);
        runningVar = device.allocate(channels);
        savedMean = device.allocate(channels);
        savedInvStd = device.allocate(channels);
        // Constants for the eval-mode backward, which runs the inference kernel with γ = 1 or μ = β = 0.
        ones = device.allocate(channels);
        zeros = device.allocate(channels);
        if (processes != null) {
            synced = new SyncedBatchStatistics(processes, device, numFeatures);
        }
        // γ = 1 and running variance = 1 from the start, as PyTorch's; in a model once its memory exists.
        MemoryPlan.whenBound(device, () -> {
            device.elementwise().fill(weight, 1f);
            device.elementwise().fill(runningVar, 1f);
            device.elementwise().fill(ones, 1f);
            device.elementwise().fill(zeros, 0f);
        });
    }

    @Override
    public void resetParameters(SplittableRandom random) {
        Device device = device();
        device.elementwise().fill(weight, 1f);
        device.elementwise().fill(bias, 0f);
        device.elementwise().fill(runningMean, 0f);
        device.elementwise().fill(runningVar, 1f);
        batchesTracked = 0;
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        plan = device.batchNorm(input);
        this.output = allocateOutput(device, output);
        if (synced != null) {
            synced.allocate(input);
        }
    }

    /** Over [N, C, H, W] and not synchronised, oneDNN normalises BF16 data with F32 statistics. */
    @Override
    protected LowPrecisionCarry lowPrecisionCarry() {
        return acceptsRank(4) && processes == null ? LowPrecisionCarry.SAME_TYPE : LowPrecisionCarry.NONE;
    }

    @Override
    protected void releaseBuffers() {
        closeAll(plan, output, frozenNormalized, frozenGradOutput);
        frozenNormalized = null;
        frozenGradOutput = null;
        if (synced != null) {
            synced.closeScratch();
        }
    }

    @Override
    protected void releaseParameters() {
        closeAll(weight, weightGrad, bias, biasGrad, runningMean, runningVar, savedMean, savedInvStd, ones, zeros, synced);
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        input = x;
        if (training && synced != null) {
            synced.forward(plan, x, weight, bias, runningMean, runningVar, momentum, eps, output, savedMean, savedInvStd);
            batchesTracked++;
        } else if (training) {
            plan.forwardTraining(x, weight, bias, runningMean, runningVar, momentum, eps, output, savedMean, savedInvStd);
            batchesTracked++;
        } else {
            plan.forwardInference(x, weight, bias, runningMean, runningVar, eps, output);
        }
        return output;
    }

    /** The device computes dx together with dγ and dβ, so the buffer is needed even when nobody reads it. */
    @Override
    protected Tensor planGradients(GradientPlan plan, Tensor gradOutput) {
        useGradInput(plan.buffer(inputShape(), inputType(), gradOutput));
        return propagatesDown() ? gradInput() : null;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        if (!lastForwardTraining()) {
            return frozenBackward(gradOutput);
        }
        if (synced != null) {
            synced.backward(plan, input, gradOutput, weight, ones, zeros, eps, gradInput(), weightGrad, biasGrad, isFrozen());
            return propagatesDown() ? gradInput() : null;
        }
        plan.backward(input, gradOutput, weight, savedMean, savedInvStd, eps, gradInput(), weightGrad, biasGrad);
        if (isFrozen()) {
            // The device computes dγ and dβ with dx; a frozen layer's gradients stay zero.
            device().elementwise().fill(weightGrad, 0f);
            device().elementwise().fill(biasGrad, 0f);
        }
        return propagatesDown() ? gradInput() : null;
    }

    /**
     * Backward through y = γ·(x − μ)/√(σ² + ε) + β with the running μ and σ² held constant, from
     * the inference kernel alone (so every device has it): x̂ = BN(x; γ=1, β=0) into the dx buffer,
     * dγ += Σ x̂·dy, dβ += Σ dy, then dx = BN(dy; γ, β=0, μ=0) = γ·dy/√(σ² + ε).
     */
    private Tensor frozenBackward(Tensor gradOutput) {
        Device device = device();
        Tensor gradInput = gradInput();
        if (!isFrozen()) {
            plan.forwardInference(input, ones, zeros, runningMean, runningVar, eps, gradInput);
            Tensor normalized = gradInput;
            Tensor upstream = gradOutput;
            if (gradInput.dtype() != dev.isthmus.tensor.DType.F32) {
                // The sums run on F32 copies (the element-wise kernels are F32); rare, so made here.
                if (frozenNormalized == null) {
                    frozenNormalized = device.allocateActivation(inputShape());
                    frozenGradOutput = device.allocateActivation(inputShape());
                }
                device.elementwise().convert(gradInput, frozenNormalized);
                device.elementwise().convert(gradOutput, frozenGradOutput);
                normalized = frozenNormalized;
                upstream = frozenGradOutput;
            }
            device.elementwise().mul(normalized, upstream, normalized);
            device.elementwise().biasGradient(normalized, weightGrad);
            device.elementwise().biasGradient(upstream, biasGrad);
        }
        if (!propagatesDown()) {
            return null;
        }
        plan.forwardInference(gradOutput, weight, zeros, zeros, runningVar, eps, gradInput);
        return gradInput;
    }

    @Override
    public List<Parameter> parameters() {
        if (!affine) {
            return List.of();
        }
        List<Parameter> parameters = new ArrayList<>();
        parameters.add(new Parameter("weight", weight, weightGrad));
        parameters.add(new Parameter("bias", bias, biasGrad));
        return parameters;
    }

    @Override
    public List<NamedTensor> buffers() {
        return List.of(new NamedTensor("running_mean", runningMean), new NamedTensor("running_var", runningVar));
    }

    @Override
    public List<Counter> counters() {
        return List.of(new Counter("num_batches_tracked", true, this::batchesTracked, this::setBatchesTracked));
    }

    /**
     * PyTorch's num_batches_tracked: training forwards so far.
     *
     * @return the training forwards so far
     */
    public long batchesTracked() {
        return batchesTracked;
    }

    /**
     * Restores {@code num_batches_tracked} (from a checkpoint).
     *
     * @param batchesTracked the training forwards so far
     */
    public void setBatchesTracked(long batchesTracked) {
        this.batchesTracked = batchesTracked;
    }

    /** {@return the number of channels normalised} */
    public int numFeatures() {
        return numFeatures;
    }

    /**
     * The constant added to the variance before its square root.
     *
     * @return the eps
     */
    public float eps() {
        return eps;
    }

    /**
     * Whether the layer has a weight (γ) and a bias (β); without them γ = 1 and β = 0.
     *
     * @return whether affine
     */
    public boolean affine() {
        return affine;
    }
}
