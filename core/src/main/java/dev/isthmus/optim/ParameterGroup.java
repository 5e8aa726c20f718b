package dev.isthmus.optim;

import java.util.ArrayList;
import java.util.List;

/**
 * A rule for one of an optimizer's parameter groups (PyTorch's {@code param_groups}): the
 * parameters whose names are {@code prefix} or lie under it ({@code fc} covers {@code fc.weight};
 * {@code *} covers every name) take this learning rate, weight decay and L1 penalty.
 *
 * <p>Weight decay is PyTorch's per optimizer (SGD, Adam, RMSprop, Adagrad: L2, wd·w added to
 * the gradient; AdamW: decoupled). The L1 penalty l1·Σ|w| is added to the gradient as l1·sign(w)
 * (sign(0) = 0) just before the update, after any gradient clipping, which is what PyTorch gives
 * for {@code loss + l1 * w.abs().sum()} when nothing is clipped.
 *
 * @param prefix       a parameter-name prefix, or {@code *}
 * @param learningRate the group's learning rate at the start (a schedule scales every group alike)
 * @param weightDecay  the group's weight decay, or NaN for the optimizer's own
 * @param l1           the L1 penalty's coefficient, 0 for none
 */
public record ParameterGroup(String prefix, double learningRate, double weightDecay, double l1) {
    /**
     * Checks the components.
     *
     * @param prefix the parameter-name prefix, or * for every other parameter
     * @param learningRate the learning rate
     * @param weightDecay the weight decay (L2)
     * @param l1 the L1 penalty
     */
    public ParameterGroup {
        if (prefix == null || prefix.isEmpty()) {
            throw new IllegalArgumentException("parameter group: the prefix must not be empty");
        }
        if (!(learningRate >= 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("parameter group '" + prefix + "': learning rate must be finite and >= 0, got "
                    + learningRate);
        }
        if (!Double.isNaN(weightDecay) && (!(weightDecay >= 0) || Double.isInfinite(weightDecay))) {
            throw new IllegalArgumentException("parameter group '" + prefix + "': weight decay must be finite and >= 0, got "
                    + weightDecay);
        }
        if (!(l1 >= 0) || Double.isInfinite(l1)) {
            throw new IllegalArgumentException("parameter group '" + prefix + "': l1 must be finite and >= 0, got " + l1);
        }
    }

    /**
     * Whether a parameter of this name belongs to the group.
     *
     * @param parameterName the parameter name
     * @return whether covers
     */
    public boolean covers(String parameterName) {
        return prefix.equals("*") || parameterName.equals(prefix) || parameterName.startsWith(prefix + ".");
    }

    /**
     * Parses {@code fc=0.01,*=0.001} or, with a group's own decay and penalty,
     * {@code fc=0.01:wd=1e-4:l1=1e-5,*=0.001}: comma-separated {@code PREFIX=LR[:wd=X][:l1=Y]}.
     * A group without {@code wd} keeps the optimizer's weight decay; without {@code l1}, {@code defaultL1}.
     *
     * @param text the text
     * @param defaultL1 the default l1
     * @throws IllegalArgumentException naming the part that does not parse
     * @return the parse
     */
    public static List<ParameterGroup> parse(String text, double defaultL1) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("parameter groups: expected PREFIX=LR[:wd=X][:l1=Y],..., got nothing");
        }
        List<ParameterGroup> groups = new ArrayList<>();
        for (String part : text.split(",")) {
            String[] fields = part.trim().split(":");
            int equals = fields[0].indexOf('=');
            if (equals <= 0) {
                throw new IllegalArgumentException("parameter groups: '" + part + "' is not PREFIX=LR[:wd=X][:l1=Y]");
            }
            String prefix = fields[0].substring(0, equals).trim();
            double lr = number(part, fields[0].substring(equals + 1));
            double weightDecay = Double.NaN;
            double l1 = defaultL1;
            for (int i = 1; i < fields.length; i++) {
                String field = fields[i].trim();
                if (field.startsWith("wd=")) {
                    weightDecay = number(part, field.substring(3));
                } else if (field.startsWith("l1=")) {
                    l1 = number(part, field.substring(3));
                } else {
                    throw new IllegalArgumentException("parameter groups: '" + field + "' in '" + part
                            + "' is neither wd=X nor l1=Y");
                }
            }
            for (ParameterGroup earlier : groups) {
                if (earlier.prefix.equals(prefix)) {
                    throw new IllegalArgumentException("parameter groups: '" + prefix + "' is given twice");
                }
            }
            groups.add(new ParameterGroup(prefix, lr, weightDecay, l1));
        }
        return groups;
    }

    private static double number(String part, String text) {
        try {
            return Double.parseDouble(text.trim());
        } catch (NumberFormatException bad) {
            throw new IllegalArgumentException("parameter groups: '" + text + "' in '" + part + "' is not a number");
        }
    }
}
