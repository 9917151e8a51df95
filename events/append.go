package events

import (
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// The appenders write the events' JSON without reflection, because Encode
// is on the ingestion hot path and encoding/json's reflection cost most of
// its time. They are generated (append_gen.go) by internal/eventgen from
// the struct tags in event.go, which remain the definition; this file
// holds the value writers they call. They must produce exactly the bytes
// json.Marshal produces for the same value (and, with v1 set, for its V1()
// copy): the tests in append_test.go compare the two on fixtures, edge
// cases and fuzzed values, and TestAppendersKnowEveryField fails when a
// field is left out.
//
// What is matched: fields in struct order; omitempty as encoding/json
// applies it (empty string, zero number, nil pointer); "null" for a nil
// pointer without omitempty; encoding/json's HTML-safe string escaping;
// its float format; and time.Time's MarshalJSON.
//
// The event appenders return, beside the bytes, where the trailing
// v2-only fields begin (-1 when none is present), so that Encode can
// derive the v1 rendering by cutting there. With v1 set those fields are
// not written.

// appendTime writes t as time.Time.MarshalJSON does: RFC 3339 with
// trailing zeros of the fraction dropped, in t's own offset. Years outside
// 0..9999 and offsets of 24 hours or more are errors, as there.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	out, err := t.AppendText(b)
	if err != nil {
		return b, err
	}
	return append(out, '"'), nil
}

// appendFloat writes f as encoding/json does: like JavaScript's
// Number.prototype.toString, the shortest representation that round-trips,
// in exponent form only below 1e-6 or from 1e21 on, with the exponent not
// padded to two digits. NaN and infinities have no JSON form.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// strconv pads negative exponents to two digits: 1e-07 → 1e-7.
		// (Below 1e-6 the exponent is negative; 1e21 and up never have a
		// leading zero.)
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// plain marks the bytes that go into a JSON string as they are under
// encoding/json's default, HTML-safe escaping: printable ASCII and DEL,
// except the quote, the backslash and <, > and &. Bytes from 0x80 on start
// a multi-byte sequence, which appendString checks rune by rune.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way encoding/json does:
// quote, backslash and the control characters \b \f \n \r \t get short
// escapes; other control characters and <, > and & become \u00XX; U+2028
// and U+2029 become \u2028 and \u2029; each byte of invalid UTF-8 becomes
// \ufffd. Everything else is copied.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	i := 0
	for i < len(s) && plain[s[i]] {
		i++
	}
	if i == len(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
