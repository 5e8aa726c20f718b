package dev.isthmus.data;

/**
 * Draws the filled shapes of the synthetic shape data sets onto a float plane, and tells which
 * pixels a shape covers (the same test for the picture and for its mask).
 */
final class ShapePainter {
    enum Kind { CIRCLE, RECTANGLE }

    /** A filled circle of centre (cx, cy) and radius r, or the rectangle [x0, x1] × [y0, y1]. */
    record Shape2d(Kind kind, float cx, float cy, float radius, int x0, int y0, int x1, int y1) {
        static Shape2d circle(float cx, float cy, float radius) {
            return new Shape2d(Kind.CIRCLE, cx, cy, radius, 0, 0, -1, -1);
        }

        static Shape2d rectangle(int x0, int y0, int x1, int y1) {
            return new Shape2d(Kind.RECTANGLE, 0, 0, 0, x0, y0, x1, y1);
        }

        /** Whether pixel (x, y) (its centre) lies inside. */
        boolean covers(int x, int y) {
            if (kind == Kind.RECTANGLE) {
                return x >= x0 && x <= x1 && y >= y0 && y <= y1;
            }
            float dx = x - cx;
            float dy = y - cy;
            return dx * dx + dy * dy <= radius * radius;
        }

        Shape2d shifted(float dx, float dy) {
            return kind == Kind.CIRCLE ? circle(cx + dx, cy + dy, radius)
                    : rectangle(x0 + Math.round(dx), y0 + Math.round(dy), x1 + Math.round(dx), y1 + Math.round(dy));
        }
    }

    private ShapePainter() {
    }

    /** A byte-quantised intensity in [0, 1], as a decoded image's pixel / 255 would be. */
    static float quantised(float value) {
        return Pixels.toUnit(Math.clamp((int) (value * 255f), 0, 255));
    }
}
