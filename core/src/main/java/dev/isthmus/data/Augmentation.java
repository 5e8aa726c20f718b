package dev.isthmus.data;

/**
 * Training-time augmentation as torchvision's {@code RandomCrop(size, padding=cropPadding)}
 * followed by {@code RandomHorizontalFlip()}: the image is zero-padded by {@code cropPadding} on
 * every side and a window of the original size is cut at a uniformly drawn offset in
 * [0, 2·cropPadding] on each axis; then, with probability 1/2, mirrored left to right. Padding is
 * zero in [0, 1] units, before any {@link Normalization}, as in torchvision where the crop
 * precedes {@code ToTensor} and {@code Normalize}.
 *
 * @param cropPadding the zero padding before the random crop (0: no crop)
 * @param horizontalFlip whether to flip each image left to right with probability 1/2
 */
public record Augmentation(int cropPadding, boolean horizontalFlip) {
    public static final Augmentation NONE = new Augmentation(0, false);

    /** Validates the padding (at least 0). */
    public Augmentation {
        if (cropPadding < 0) {
            throw new IllegalArgumentException("Augmentation: crop padding must be >= 0, got " + cropPadding);
        }
    }

    /** {@return whether this augmentation leaves every image as it is (no crop padding, no flip)} */
    public boolean isIdentity() {
        return cropPadding == 0 && !horizontalFlip;
    }
}
