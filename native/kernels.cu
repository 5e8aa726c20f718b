// Isthmus's CUDA kernels: what cuBLAS and cuDNN do not cover. Compiled to PTX for the lowest
// architecture CUDA 13 supports (compute_75) by build-ptx.sh, committed as a resource of core and
// loaded with cuModuleLoadData; the driver JIT-compiles it for the GPU at hand.
//
// Every kernel is extern "C" (stable names for cuModuleGetFunction), takes 64-bit element counts,
// and walks its range with a grid-stride loop, so any grid size is correct. The formulas are the
// ones the CPU device implements (see dev.isthmus.device.Device), so the conformance suite can hold
// both to the same numbers.

#include <stdint.h>

#define GRID_STRIDE(i, n) for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
                               i += (long long) blockDim.x * gridDim.x)

// ---------------------------------------------------------------- element-wise

extern "C" __global__ void add_f32(const float *a, const float *b, float *out, long long n) {
    GRID_STRIDE(i, n) out[i] = a[i] + b[i];
}

// The residual block's sum and its ReLU in one pass; fmaxf(NaN, 0) is 0, as the CPU kernel's v > 0 ? v : 0.
extern "C" __global__ void add_relu_f32(const float *a, const float *b, float *out, long long n) {
    GRID_STRIDE(i, n) out[i] = fmaxf(a[i] + b[i], 0.0f);
}

extern "C" __global__ void mul_f32(const float *a, const float *b, float *out, long long n) {
    GRID_STRIDE(i, n) out[i] = a[i] * b[i];
}

