package forward

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/logbookhq/logbook/client"
)

// ScanEvent reads the top-level "uuid" and "timestamp" of one event
// without decoding the rest, walking it with client.EachField (the
// scanner client.SplitPage uses). A missing field leaves its zero value; a
// malformed event is an error.
func ScanEvent(data []byte) (Event, error) {
	ev := Event{Data: data}
	found := 0
	var ferr error
	err := client.EachField(data, func(key, v []byte) bool {
		switch string(key) {
		case "uuid":
			s, err := unquote(v)
			if err != nil {
				ferr = errors.New("event: uuid is not a string")
				return false
			}
			ev.UUID = s
			found++
		case "timestamp":
			t, ok := parseTime(v)
			if !ok {
				s, err := unquote(v)
				if err != nil {
					ferr = errors.New("event: timestamp is not a string")
					return false
				}
				if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
					ferr = errors.New("event: timestamp is not RFC 3339")
					return false
				}
			}
			ev.Time = t
			found++
		}
		return found < 2
	})
	if ferr != nil {
		return ev, ferr
	}
	if err != nil {
		return ev, fmt.Errorf("event: %w", err)
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
