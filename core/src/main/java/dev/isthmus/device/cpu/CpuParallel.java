package dev.isthmus.device.cpu;

import java.util.concurrent.locks.LockSupport;

/**
 * A tiny fork-join for the CPU kernels: splits an index range into one chunk per core, runs the
 * first chunk on the calling thread and the rest on long-lived worker threads, then waits.
 * Workers spin briefly before parking, because kernels arrive back to back during a training
 * step and waking a parked thread costs more than most chunks. Ranges issued from inside a chunk
 * (nested), or while another thread holds the pool, run inline on the caller.
 */
public final class CpuParallel implements AutoCloseable {
    /** The body of a parallel loop over [from, to). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static final int SPIN_ITERATIONS = 20_000;

    private final Worker[] workers;
    private final Object dispatchLock = new Object();
    private volatile boolean dispatching;
    private final ThreadLocal<Boolean> insideChunk = ThreadLocal.withInitial(() -> Boolean.FALSE);

    public CpuParallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("CpuParallel: threads must be >= 1, got " + threads);
        }
        workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("isthmus-cpu-" + (i + 1));
            workers[i].start();
        }
    }

    public int threads() {
        return workers.length + 1;
    }

    /**
     * Whether {@link #forRange} would split [0, count) at all. Kernels test this first and run small
     * ranges directly, so that the common small case does not even create the lambda.
     */
    public boolean worthSplitting(int count, int minChunk) {
        return workers.length > 0 && count / Math.max(1, minChunk) >= 2;
    }

    /**
     * Runs {@code body} over [0, count) split into at most {@link #threads()} contiguous chunks of
     * at least {@code minChunk} indices each.
     */
    public void forRange(int count, int minChunk, RangeBody body) {
        if (count <= 0) {
            return;
        }
        int chunks = Math.min(threads(), Math.max(1, count / Math.max(1, minChunk)));
        if (chunks == 1 || insideChunk.get() || !tryDispatch()) {
            body.run(0, count);
            return;
        }
        try {
            int base = count / chunks;
            int extra = count % chunks;
            int start = base + (extra > 0 ? 1 : 0);
            int firstEnd = start;
            for (int chunk = 1; chunk < chunks; chunk++) {
                int size = base + (chunk < extra ? 1 : 0);
                workers[chunk - 1].submit(body, start, start + size);
                start += size;
            }
            Throwable failure = null;
            insideChunk.set(Boolean.TRUE);
            try {
                body.run(0, firstEnd);
            } catch (Throwable t) {
                failure = t;
            } finally {
                insideChunk.set(Boolean.FALSE);
            }
            for (int chunk = 1; chunk < chunks; chunk++) {
                Throwable workerFailure = workers[chunk - 1].await();
                if (failure == null) {
                    failure = workerFailure;
                }
            }
            if (failure instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (failure instanceof Error error) {
                throw error;
            }
        } finally {
            dispatching = false;
        }
    }

    private boolean tryDispatch() {
        synchronized (dispatchLock) {
            if (dispatching) {
                return false;
            }
            dispatching = true;
            return true;
        }
    }

    @Override
    public void close() {
        for (Worker worker : workers) {
            worker.shutdown();
        }
    }

    private final class Worker extends Thread {
        private volatile RangeBody body;
        private volatile int from;
        private volatile int to;
        private volatile boolean done = true;
        private volatile boolean stopping;
        private volatile Thread waiter;
        private Throwable failure;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        void submit(RangeBody work, int start, int end) {
            from = start;
            to = end;
            failure = null;
            done = false;
            waiter = Thread.currentThread();
            body = work;
            LockSupport.unpark(this);
        }

        Throwable await() {
            int spins = 0;
            while (!done) {
                if (++spins < SPIN_ITERATIONS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            return failure;
        }

        void shutdown() {
            stopping = true;
            LockSupport.unpark(this);
        }

        @Override
        public void run() {
            insideChunk.set(Boolean.TRUE);
            int spins = 0;
            while (!stopping) {
                RangeBody work = body;
                if (work == null) {
                    if (++spins < SPIN_ITERATIONS) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.park(this);
                    }
                    continue;
                }
                spins = 0;
                body = null;
                try {
                    work.run(from, to);
                } catch (Throwable t) {
                    failure = t;
                }
                done = true;
                LockSupport.unpark(waiter);
            }
        }
    }
}
