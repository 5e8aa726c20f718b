package dev.isthmus.device.cpu;

import dev.isthmus.device.BatchNormPlan;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** Batch normalisation, one channel per task; statistics accumulate in double precision. */
final class CpuBatchNorm extends BatchNormPlan {
    private final CpuDevice cpu;
    private final CpuParallel parallel;

    CpuBatchNorm(CpuDevice cpu, Shape inputShape) {
        super(cpu, inputShape);
        this.cpu = cpu;
        this.parallel = cpu.parallel();
    }

    // The loops index [outer, C, inner] row-major: other layouts are converted on the way in and out.

    private int grain() {
        return Math.max(1, 16384 / Math.max(1, outer * inner));
    }

    @Override
    protected void doForwardTraining(Tensor input, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                     float momentum, float eps, Tensor output, Tensor savedMean, Tensor savedInvStd) {
        Tensor x = cpu.scratch().inLayout(input, Layout.ROW_MAJOR, CpuScratch.Slot.FIRST_INPUT);
        Tensor y = cpu.scratch().rowMajorResult(output);
        trainingRowMajor(x, gamma, beta, runningMean, runningVar, momentum, eps, y, savedMean, savedInvStd);
        cpu.scratch().store(y, output);
    }

    private void trainingRowMajor(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                  float momentum, float eps, Tensor y, Tensor savedMean, Tensor savedInvStd) {
        MemorySegment in = x.memory();
        MemorySegment out = y.memory();
        MemorySegment scale = gamma.memory();
        MemorySegment shift = beta.memory();
        MemorySegment runMean = runningMean.memory();
        MemorySegment runVar = runningVar.memory();
        MemorySegment saveMean = savedMean.memory();
        MemorySegment saveInvStd = savedInvStd.memory();
        long count = (long) outer * inner;
        parallel.forRange(channels, grain(), (from, to) -> {
            for (int c = from; c < to; c++) {
                double sum = 0;
                for (int n = 0; n < outer; n++) {
                    long base = ((long) n * channels + c) * inner;
                    for (int i = 0; i < inner; i++) {
                        sum += in.getAtIndex(JAVA_FLOAT, base + i);
                    }
                }
                double mean = sum / count;
                double squares = 0;
                for (int n = 0; n < outer; n++) {
                    long base = ((long) n * channels + c) * inner;
                    for (int i = 0; i < inner; i++) {
                        double d = in.getAtIndex(JAVA_FLOAT, base + i) - mean;
                        squares += d * d;
                    }
                }
                double variance = squares / count;
                double invStd = 1 / Math.sqrt(variance + eps);
                float a = (float) (scale.getAtIndex(JAVA_FLOAT, c) * invStd);
                float b = (float) (shift.getAtIndex(JAVA_FLOAT, c) - mean * a);
                for (int n = 0; n < outer; n++) {
                    long base = ((long) n * channels + c) * inner;
                    for (int i = 0; i < inner; i++) {
                        out.setAtIndex(JAVA_FLOAT, base + i, in.getAtIndex(JAVA_FLOAT, base + i) * a + b);
                    }
                }
                saveMean.setAtIndex(JAVA_FLOAT, c, (float) mean);
                saveInvStd.setAtIndex(JAVA_FLOAT, c, (float) invStd);
                double unbiased = squares / (count - 1);
                runMean.setAtIndex(JAVA_FLOAT, c, (float) ((1 - momentum) * runMean.getAtIndex(JAVA_FLOAT, c) + momentum * mean));
                runVar.setAtIndex(JAVA_FLOAT, c, (float) ((1 - momentum) * runVar.getAtIndex(JAVA_FLOAT, c) + momentum * unbiased));
            }
        });
    }

    @Override
    protected void doForwardInference(Tensor input, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                      float eps, Tensor output) {
        Tensor x = cpu.scratch().inLayout(input, Layout.ROW_MAJOR, CpuScratch.Slot.FIRST_INPUT);
        Tensor y = cpu.scratch().rowMajorResult(output);
        inferenceRowMajor(x, gamma, beta, runningMean, runningVar, eps, y);
        cpu.scratch().store(y, output);
    }