// y[o, c, i] += bias[c] for y viewed as [outer, channels, inner].
// Mixed precision's casts, rounding to nearest even as the CPU device (dev.isthmus.tensor.HalfFloats)
// and PyTorch do. bfloat16 is the upper half of a float; the bit arithmetic needs no cuda_bf16.h, whose
// intrinsics would need a newer PTX ISA than the 7.0 this file is stamped with.
__device__ unsigned short float_to_bf16_bits(float value) {
    unsigned int bits = __float_as_uint(value);
    if ((bits & 0x7fffffffu) > 0x7f800000u) {
        return (unsigned short) ((bits >> 16) | 0x0040u);
    }
    return (unsigned short) ((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

extern "C" __global__ void convert_f32_to_bf16(const float *from, unsigned short *to, long long n) {
    GRID_STRIDE(i, n) to[i] = float_to_bf16_bits(from[i]);
}

extern "C" __global__ void convert_bf16_to_f32(const unsigned short *from, float *to, long long n) {
    GRID_STRIDE(i, n) to[i] = __uint_as_float(((unsigned int) from[i]) << 16);
}

extern "C" __global__ void convert_f32_to_f16(const float *from, unsigned short *to, long long n) {
    GRID_STRIDE(i, n) {
        unsigned short half;
        asm("cvt.rn.f16.f32 %0, %1;" : "=h"(half) : "f"(from[i]));
        to[i] = half;
    }
}

extern "C" __global__ void convert_f16_to_f32(const unsigned short *from, float *to, long long n) {
    GRID_STRIDE(i, n) {
        float value;
        asm("cvt.f32.f16 %0, %1;" : "=f"(value) : "h"(from[i]));
        to[i] = value;
    }
}

extern "C" __global__ void bias_add(float *y, const float *bias, long long channels, long long inner, long long n) {
    GRID_STRIDE(i, n) y[i] += bias[(i / inner) % channels];
}

// to[:, toStart + c, ...] = from[:, fromStart + c, ...] for c < channels (concatenation along channels and its split).
extern "C" __global__ void copy_channels(const float *from, float *to, long long fromChannels, long long fromStart,
                                         long long toChannels, long long toStart, long long channels, long long inner,
                                         long long n) {
    GRID_STRIDE(i, n) {
        long long k = i % inner, c = (i / inner) % channels, o = i / (inner * channels);
        to[(o * toChannels + toStart + c) * inner + k] = from[(o * fromChannels + fromStart + c) * inner + k];
    }
}

// One block per channel: db[c] += sum over outer and inner of dy. Accumulated in double, as on the CPU.
extern "C" __global__ void bias_grad(const float *dy, float *db, long long outer, long long channels, long long inner) {
    __shared__ double partial[256];
    long long c = blockIdx.x;
    double sum = 0;
    for (long long k = threadIdx.x; k < outer * inner; k += blockDim.x) {
        long long o = k / inner, i = k % inner;
        sum += dy[(o * channels + c) * inner + i];
    }
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) db[c] = (float) (db[c] + partial[0]);
}

// ---------------------------------------------------------------- activations cuDNN lacks

extern "C" __global__ void leaky_relu_forward(const float *x, float *y, float slope, long long n) {
    GRID_STRIDE(i, n) { float v = x[i]; y[i] = v > 0 ? v : slope * v; }
}

extern "C" __global__ void leaky_relu_backward(const float *x, const float *dy, float *dx, float slope, long long n) {
    GRID_STRIDE(i, n) dx[i] = x[i] > 0 ? dy[i] : slope * dy[i];
}

// GELU, exact form: x * Phi(x) with Phi(x) = 0.5 * (1 + erf(x / sqrt 2)).
extern "C" __global__ void gelu_forward(const float *x, float *y, long long n) {
    GRID_STRIDE(i, n) { double v = x[i]; y[i] = (float) (0.5 * v * (1 + erf(v * 0.7071067811865476))); }
}

extern "C" __global__ void gelu_backward(const float *x, const float *dy, float *dx, long long n) {
    GRID_STRIDE(i, n) {
        double v = x[i];
        double cdf = 0.5 * (1 + erf(v * 0.7071067811865476));
        double pdf = 0.3989422804014327 * exp(-0.5 * v * v);
        dx[i] = (float) (dy[i] * (cdf + v * pdf));
    }
}

// ---------------------------------------------------------------- dropout

// SplitMix64's finaliser over (seed, call counter, element): the same draw as
// dev.isthmus.random.CounterRng, so CPU and GPU masks are identical.
__device__ __forceinline__ float counter_uniform(unsigned long long seed, unsigned long long counter, unsigned long long index) {
    unsigned long long z = seed + counter * 0x9E3779B97F4A7C15ULL + (index + 1) * 0xD1B54A32D192ED03ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (float) (z >> 40) * 5.9604644775390625e-8f;  // 2^-24
}

extern "C" __global__ void dropout_forward(const float *x, float *y, float *mask, float p, float scale,
                                           unsigned long long seed, unsigned long long counter, long long n) {
    GRID_STRIDE(i, n) {
        float m = counter_uniform(seed, counter, (unsigned long long) i) >= p ? scale : 0.0f;
        mask[i] = m;
        y[i] = x[i] * m;
    }
}

// ---------------------------------------------------------------- losses

// Softmax cross-entropy with label smoothing, one thread per sample. Invalid labels are not read:
// they set *error (checked on the host at the next read) and contribute nothing.
extern "C" __global__ void softmax_cross_entropy(const float *logits, const int *labels, float *losses, float *grad,
                                                 int *error, long long batch, long long classes, float smoothing) {
    GRID_STRIDE(n, batch) {
        const float *row = logits + n * classes;
        int label = labels[n];
        if (label < 0 || label >= classes) {
            atomicExch(error, 1);
            losses[n] = 0;
            if (grad) for (long long c = 0; c < classes; c++) grad[n * classes + c] = 0;
            continue;
        }
        float max = row[0];
        for (long long c = 1; c < classes; c++) max = fmaxf(max, row[c]);
        double sum = 0, logitSum = 0;
        for (long long c = 0; c < classes; c++) { sum += exp((double) row[c] - max); logitSum += row[c]; }
        double logSum = log(sum) + max;
        double nll = logSum - row[label];
        double smooth = logSum - logitSum / classes;
        losses[n] = (float) ((1 - smoothing) * nll + smoothing * smooth);
        if (grad) {
            double off = (double) smoothing / classes;
            for (long long c = 0; c < classes; c++) {
                double prob = exp((double) row[c] - logSum);
                double target = off + (c == label ? 1.0 - smoothing : 0.0);
                grad[n * classes + c] = (float) ((prob - target) / batch);
            }
        }
    }
}

// Softmax cross-entropy over axis 1 of [N, C, inner] logits, one thread per position p = n * inner + i.
// values[p] is the loss there and values[positions + p] whether it counts (0 for ignore_index);
// the gradient is left unscaled (softmax - one-hot) for mean_over_counted to divide. Invalid labels
// set *error, as in softmax_cross_entropy, and count as ignored.
extern "C" __global__ void spatial_cross_entropy(const float *logits, const int *labels, float *values, float *grad,
                                                 int *error, long long positions, long long classes, long long inner,
                                                 int ignoreIndex) {
    GRID_STRIDE(p, positions) {
        const float *at = logits + (p / inner) * classes * inner + p % inner;
        float *g = grad ? grad + (p / inner) * classes * inner + p % inner : 0;
        int label = labels[p];
        if (label == ignoreIndex || label < 0 || label >= classes) {
            if (label != ignoreIndex) atomicExch(error, 1);
            values[p] = 0;
            values[positions + p] = 0;
            if (g) for (long long c = 0; c < classes; c++) g[c * inner] = 0;
            continue;
        }
        float max = at[0];
        for (long long c = 1; c < classes; c++) max = fmaxf(max, at[c * inner]);
        double sum = 0;
        for (long long c = 0; c < classes; c++) sum += exp((double) at[c * inner] - max);
        double logSum = log(sum) + max;
        values[p] = (float) (logSum - at[label * inner]);
        values[positions + p] = 1;
        if (g) for (long long c = 0; c < classes; c++) g[c * inner] = (float) (exp((double) at[c * inner] - logSum) - (c == label));
    }
}

// One block: out[0] = sum(values[0..n)) / sum(values[n..2n)) (NaN when nothing counts, as PyTorch's
// 0/0), and *scale = 1 / that count for scale_by_cell.
extern "C" __global__ void mean_over_counted(const float *values, float *out, float *scale, long long n) {
    __shared__ double partial[256];
    __shared__ double counted[256];
    double sum = 0, count = 0;
    for (long long i = threadIdx.x; i < n; i += blockDim.x) { sum += values[i]; count += values[n + i]; }
    partial[threadIdx.x] = sum;
    counted[threadIdx.x] = count;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) { partial[threadIdx.x] += partial[threadIdx.x + s]; counted[threadIdx.x] += counted[threadIdx.x + s]; }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        out[0] = (float) (partial[0] / counted[0]);
        *scale = (float) (1.0 / counted[0]);
    }
}

