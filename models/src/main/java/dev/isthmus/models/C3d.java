package dev.isthmus.models;

import dev.isthmus.device.Dims3;
import dev.isthmus.device.Pool3dGeometry;
import dev.isthmus.device.PoolMode;
import dev.isthmus.nn.Conv3d;
import dev.isthmus.nn.Dropout;
import dev.isthmus.nn.Flatten;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.MaxPool3d;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Sequential;

/**
 * C3D (Tran et al., "Learning Spatiotemporal Features with 3D Convolutional Networks", ICCV 2015)
 * for clips [channels, frames, size, size]: 3×3×3 convolutions with padding 1 and stride 1, each
 * followed by ReLU; max pools of 1×2×2 after the first stage (so early layers keep the frames)
 * and 2×2×2 after the others; two fully connected layers with ReLU and dropout 0.5, then the
 * classifier. Layer names are those of the common PyTorch port (conv1, pool1, conv2, …, conv5b,
 * pool5, fc6, fc7, fc8), so its state_dict keys match.
 */
public final class C3d {
    private C3d() {
    }

    /** One stage: its convolutions' names and widths, then its pool. */
    private record Stage(String[] names, int[] widths, String pool, Dims3 window, boolean ceil) {
    }

    /**
     * The paper's network: conv1 64, pool1 1×2×2, conv2 128, pool2, conv3a/b 256, pool3, conv4a/b 512,
     * pool4, conv5a/b 512, pool5, fc6 4096, fc7 4096, fc8 classes; on its 16×112×112 clips pool5
     * leaves 512×1×4×4 = 8,192 features, as the original Caffe model's ceil-mode pooling does
     * (pool5 is ceil-mode here too; the other pools divide evenly at that size).
     *
     * @param inChannels the input channels
     * @param classes the number of classes
     * @param frames the frames per clip
     * @param size the size on every axis
     * @return the paper
     */
    public static Sequential paper(int inChannels, int classes, int frames, int size) {
        Dims3 halve = Dims3.cube(2);
        Stage[] stages = {
            new Stage(new String[] {"conv1"}, new int[] {64}, "pool1", new Dims3(1, 2, 2), false),
            new Stage(new String[] {"conv2"}, new int[] {128}, "pool2", halve, false),
            new Stage(new String[] {"conv3a", "conv3b"}, new int[] {256, 256}, "pool3", halve, false),
            new Stage(new String[] {"conv4a", "conv4b"}, new int[] {512, 512}, "pool4", halve, false),
            new Stage(new String[] {"conv5a", "conv5b"}, new int[] {512, 512}, "pool5", halve, true),
        };
        return build(stages, inChannels, classes, frames, size, 4096);
    }

    /**
     * C3D-small, the same design cut down for CPUs: three stages instead of five (conv1 8, pool1
     * 1×2×2, conv2 16, pool2, conv3a/b 32, pool3, so four convolutions), fc6 and fc7 of 128.
     * On its native 8×32×32 clips it costs about 1/2000 of C3D's multiply-adds.
     *
     * @param inChannels the input channels
     * @param classes the number of classes
     * @param frames the frames per clip
     * @param size the size on every axis
     * @return the small
     */
    public static Sequential small(int inChannels, int classes, int frames, int size) {
        Dims3 halve = Dims3.cube(2);
        Stage[] stages = {
            new Stage(new String[] {"conv1"}, new int[] {8}, "pool1", new Dims3(1, 2, 2), false),
            new Stage(new String[] {"conv2"}, new int[] {16}, "pool2", halve, false),
            new Stage(new String[] {"conv3a", "conv3b"}, new int[] {32, 32}, "pool3", halve, true),
        };
        return build(stages, inChannels, classes, frames, size, 128);
    }

    private static Sequential build(Stage[] stages, int inChannels, int classes, int frames, int size, int hidden) {
        if (inChannels <= 0 || classes <= 0 || frames <= 0 || size <= 0) {
            throw new IllegalArgumentException("C3D: channels, classes, frames and size must be > 0, got " + inChannels
                    + ", " + classes + ", " + frames + ", " + size);
        }
        Sequential network = new Sequential();
        int channels = inChannels;
        Dims3 volume = new Dims3(frames, size, size);
        for (Stage stage : stages) {
            for (int i = 0; i < stage.names().length; i++) {
                network.add(stage.names()[i], Conv3d.of(channels, stage.widths()[i], 3).padding(1));
                network.add(new ReLU());
                channels = stage.widths()[i];
            }
            Pool3dGeometry pool;
            try {
                pool = new Pool3dGeometry(PoolMode.MAX, 1, channels, volume, stage.window(), stage.window(), Dims3.cube(0),
                        stage.ceil());
            } catch (IllegalArgumentException tooSmall) {
                throw new IllegalArgumentException("C3D: a clip of " + frames + " frames of " + size + "x" + size
                        + " is too small for " + stage.pool() + ": " + tooSmall.getMessage());
            }
            network.add(stage.pool(), MaxPool3d.of(stage.window()).ceilMode(stage.ceil()));
            volume = pool.output();
        }
        long features = channels * volume.volume();
        return network
                .add("flatten", new Flatten())
                .add("fc6", new Linear(Math.toIntExact(features), hidden))
                .add(new ReLU())
                .add(new Dropout(0.5f))
                .add("fc7", new Linear(hidden, hidden))
                .add(new ReLU())
                .add(new Dropout(0.5f))
                .add("fc8", new Linear(hidden, classes));
    }
}