    private void inferenceRowMajor(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                   float eps, Tensor y) {
        MemorySegment in = x.memory();
        MemorySegment out = y.memory();
        MemorySegment scale = gamma.memory();
        MemorySegment shift = beta.memory();
        MemorySegment runMean = runningMean.memory();
        MemorySegment runVar = runningVar.memory();
        parallel.forRange(channels, grain(), (from, to) -> {
            for (int c = from; c < to; c++) {
                double invStd = 1 / Math.sqrt(runVar.getAtIndex(JAVA_FLOAT, c) + (double) eps);
                float a = (float) (scale.getAtIndex(JAVA_FLOAT, c) * invStd);
                float b = (float) (shift.getAtIndex(JAVA_FLOAT, c) - runMean.getAtIndex(JAVA_FLOAT, c) * (double) a);
                for (int n = 0; n < outer; n++) {
                    long base = ((long) n * channels + c) * inner;
                    for (int i = 0; i < inner; i++) {
                        out.setAtIndex(JAVA_FLOAT, base + i, in.getAtIndex(JAVA_FLOAT, base + i) * a + b);
                    }
                }
            }
        });
    }

    @Override
    protected void doBackward(Tensor input, Tensor upstream, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                              float eps, Tensor result, Tensor gammaGrad, Tensor betaGrad) {
        Tensor x = cpu.scratch().inLayout(input, Layout.ROW_MAJOR, CpuScratch.Slot.FIRST_INPUT);
        Tensor gradOutput = cpu.scratch().inLayout(upstream, Layout.ROW_MAJOR, CpuScratch.Slot.SECOND_INPUT);
        Tensor gradInput = cpu.scratch().rowMajorResult(result);
        backwardRowMajor(x, gradOutput, gamma, savedMean, savedInvStd, gradInput, gammaGrad, betaGrad);
        cpu.scratch().store(gradInput, result);
    }

    private void backwardRowMajor(Tensor x, Tensor gradOutput, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                                  Tensor gradInput, Tensor gammaGrad, Tensor betaGrad) {
        MemorySegment in = x.memory();
        MemorySegment dy = gradOutput.memory();
        MemorySegment dx = gradInput.memory();
        MemorySegment scale = gamma.memory();
        MemorySegment mean = savedMean.memory();
        MemorySegment invStd = savedInvStd.memory();
        MemorySegment dGamma = gammaGrad.memory();
        MemorySegment dBeta = betaGrad.memory();
        long count = (long) outer * inner;
        parallel.forRange(channels, grain(), (from, to) -> {
            for (int c = from; c < to; c++) {
                double mu = mean.getAtIndex(JAVA_FLOAT, c);
                double istd = invStd.getAtIndex(JAVA_FLOAT, c);
                double sumDy = 0;
                double sumDyXhat = 0;
                for (int n = 0; n < outer; n++) {
                    long base = ((long) n * channels + c) * inner;
                    for (int i = 0; i < inner; i++) {
                        double g = dy.getAtIndex(JAVA_FLOAT, base + i);
                        sumDy += g;
                        sumDyXhat += g * (in.getAtIndex(JAVA_FLOAT, base + i) - mu) * istd;
                    }
                }
                // dx = gamma·istd/M · (M·dy − Σdy − x̂·Σ(dy·x̂))
                double factor = scale.getAtIndex(JAVA_FLOAT, c) * istd / count;
                for (int n = 0; n < outer; n++) {
                    long base = ((long) n * channels + c) * inner;
                    for (int i = 0; i < inner; i++) {
                        double xhat = (in.getAtIndex(JAVA_FLOAT, base + i) - mu) * istd;
                        double g = dy.getAtIndex(JAVA_FLOAT, base + i);
                        dx.setAtIndex(JAVA_FLOAT, base + i, (float) (factor * (count * g - sumDy - xhat * sumDyXhat)));
                    }
                }
                dGamma.setAtIndex(JAVA_FLOAT, c, (float) (dGamma.getAtIndex(JAVA_FLOAT, c) + sumDyXhat));
                dBeta.setAtIndex(JAVA_FLOAT, c, (float) (dBeta.getAtIndex(JAVA_FLOAT, c) + sumDy));
            }
        });
    }
}
