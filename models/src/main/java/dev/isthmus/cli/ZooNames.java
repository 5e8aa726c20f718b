package dev.isthmus.cli;

import dev.isthmus.models.Zoo;

import java.util.Iterator;

/** The zoo's model names, for picocli's ${COMPLETION-CANDIDATES} in the MODEL parameters' help. */
final class ZooNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
        return Zoo.entries().stream().map(Zoo.Entry::name).iterator();
    }
}
