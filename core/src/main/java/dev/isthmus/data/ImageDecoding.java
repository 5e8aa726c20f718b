package dev.isthmus.data;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;

/**
 * Image files decoded with the JDK's ImageIO. Why ImageIO: it is part of the JDK, so decoding
 * PNG and JPEG adds no dependency and no native library, it is maintained with the JDK, and its
 * decoders are plain Java (a corrupt file throws an exception, it cannot crash the JVM). It reads
 * PNG (1 to 16 bits, grey, palette, RGB, with or without alpha) and baseline and progressive JPEG;
 * CMYK JPEGs and other rarities are reported as unreadable.
 *
 * <p>Pixels are taken as stored, without colour management (as Pillow, and therefore torchvision's
 * ImageFolder, does): grey images from their raster (not through Java's linear grey colour space),
 * colour ones as sRGB bytes; alpha is dropped, as Pillow's {@code convert('RGB')} drops it. Samples
 * of other depths than 8 bits are scaled to 8 bits with rounding.
 */
final class ImageDecoding {
    /**
     * Pillow's decompression-bomb limit (twice its warning threshold of 89,478,485 pixels): a
     * larger image is refused before its pixels are decoded.
     */
    static final long MAX_PIXELS = 178_956_970L;

    private ImageDecoding() {
    }

    /** Width and height from an image's header. */
    record Header(int width, int height) {
    }

    /** Reads only the header: the file exists, ImageIO has a decoder for it, and it states its size. */
    static Header header(Path file) throws UnreadableImageException {
        requireReadable(file);
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            ImageReader reader = reader(in, file);
            try {
                reader.setInput(in, true, true);
                return checkedSize(file, reader.getWidth(0), reader.getHeight(0));
            } finally {
                reader.dispose();
            }
        } catch (UnreadableImageException unreadable) {
            throw unreadable;
        } catch (IOException | RuntimeException broken) {
            throw new UnreadableImageException(file, "cannot read its header (" + describe(broken) + ")", broken);
        }
    }

    /**
     * Decodes {@code file} into one plane (grey) or three (RGB) as {@code channels} asks: a colour
     * image wanted grey becomes its ITU-R 601 luma here; a grey image wanted as RGB stays one plane.
     */
    static DecodedImage decode(Path file, int channels) throws UnreadableImageException {
        requireReadable(file);
        BufferedImage image;
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            ImageReader reader = reader(in, file);
            try {
                reader.setInput(in, true, true);
                checkedSize(file, reader.getWidth(0), reader.getHeight(0));
                image = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (UnreadableImageException unreadable) {
            throw unreadable;
        } catch (IOException | RuntimeException broken) {
            // ImageIO's decoders throw IIOException for a bad stream, but some throw runtime
            // exceptions (index out of bounds, illegal argument) on corrupt data.
            throw new UnreadableImageException(file, "cannot be decoded (" + describe(broken) + ")", broken);
        }
        return planes(image, channels);
    }

    private static void requireReadable(Path file) throws UnreadableImageException {
        if (!Files.isRegularFile(file)) {
            throw new UnreadableImageException(file, "no such file");
        }
        if (!Files.isReadable(file)) {
            throw new UnreadableImageException(file, "not readable (permissions)");
        }
    }

    private static ImageReader reader(ImageInputStream in, Path file) throws UnreadableImageException {
        if (in == null) {
            throw new UnreadableImageException(file, "cannot be opened");
        }
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        if (!readers.hasNext()) {
            throw new UnreadableImageException(file, "not an image ImageIO can decode (PNG or JPEG)");
        }
        return readers.next();
    }

    private static Header checkedSize(Path file, int width, int height) throws UnreadableImageException {
        if (width < 1 || height < 1) {
            throw new UnreadableImageException(file, "its header gives an empty size " + width + "x" + height);
        }
        if ((long) width * height > MAX_PIXELS) {
            throw new UnreadableImageException(file, width + "x" + height + " is more than " + MAX_PIXELS
                    + " pixels (refused as a possible decompression bomb)");
        }
        return new Header(width, height);
    }

    private static String describe(Throwable broken) {
        String message = broken.getMessage();
        Throwable cause = broken.getCause();
        if (cause != null && cause.getMessage() != null && (message == null || !message.contains(cause.getMessage()))) {
            message = (message == null ? "" : message + ": ") + cause.getMessage();
        }
        return message == null || message.isBlank() ? broken.getClass().getSimpleName() : message;
    }

    static DecodedImage planes(BufferedImage image, int channels) {
        int width = image.getWidth();
        int height = image.getHeight();
        ColorModel colors = image.getColorModel();
        if (!(colors instanceof IndexColorModel) && colors.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            return new DecodedImage(width, height, new float[][] {greyPlane(image.getRaster(), colors.getComponentSize(0))});
        }
        int area = width * height;
        float[][] planes = new float[channels][area];
        int[] row = new int[width];
        for (int y = 0; y < height; y++) {
            image.getRGB(0, y, width, 1, row, 0, width);
            for (int x = 0; x < width; x++) {
                int argb = row[x];
                int red = (argb >>> 16) & 0xFF;
                int green = (argb >>> 8) & 0xFF;
                int blue = argb & 0xFF;
                int at = y * width + x;
                if (channels == 1) {
                    planes[0][at] = Pixels.toUnit(luma(red, green, blue));
                } else {
                    planes[0][at] = Pixels.toUnit(red);
                    planes[1][at] = Pixels.toUnit(green);
                    planes[2][at] = Pixels.toUnit(blue);
                }
            }
        }
        return new DecodedImage(width, height, planes);
    }

    /**
     * ITU-R 601 luma, L = R·299/1000 + G·587/1000 + B·114/1000, computed as Pillow's
     * {@code convert('L')} does: in 16-bit fixed point (the weights 19595, 38470 and 7471 sum to
     * 65536) and rounded to the nearest integer, so a grey colour keeps its value exactly.
     */
    static int luma(int red, int green, int blue) {
        return (red * 19595 + green * 38470 + blue * 7471 + 0x8000) >>> 16;
    }

    private static float[] greyPlane(Raster raster, int bits) {
        int width = raster.getWidth();
        int height = raster.getHeight();
        long max = (1L << bits) - 1;
        float[] plane = new float[width * height];
        int[] row = new int[width];
        for (int y = 0; y < height; y++) {
            raster.getSamples(raster.getMinX(), raster.getMinY() + y, width, 1, 0, row);
            for (int x = 0; x < width; x++) {
                int value = bits == 8 ? row[x] : (int) ((row[x] * 510L + max) / (2 * max));
                plane[y * width + x] = Pixels.toUnit(value);
            }
        }
        return plane;
    }
}