// x[i] *= *scale, the factor read on the device (no host round trip).
extern "C" __global__ void scale_by_cell(float *x, const float *scale, long long n) {
    GRID_STRIDE(i, n) x[i] *= *scale;
}

// Distillation's soft-target term, one thread per sample: KL(softmax(t/T) || softmax(s/T)) summed over the
// classes (a zero teacher probability adds 0, as PyTorch's xlogy); gradient (p_s - p_t) / (T * batch).
extern "C" __global__ void soft_target_kl(const float *student, const float *teacher, float *losses, float *grad,
                                          long long batch, long long classes, float temperature) {
    GRID_STRIDE(n, batch) {
        const float *s = student + n * classes;
        const float *t = teacher + n * classes;
        double inv = 1.0 / temperature, maxS = -INFINITY, maxT = -INFINITY, sumS = 0, sumT = 0;
        for (long long c = 0; c < classes; c++) { maxS = fmax(maxS, s[c] * inv); maxT = fmax(maxT, t[c] * inv); }
        for (long long c = 0; c < classes; c++) { sumS += exp(s[c] * inv - maxS); sumT += exp(t[c] * inv - maxT); }
        double logSumS = log(sumS) + maxS, logSumT = log(sumT) + maxT, kl = 0;
        for (long long c = 0; c < classes; c++) {
            double logPs = s[c] * inv - logSumS, logPt = t[c] * inv - logSumT, pt = exp(logPt);
            if (pt > 0) kl += pt * (logPt - logPs);
            if (grad) grad[n * classes + c] = (float) ((exp(logPs) - pt) * inv / batch);
        }
        losses[n] = (float) kl;
    }
}

