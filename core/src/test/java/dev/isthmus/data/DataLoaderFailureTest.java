package dev.isthmus.data;

import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Failures and shutdown of the prefetch thread. A hang fails the test instead of blocking the build. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DataLoaderFailureTest {
    /** Delegates to a dataset but fails reading one sample with the given throwable. */
    private static Dataset failingAt(int badIndex, Throwable problem) {
        InMemoryDataset inner = DataLoaderTest.indexed(20);
        return new Dataset() {
            public int size() {
                return inner.size();
            }

            public Shape sampleShape() {
                return inner.sampleShape();
            }

            public int classes() {
                return inner.classes();
            }

            public int label(int index) {
                return inner.label(index);
            }

            public void read(int index, MemorySegment destination, long floatOffset) {
                if (index == badIndex) {
                    if (problem instanceof Error error) {
                        throw error;
                    }
                    throw (RuntimeException) problem;
                }
                inner.read(index, destination, floatOffset);
            }

            public String describe() {
                return "failing at " + badIndex;
            }
        };
    }

    private static void failureSurfaces(boolean prefetch, Throwable problem) {
        DataLoader loader = new DataLoader(failingAt(5, problem), 4, false, false, 0, null, null, prefetch);
        try {
            for (int epoch = 0; epoch < 2; epoch++) {
                loader.startEpoch(epoch);
                assertNotNull(loader.next());
                DataLoadingException failure = assertThrows(DataLoadingException.class, loader::next);
                assertSame(problem, failure.getCause());
                assertEquals(1, failure.batch());
                assertEquals(epoch, failure.epoch());
                assertTrue(failure.getMessage().contains("batch 1 of epoch " + epoch), failure.getMessage());
                IllegalStateException stopped = assertThrows(IllegalStateException.class, loader::next);
                assertSame(failure, stopped.getCause());
            }
        } finally {
            loader.close();
        }
        if (prefetch) {
            assertFalse(loader.prefetchThread().isAlive());
        }
        assertDoesNotThrow(loader::close);
    }

    @Test
    void backgroundFailureSurfacesFromNext() {
        failureSurfaces(true, new IllegalStateException("sample 5 is corrupt"));
        failureSurfaces(true, new AssertionError("an Error, not an Exception"));
    }

    @Test
    void callerThreadFailureSurfacesTheSameWay() {
        failureSurfaces(false, new IllegalStateException("sample 5 is corrupt"));
    }

    @Test
    void closeStopsThePrefetchThread() {
        DataLoader loader = new DataLoader(DataLoaderTest.indexed(50), 8, true, false, 0, null, null, true);
        Thread thread = loader.prefetchThread();
        assertTrue(thread.isAlive());
        assertTrue(thread.isDaemon());
        assertTrue(thread.getName().startsWith("isthmus-data-prefetch-"), thread.getName());
        loader.startEpoch(0);
        loader.next();
        loader.close();
        assertFalse(thread.isAlive());
        loader.close();
        try (DataLoader plain = new DataLoader(DataLoaderTest.indexed(5), 8, true, false, 0, null, null, false)) {
            assertNull(plain.prefetchThread());
        }
    }

    /** A dataset whose read of sample 4 signals {@code entered}, then waits for {@code release}. */
    private static Dataset blockingAtSample4(CountDownLatch entered, CountDownLatch release) {
        InMemoryDataset inner = DataLoaderTest.indexed(20);
        return new Dataset() {
            public int size() {
                return inner.size();
            }

            public Shape sampleShape() {
                return inner.sampleShape();
            }

            public int classes() {
                return inner.classes();
            }

            public int label(int index) {
                return inner.label(index);
            }

            public void read(int index, MemorySegment destination, long floatOffset) {
                if (index == 4) {
                    entered.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                    }
                }
                inner.read(index, destination, floatOffset);
            }

            public String describe() {
                return "blocking at sample 4";
            }
        };
    }

    /** close() while the prefetch thread is inside Dataset.read waits for it, then frees the memory. */
    @Test
    void closeDuringAPrefetch() throws InterruptedException {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        DataLoader loader = new DataLoader(blockingAtSample4(entered, release), 4, false, false, 0, null, null, true);
        loader.startEpoch(0);
        loader.next();
        entered.await();
        release.countDown();
        loader.close();
        assertFalse(loader.prefetchThread().isAlive());
    }

    /** An interrupted caller that has to wait for the prefetch still gets its batch and keeps the interrupt. */
    @Test
    void interruptedCallerWaitsAndKeepsTheInterrupt() throws InterruptedException {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread caller = Thread.currentThread();
        Thread releaser = new Thread(() -> {
            // Release the prefetch thread only once the caller is parked waiting for it.
            while (caller.getState() != Thread.State.TIMED_WAITING) {
                Thread.onSpinWait();
            }
            release.countDown();
        });
        try (DataLoader loader = new DataLoader(blockingAtSample4(entered, release), 4, false, false, 0, null, null, true)) {
            loader.startEpoch(0);
            loader.next();
            entered.await();
            releaser.start();
            caller.interrupt();
            Batch batch = loader.next();
            assertTrue(Thread.interrupted(), "the interrupt was swallowed");
            assertEquals(4, batch.size());
        } finally {
            releaser.join();
        }
    }
}
