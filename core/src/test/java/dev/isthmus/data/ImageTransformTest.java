package dev.isthmus.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Decoding, channel conversion, resizing and cropping of single images, against hand-computed
 * values and values computed by torchvision 0.14 (Debian's python3-torchvision; the script is in
 * each test's comment).
 */
class ImageTransformTest {
    @TempDir
    Path folder;

    /** The sample {@code transform} makes of {@code file}. */
    static float[] load(ImageTransform transform, Path file) throws UnreadableImageException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sample = arena.allocate(ValueLayout.JAVA_FLOAT, transform.sampleShape().elementCount());
            transform.load(file, sample, 0);
            return sample.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    private Path write(BufferedImage image, String name) throws IOException {
        Path file = folder.resolve(name);
        String format = name.endsWith(".png") ? "png" : "jpeg";
        assertTrue(ImageIO.write(image, format, file.toFile()), "no ImageIO writer for " + format);
        return file;
    }

    private static BufferedImage grey(int width, int height, int[] values) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        image.getRaster().setPixels(0, 0, width, height, values);
        return image;
    }

    private static float[] unit(int... values) {
        float[] floats = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            floats[i] = values[i] / 255f;
        }
        return floats;
    }

    @Test
    void rgbPngBecomesGreyByTheItuR601LumaOfPillow() throws IOException {
        int[][] colours = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {100, 150, 200}, {17, 230, 64}, {255, 255, 255}, {1, 2, 3}};
        BufferedImage image = new BufferedImage(colours.length, 1, BufferedImage.TYPE_INT_RGB);
        for (int x = 0; x < colours.length; x++) {
            image.setRGB(x, 0, colours[x][0] << 16 | colours[x][1] << 8 | colours[x][2]);
        }
        Path file = write(image, "colours.png");
        // By hand, L = R·299/1000 + G·587/1000 + B·114/1000 rounded: 76.245, 149.685, 29.07, 140.75,
        // 147.389, 255, 1.815. Pillow 9.4's Image.convert('L') gives the same: [76, 150, 29, 141, 147, 255, 2].
        assertArrayEquals(unit(76, 150, 29, 141, 147, 255, 2), load(ImageTransform.toSize(1, 1, colours.length), file));
        // As RGB the same file keeps its channels, one plane each.
        float[] rgb = load(ImageTransform.toSize(3, 1, colours.length), file);
        for (int x = 0; x < colours.length; x++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(colours[x][c] / 255f, rgb[c * colours.length + x], "channel " + c + " of pixel " + x);
            }
        }
    }

    @Test
    void rgbJpegBecomesGreyFromItsDecodedColours() throws IOException {
        // JPEG is lossy: the luma is checked against the colours ImageIO decodes, which must be near those written.
        BufferedImage image = new BufferedImage(16, 8, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 16; x++) {
                image.setRGB(x, y, x < 8 ? 0xC83264 : 0x1E8CDC); // (200, 50, 100) and (30, 140, 220) blocks
            }
        }
        Path file = write(image, "blocks.jpg");
        BufferedImage decoded = ImageIO.read(file.toFile());
        float[] grey = load(ImageTransform.toSize(1, 8, 16), file);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 16; x++) {
                int rgb = decoded.getRGB(x, y);
                int r = rgb >> 16 & 0xFF;
                int g = rgb >> 8 & 0xFF;
                int b = rgb & 0xFF;
                int written = x < 8 ? 0xC83264 : 0x1E8CDC;
                // Chroma subsampling blurs the colours near the edge between the blocks; away from it they hold.
                boolean interior = x < 5 || x > 10;
                assertTrue(!interior || Math.abs(r - (written >> 16 & 0xFF)) <= 4 && Math.abs(g - (written >> 8 & 0xFF)) <= 4
                        && Math.abs(b - (written & 0xFF)) <= 4, "decoded " + r + "," + g + "," + b + " at " + x + "," + y);
                double luma = r * 299 / 1000.0 + g * 587 / 1000.0 + b * 114 / 1000.0;
                float expected = (float) Math.round(luma) / 255f;
                assertEquals(expected, grey[y * 16 + x], 1e-7f, "pixel " + x + "," + y + " of " + r + "," + g + "," + b);
            }
        }
        // (200, 50, 100) → 200·0.299 + 50·0.587 + 100·0.114 = 100.55; the decoded block is within a few levels of it.
        assertEquals(100.55 / 255, grey[0], 4 / 255.0);
    }

    @Test
    void greyPngBecomesRgbByRepetition() throws IOException {
        int[] values = {0, 1, 127, 128, 254, 255};
        Path file = write(grey(3, 2, values), "grey.png");
        float[] rgb = load(ImageTransform.toSize(3, 2, 3), file);
        float[] plane = unit(values);
        for (int c = 0; c < 3; c++) {
            assertArrayEquals(plane, Arrays.copyOfRange(rgb, c * 6, c * 6 + 6), "channel " + c);
        }
        assertArrayEquals(plane, load(ImageTransform.toSize(1, 2, 3), file));
    }

    @Test
    void sixteenBitGreyScalesToEightBitsAndAlphaIsDropped() throws IOException {
        BufferedImage deep = new BufferedImage(3, 1, BufferedImage.TYPE_USHORT_GRAY);
        deep.getRaster().setPixels(0, 0, 3, 1, new int[] {0, 257 * 100, 65535});
        assertArrayEquals(unit(0, 100, 255), load(ImageTransform.toSize(1, 1, 3), write(deep, "deep.png")));

        BufferedImage translucent = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        translucent.setRGB(0, 0, 0x00FF0000); // fully transparent red stays red, as Pillow's convert('RGB')
        translucent.setRGB(1, 0, 0x800A141E);
        assertArrayEquals(unit(255, 10, 0, 20, 0, 30), load(ImageTransform.toSize(3, 1, 2), write(translucent, "alpha.png")));
    }

    @Test
    void resizeOfTheShorterSideThenCenterCropMatchesTorchvision() throws IOException {
        int[] values = new int[24];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 10; // 4 rows of 6
        }
        Path file = write(grey(6, 4, values), "ramp.png");
        // x = torch.tensor(values, dtype=uint8).reshape(4, 6).float().div(255)[None]
        // F.center_crop(F.resize(x, 3, BILINEAR, antialias=True), 3): 3x4, then columns [0, 3) (round(0.5) = 0)
        float[] expected = {0.08529412746429443f, 0.1403050273656845f, 0.19694989919662476f, 0.36764711141586304f,
            0.4226579964160919f, 0.4793028235435486f, 0.6500000953674316f, 0.7050109505653381f, 0.7616557478904724f};
        assertArrayEquals(expected, load(new ImageTransform(1, 3, 3, 3, 3), file), 1e-6f);
        // --resize alone crops to the model's size all the same.
        assertArrayEquals(expected, load(new ImageTransform(1, 3, 3, 3, 0), file), 1e-6f);
    }

    @Test
    void straightResizeMatchesTorchvisionEnlargingAndShrinking() throws IOException {
        Path small = write(grey(3, 2, new int[] {0, 100, 200, 50, 150, 250}), "small.png");
        // F.resize(x, [4, 5], BILINEAR, antialias=True) of [[0, 100, 200], [50, 150, 250]] / 255
        float[] enlarged = {0.0f, 0.1568627655506134f, 0.3921568691730499f, 0.6274510622024536f, 0.7843137383460999f,
            0.04901960864663124f, 0.20588237047195435f, 0.44117647409439087f, 0.6764706373214722f, 0.8333333730697632f,
            0.14705882966518402f, 0.3039216101169586f, 0.5392156839370728f, 0.7745099067687988f, 0.9313725233078003f,
            0.19607843458652496f, 0.35294121503829956f, 0.5882353186607361f, 0.8235294818878174f, 0.9803921580314636f};
        assertArrayEquals(enlarged, load(ImageTransform.toSize(1, 4, 5), small), 1e-6f);

        int[] values = new int[70];
        for (int y = 0; y < 7; y++) {
            for (int x = 0; x < 10; x++) {
                values[y * 10 + x] = (x * 37 + y * 11) % 256;
            }
        }
        Path large = write(grey(10, 7, values), "large.png");
        // F.resize(x, [3, 4], BILINEAR, antialias=True): the triangle filter widens to cover every input pixel.
        float[] shrunk = {0.18207283318042755f, 0.5070924162864685f, 0.6317983269691467f, 0.23947031795978546f,
            0.27450984716415405f, 0.5995294451713562f, 0.6179377436637878f, 0.31848591566085815f,
            0.366946816444397f, 0.6919664144515991f, 0.4552605450153351f, 0.3787114918231964f};
        assertArrayEquals(shrunk, load(ImageTransform.toSize(1, 3, 4), large), 1e-6f);
        // At its own size an image comes back exactly.
        assertArrayEquals(unit(values), load(ImageTransform.toSize(1, 7, 10), large));
    }

    @Test
    void centerCropLargerThanTheImagePadsWithZerosAsTorchvision() throws IOException {
        int[] values = {0, 20, 40, 60, 80, 100, 120, 140, 160};
        Path file = write(grey(3, 3, values), "three.png");
        // F.center_crop(x, 4): padding (left, top, right, bottom) = (0, 0, 1, 1), so the image stays top-left.
        float[] expected = unit(0, 20, 40, 0, 60, 80, 100, 0, 120, 140, 160, 0, 0, 0, 0, 0);
        assertArrayEquals(expected, load(new ImageTransform(1, 4, 4, 0, 4), file));
        // A crop inside the image starts at round((size - crop) / 2), half to even: (3 - 2) / 2 = 0.5 → 0.
        assertArrayEquals(unit(0, 20, 60, 80), load(new ImageTransform(1, 2, 2, 0, 2), file));
    }

    @Test
    void geometryFollowsTorchvisionsIntegerRules() {
        // Resize(3) of 4x6 (h x w): the shorter side (h) becomes 3, w = int(3 * 6 / 4) = 4.
        assertArrayEquals(new long[] {3, 4}, ImageTransform.shorterSideTo(3, 4, 6));
        // Resize(4) of 7x5: the width is shorter and becomes 4, h = int(4 * 7 / 5) = int(5.6) = 5.
        assertArrayEquals(new long[] {5, 4}, ImageTransform.shorterSideTo(4, 7, 5));
        assertEquals(0, ImageTransform.cropOffset(4, 3)); // round(0.5) = 0
        assertEquals(2, ImageTransform.cropOffset(6, 3)); // round(1.5) = 2
        assertEquals(-1, ImageTransform.cropOffset(3, 6)); // padded by (6 - 3) // 2 = 1 before
    }

    @Test
    void aCropThatIsNotTheModelsSizeIsRefused() {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> new ImageTransform(1, 28, 28, 32, 24));
        assertTrue(refused.getMessage().contains("24x24") && refused.getMessage().contains("28x28"), refused.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ImageTransform.toSize(2, 28, 28));
    }

    @Test
    void unreadableFilesAreReportedByName() throws IOException {
        Path garbage = folder.resolve("garbage.png");
        Files.write(garbage, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        UnreadableImageException notAnImage = assertThrows(UnreadableImageException.class,
                () -> load(ImageTransform.toSize(1, 2, 2), garbage));
        assertEquals(garbage, notAnImage.file());
        assertTrue(notAnImage.getMessage().startsWith(garbage.toString()), notAnImage.getMessage());

        int[] values = new int[64 * 64];
        for (int i = 0; i < values.length; i++) {
            values[i] = (i * 7919) % 256; // noise, so the compressed data is long enough to cut
        }
        Path whole = write(grey(64, 64, values), "whole.png");
        byte[] bytes = Files.readAllBytes(whole);
        Path truncated = folder.resolve("truncated.png");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
        // The header is intact, the pixels are not.
        assertEquals(new ImageDecoding.Header(64, 64), ImageDecoding.header(truncated));
        UnreadableImageException cut = assertThrows(UnreadableImageException.class,
                () -> load(ImageTransform.toSize(1, 64, 64), truncated));
        assertEquals(truncated, cut.file());
        assertThrows(UnreadableImageException.class, () -> load(ImageTransform.toSize(1, 2, 2), folder.resolve("missing.png")));
    }
}
