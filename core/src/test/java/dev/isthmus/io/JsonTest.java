package dev.isthmus.io;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {
    @Test
    void roundTrips() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("name", "a \"quoted\"\n\tline \u0001");
        value.put("count", 42L);
        value.put("ratio", 0.125);
        value.put("list", List.of(1L, 2.5, "x", false));
        value.put("nothing", null);
        String text = Json.write(value);
        assertEquals(value, Json.parse(text));
        assertEquals("[1,2,3]", Json.write(new int[] {1, 2, 3}));
        assertEquals("null", Json.write(Double.NaN));
    }

    @Test
    void malformedInputNamesTheOffset() {
        Json.ParseException bad = assertThrows(Json.ParseException.class, () -> Json.parse("{\"a\": [1, 2,, 3]}"));
        assertEquals(12, bad.offset());
        assertThrows(Json.ParseException.class, () -> Json.parse("{\"a\": 1} trailing"));
        assertThrows(Json.ParseException.class, () -> Json.parse("{\"a\": 1, \"a\": 2}"));
        assertThrows(Json.ParseException.class, () -> Json.parse("\"unterminated"));
        assertThrows(Json.ParseException.class, () -> Json.parse("-"));
        assertThrows(Json.ParseException.class, () -> Json.parse("[\"\\x\"]"));
        assertThrows(Json.ParseException.class, () -> Json.parse(""));
        Json.ParseException deep = assertThrows(Json.ParseException.class, () -> Json.parse("[".repeat(100_000)));
        assertTrue(deep.getMessage().contains("deeper than"), deep.getMessage());
    }

    @Test
    void numbers() {
        assertEquals(-1.5e-3, Json.parse("-1.5e-3"));
        assertEquals(12345678901L, Json.parse("12345678901"));
        assertEquals(1e30, Json.parse("1000000000000000000000000000000"));
    }
}
