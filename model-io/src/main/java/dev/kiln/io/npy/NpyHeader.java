package dev.kiln.io.npy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the header of a .npy file, a Python dict literal such as
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (64, 3, 3, 3), }}. Only what that literal
 * can hold is understood: quoted strings, True/False, integers and tuples of integers. Anything else is
 * an error; nothing is evaluated.
 */
final class NpyHeader {
    final String descr;
    final boolean fortranOrder;
    final long[] shape;

    private final String text;
    private int pos;

    private NpyHeader(String text) throws IllegalArgumentException {
        this.text = text;
        Map<String, Object> dict = parseDict();
        skipSpace();
        if (pos != text.length()) {
            throw error("unexpected text after the header dict");
        }
        if (!(dict.get("descr") instanceof String d)) {
            throw error("'descr' is missing or not a simple type string (structured arrays are not supported)");
        }
        if (!(dict.get("fortran_order") instanceof Boolean f)) {
            throw error("'fortran_order' is missing or not True/False");
        }
        if (!(dict.get("shape") instanceof long[] s)) {
            throw error("'shape' is missing or not a tuple of integers");
        }
        this.descr = d;
        this.fortranOrder = f;
        this.shape = s;
    }

    /** Parses the header text; throws IllegalArgumentException with a short reason when malformed. */
    static NpyHeader parse(String text) {
        return new NpyHeader(text);
    }

    private Map<String, Object> parseDict() {
        expect('{');
        Map<String, Object> out = new LinkedHashMap<>();
        while (true) {
            skipSpace();
            if (peek() == '}') {
                pos++;
                return out;
            }
            String key = parseString();
            expect(':');
            Object value = parseValue();
            if (out.put(key, value) != null) {
                throw error("key '" + key + "' appears twice");
            }
            skipSpace();
            if (peek() == ',') {
                pos++;
            } else if (peek() != '}') {
                throw error("expected ',' or '}'");
            }
        }
    }

    private Object parseValue() {
        skipSpace();
        char c = peek();
        if (c == '\'' || c == '"') {
            return parseString();
        }
        if (c == '(') {
            return parseIntTuple();
        }
        if (text.startsWith("True", pos)) {
            pos += 4;
            return Boolean.TRUE;
        }
        if (text.startsWith("False", pos)) {
            pos += 5;
            return Boolean.FALSE;
        }
        if (Character.isDigit(c)) {
            return parseInt();
        }
        throw error("unsupported value");
    }

    private long[] parseIntTuple() {
        expect('(');
        List<Long> items = new ArrayList<>();
        while (true) {
            skipSpace();
            if (peek() == ')') {
                pos++;
                return items.stream().mapToLong(Long::longValue).toArray();
            }
            if (items.size() >= dev.kiln.io.Shapes.MAX_RANK) {
                throw error("shape has too many dimensions");
            }
            items.add(parseInt());
            skipSpace();
            if (peek() == ',') {
                pos++;
            } else if (peek() != ')') {
                throw error("expected ',' or ')' in shape");
            }
        }
    }

    private long parseInt() {
        skipSpace();
        int start = pos;
        while (pos < text.length() && Character.isDigit(text.charAt(pos)) && pos - start < 19) {
            pos++;
        }
        if (pos == start || (pos < text.length() && Character.isDigit(text.charAt(pos)))) {
            throw error("expected a non-negative integer of at most 18 digits");
        }
        return Long.parseLong(text.substring(start, pos));
    }

    private String parseString() {
        skipSpace();
        char quote = peek();
        if (quote != '\'' && quote != '"') {
            throw error("expected a quoted string");
        }
        int end = text.indexOf(quote, pos + 1);
        if (end < 0) {
            throw error("unterminated string");
        }
        String s = text.substring(pos + 1, end);
        if (s.indexOf('\\') >= 0) {
            throw error("escapes in strings are not supported");
        }
        pos = end + 1;
        return s;
    }

    private void expect(char c) {
        skipSpace();
        if (peek() != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private char peek() {
        if (pos >= text.length()) {
            throw error("header ends early");
        }
        return text.charAt(pos);
    }

    private void skipSpace() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
            pos++;
        }
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException(what + " at character " + pos + " of the header");
    }
}
