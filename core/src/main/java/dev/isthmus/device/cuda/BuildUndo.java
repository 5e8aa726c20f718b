package dev.isthmus.device.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * The undo actions of a device under construction, one pushed after each resource it acquires
 * (context, stream, event, handles, module, memory). If a later step fails, {@link #undoAll}
 * releases what was acquired, last first, so that a half-built device holds nothing and
 * {@code auto} can fall back to the CPU clean. A failing undo does not stop the others; its
 * failure is attached to the one that caused the unwinding.
 */
final class BuildUndo {
    private record Action(String what, Runnable undo) {
    }

    private final List<Action> actions = new ArrayList<>();

    /** Registers how to release the resource just acquired. */
    void push(String what, Runnable undo) {
        actions.add(new Action(what, undo));
    }

    /** Runs every action, the most recent first, and forgets them; throws if one failed (a probe cleaning up after success). */
    void undoAll() {
        IllegalStateException failures = new IllegalStateException("releasing resources failed");
        undoAll(failures);
        if (failures.getSuppressed().length > 0) {
            throw failures;
        }
    }

    /** Runs every action, the most recent first, and forgets them; their failures become suppressed exceptions of {@code cause}. */
    void undoAll(Throwable cause) {
        for (int i = actions.size() - 1; i >= 0; i--) {
            Action action = actions.get(i);
            try {
                action.undo().run();
            } catch (RuntimeException | Error failed) {
                cause.addSuppressed(new IllegalStateException("releasing resources: " + action.what() + " failed: "
                        + failed.getMessage(), failed));
            }
        }
        actions.clear();
    }
}
