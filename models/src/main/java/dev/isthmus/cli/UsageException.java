package dev.isthmus.cli;

/** The command line was wrong: exit status 2 and a one-line reason. */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }
}
