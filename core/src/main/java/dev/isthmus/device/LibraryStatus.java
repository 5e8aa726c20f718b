package dev.isthmus.device;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@code isthmus info} reports for one native library.
 *
 * @param name      "OpenBLAS", "CUDA driver", "cuBLAS", "cuDNN"
 * @param available whether it loaded and answered
 * @param location  the file or soname loaded, or null
 * @param source    how the locator found it, or null
 * @param version   the version the library reports, or null
 * @param details   further facts (configuration, core type, threads, devices), in order
 * @param reason    why it is unavailable, or null
 */
public record LibraryStatus(String name, boolean available, String location, String source, String version,
                            Map<String, Object> details, String reason) {

    /** {@return this status as JSON-able maps and lists} */
    public Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("available", available);
        json.put("location", location);
        json.put("source", source);
        json.put("version", version);
        json.putAll(details);
        json.put("reason", reason);
        return json;
    }
}
