package dev.isthmus.device;

/** Losses computed element by element and averaged (PyTorch's reduction='mean'). */
public enum PointwiseLoss {
    /** (x − y)². */
    MSE,
    /** |x − y|. */
    L1,
    /** 0.5·d²/β when |d| &lt; β, else |d| − 0.5·β, with d = x − y. */
    SMOOTH_L1,
    /** max(x, 0) − x·y + log(1 + exp(−|x|)): binary cross-entropy on logits, stable for any x. */
    BCE_WITH_LOGITS
}