// kind: 0 MSE, 1 L1, 2 smooth L1 (beta), 3 BCE with logits. Values per element; gradient scaled by 1/n.
extern "C" __global__ void pointwise_loss(int kind, float beta, const float *x, const float *y, float *values, float *grad,
                                          long long n) {
    GRID_STRIDE(i, n) {
        double xi = x[i], yi = y[i], d = xi - yi, value, derivative;
        if (kind == 0) { value = d * d; derivative = 2 * d; }
        else if (kind == 1) { value = fabs(d); derivative = (d > 0) - (d < 0); }
        else if (kind == 2) {
            if (fabs(d) < beta) { value = 0.5 * d * d / beta; derivative = d / beta; }
            else { value = fabs(d) - 0.5 * beta; derivative = (d > 0) - (d < 0); }
        } else {
            value = fmax(xi, 0.0) - xi * yi + log1p(exp(-fabs(xi)));
            double s = xi >= 0 ? 1 / (1 + exp(-xi)) : exp(xi) / (1 + exp(xi));
            derivative = s - yi;
        }
        values[i] = (float) value;
        if (grad) grad[i] = (float) (derivative / n);
    }
}

// One block: out[0] = scale * sum(values[0..n)), summed in double.
extern "C" __global__ void sum_scaled(const float *values, float *out, long long n, double scale) {
    __shared__ double partial[256];
    double sum = 0;
    for (long long i = threadIdx.x; i < n; i += blockDim.x) sum += values[i];
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[0] = (float) (partial[0] * scale);
}

// ---------------------------------------------------------------- reductions read on the host

extern "C" __global__ void sum_of_squares(const float *x, double *out, long long n) {
    __shared__ double partial[256];
    double sum = 0;
    GRID_STRIDE(i, n) { double v = x[i]; sum += v * v; }
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(out, partial[0]);
}

extern "C" __global__ void count_non_finite(const float *x, unsigned long long *out, long long n) {
    unsigned long long count = 0;
    GRID_STRIDE(i, n) if (!isfinite(x[i])) count++;
    if (count) atomicAdd(out, count);
}

// ---------------------------------------------------------------- metrics counted on the device

// Whether class c (logit v) ranks above the label (logit t) in torch.topk's order: NaN above every
// number, then larger values, and among equals the lower index first.
__device__ __forceinline__ bool ranks_above(float v, long long c, float t, long long label) {
    bool vNaN = isnan(v), tNaN = isnan(t);
    if (vNaN || tNaN) return vNaN && (!tNaN || c < label);
    return v > t || (v == t && c < label);
}

// *counter += the samples whose label is among the k top-ranked logits, one thread per sample as in
// softmax_cross_entropy. A label outside [0, classes) is not read and does not count.
extern "C" __global__ void count_correct(const float *logits, const int *labels, int *counter, long long batch,
                                         long long classes, long long k) {
    int count = 0;
    GRID_STRIDE(n, batch) {
        long long label = labels[n];
        if (label < 0 || label >= classes) continue;
        const float *row = logits + n * classes;
        float target = row[label];
        long long above = 0;
        for (long long c = 0; c < classes && above < k; c++) if (ranks_above(row[c], c, target, label)) above++;
        if (above < k) count++;
    }
    if (count) atomicAdd(counter, count);
}

