package forward

import (
	"encoding/json"
	"errors"
	"time"
)

// ScanEvent reads the top-level "uuid" and "timestamp" of one event
// without decoding the rest. A missing field leaves its zero value; a
// malformed event is an error.
func ScanEvent(data []byte) (Event, error) {
	ev := Event{Data: data}
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return ev, errors.New("event is not a JSON object")
	}
	i++
	found := 0
	for first := true; found < 2; first = false {
		i = skipSpace(data, i)
		if i >= len(data) {
			return ev, errors.New("event: unexpected end")
		}
		if data[i] == '}' {
			break
		}
		if !first {
			if data[i] != ',' {
				return ev, errors.New("event: want , between fields")
			}
			i = skipSpace(data, i+1)
		}
		ks, ke, err := scanString(data, i)
		if err != nil {
			return ev, err
		}
		i = skipSpace(data, ke)
		if i >= len(data) || data[i] != ':' {
			return ev, errors.New("event: want : after a key")
		}
		i = skipSpace(data, i+1)
		end, err := skipValue(data, i)
		if err != nil {
			return ev, err
		}
		switch key := data[ks+1 : ke-1]; {
		case string(key) == "uuid":
			s, err := unquote(data[i:end])
			if err != nil {
				return ev, errors.New("event: uuid is not a string")
			}
			ev.UUID = s
			found++
		case string(key) == "timestamp":
			v := data[i:end]
			t, ok := parseTime(v)
			if !ok {
				s, err := unquote(v)
				if err != nil {
					return ev, errors.New("event: timestamp is not a string")
				}
				if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
					return ev, errors.New("event: timestamp is not RFC 3339")
				}
			}
			ev.Time = t
			found++
		}
		i = end
	}
	return ev, nil
}

// parseTime reads the common form of a timestamp, a quoted
// "YYYY-MM-DDTHH:MM:SS[.fraction]Z", without allocating. It reports false
// for anything else (offsets, escapes, out-of-range fields), which the
// caller hands to time.Parse.
func parseTime(b []byte) (time.Time, bool) {
	if len(b) < 22 || b[0] != '"' || b[len(b)-1] != '"' || b[len(b)-2] != 'Z' {
		return time.Time{}, false
	}
	b = b[1 : len(b)-2]
	if b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := b[19:]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		n, ok := num(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		nsec = n
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // 31 April and the like: let time.Parse say no
		return time.Time{}, false
	}
	return t, true
}

// unquote decodes a JSON string, quickly when it has no escapes.
func unquote(b []byte) (string, error) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", errors.New("not a string")
	}
	inner := b[1 : len(b)-1]
	for _, c := range inner {
		if c == '\\' {
			var s string
			err := json.Unmarshal(b, &s)
			return s, err
		}
	}
	return string(inner), nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

func scanString(b []byte, i int) (int, int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, 0, errors.New("event: want a string")
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '"':
			return i, j + 1, nil
		case '\\':
			j++
		}
	}
	return 0, 0, errors.New("event: unterminated string")
}

// skipValue returns the end of the JSON value at i (see client.SplitPage,
// which has already checked the event's brackets and strings).
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("event: unexpected end")
	}
	switch b[i] {
	case '"':
		_, e, err := scanString(b, i)
		return e, err
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				_, e, err := scanString(b, j)
				if err != nil {
					return 0, err
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("event: unexpected end")
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
		j++
	}
	if j == i {
		return 0, errors.New("event: want a value")
	}
	return j, nil
}
