package dev.isthmus.device.cuda;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A device that fails to start releases what it acquired, last first, even when a release fails. */
class BuildUndoTest {
    @Test
    void aFailedStartReleasesInReverseOrderAndKeepsGoingPastAFailingRelease() {
        List<String> released = new ArrayList<>();
        BuildUndo undo = new BuildUndo();
        undo.push("close the host arena", () -> released.add("arena"));
        undo.push("cuDevicePrimaryCtxRelease", () -> released.add("context"));
        undo.push("cuStreamDestroy", () -> {
            released.add("stream");
            throw new IllegalStateException("CUDA_ERROR_INVALID_HANDLE");
        });
        undo.push("cublasDestroy", () -> released.add("cublas"));

        RuntimeException failure = new IllegalStateException("cudnnCreate failed");
        undo.undoAll(failure);

        assertEquals(List.of("cublas", "stream", "context", "arena"), released);
        assertEquals(1, failure.getSuppressed().length);
        String note = failure.getSuppressed()[0].getMessage();
        assertTrue(note.contains("cuStreamDestroy") && note.contains("CUDA_ERROR_INVALID_HANDLE"), note);

        undo.undoAll(failure);
        assertEquals(4, released.size(), "each action runs once");
    }

    @Test
    void aProbeReleasesOnSuccessAndReportsAFailedRelease() {
        List<String> released = new ArrayList<>();
        BuildUndo undo = new BuildUndo();
        undo.push("restore the context", () -> released.add("restored"));
        undo.push("cuDevicePrimaryCtxRelease", () -> {
            throw new IllegalStateException("CUDA_ERROR_DEINITIALIZED");
        });
        IllegalStateException failure = assertThrows(IllegalStateException.class, undo::undoAll);
        assertEquals(List.of("restored"), released, "the failure does not stop the rest");
        assertTrue(failure.getSuppressed()[0].getMessage().contains("cuDevicePrimaryCtxRelease"));
    }
}