// counts += a segmentation batch's pixel counts, one thread per pixel: [correct, counted,
// intersection[C], predicted[C], labelled[C]] (see ReductionKernels.countSegmentation). The predicted
// class is torch.argmax's (NaN above every number, the first maximum on ties); a pixel labelled
// ignoreIndex or outside [0, classes) counts for nothing. Logits [N, C, H, W] row-major or channels-last.
extern "C" __global__ void count_segmentation(const float *logits, const int *labels, int *counts, long long positions,
                                              long long pixels, long long classes, int ignoreIndex, int channelsLast) {
    int correct = 0, counted = 0;
    GRID_STRIDE(q, positions) {
        int label = labels[q];
        if (label == ignoreIndex || label < 0 || label >= classes) continue;
        long long n = q / pixels, p = q % pixels;
        long long base = channelsLast ? q * classes : n * classes * pixels + p;
        long long stride = channelsLast ? 1 : pixels;
        int best = 0;
        float bestValue = logits[base];
        for (long long c = 1; c < classes; c++) {
            float value = logits[base + c * stride];
            if (!isnan(bestValue) && (isnan(value) || value > bestValue)) {
                best = (int) c;
                bestValue = value;
            }
        }
        counted++;
        atomicAdd(counts + 2 + classes + best, 1);
        atomicAdd(counts + 2 + 2 * classes + label, 1);
        if (best == label) {
            correct++;
            atomicAdd(counts + 2 + label, 1);
        }
    }
    if (correct) atomicAdd(counts, correct);
    if (counted) atomicAdd(counts + 1, counted);
}

// ---------------------------------------------------------------- optimizer updates (torch.optim)

extern "C" __global__ void sgd_step(float *p, const float *g, float *buf, float lr, float momentum, float dampening,
                                    float weightDecay, int nesterov, int firstStep, long long n) {
    GRID_STRIDE(i, n) {
        float pi = p[i];
        float d = g[i] + weightDecay * pi;
        if (buf) {
            float b = firstStep ? d : momentum * buf[i] + (1 - dampening) * d;
            buf[i] = b;
            d = nesterov ? d + momentum * b : b;
        }
        p[i] = pi - lr * d;
    }
}

extern "C" __global__ void adam_step(float *p, const float *g, float *m, float *v, float beta1, float beta2, float eps,
                                     float biasCorrection2Sqrt, float stepSize, float decay, float coupledDecay, long long n) {
    GRID_STRIDE(i, n) {
        float pi = p[i] * decay;
        float gi = g[i] + coupledDecay * pi;
        float mi = beta1 * m[i] + (1 - beta1) * gi;
        float vi = beta2 * v[i] + (1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float denominator = sqrtf(vi) / biasCorrection2Sqrt + eps;
        p[i] = pi - stepSize * mi / denominator;
    }
}

extern "C" __global__ void rmsprop_step(float *p, const float *g, float *sq, float *ga, float *buf, float lr, float alpha,
                                        float eps, float weightDecay, float momentum, long long n) {
    GRID_STRIDE(i, n) {
        float pi = p[i];
        float gi = g[i] + weightDecay * pi;
        float s = alpha * sq[i] + (1 - alpha) * gi * gi;
        sq[i] = s;
        float average;
        if (ga) {
            float a = alpha * ga[i] + (1 - alpha) * gi;
            ga[i] = a;
            average = sqrtf(s - a * a) + eps;
        } else {
            average = sqrtf(s) + eps;
        }
        if (buf) {
            float b = momentum * buf[i] + gi / average;
            buf[i] = b;
            p[i] = pi - lr * b;
        } else {
            p[i] = pi - lr * gi / average;
        }
    }
}

extern "C" __global__ void adagrad_step(float *p, const float *g, float *sum, float clr, float eps, float weightDecay,
                                        long long n) {
    GRID_STRIDE(i, n) {
        float pi = p[i];
        float gi = g[i] + weightDecay * pi;
        float si = sum[i] + gi * gi;
        sum[i] = si;
        p[i] = pi - clr * gi / (sqrtf(si) + eps);
    }
}

// grad += l1 * sign(p), sign(0) = 0 (torch.sign): the gradient of the L1 penalty l1 * sum |p|.
extern "C" __global__ void l1_penalty(const float *p, float *g, float l1, long long n) {
    GRID_STRIDE(i, n) {
        float pi = p[i];
        g[i] += l1 * (float) ((pi > 0.0f) - (pi < 0.0f));
    }
}
