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
		switch string(data[ks+1 : ke-1]) {
		case "uuid":
			s, err := unquote(data[i:end])
			if err != nil {
				return ev, errors.New("event: uuid is not a string")
			}
			ev.UUID = s
			found++
		case "timestamp":
			s, err := unquote(data[i:end])
			if err != nil {
				return ev, errors.New("event: timestamp is not a string")
			}
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return ev, errors.New("event: timestamp is not RFC 3339")
			}
			ev.Time = t
			found++
		}
		i = end
	}
	return ev, nil
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
