package token

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseExpiry reads a token lifetime: "never" (or empty) for no expiry, one
// of the console's "30d", "90d", "180d", or a duration in the units of
// `op events-api create --expires-in`: s, m, h, d, w, combinable ("1w2d",
// "12h"). Zero means never.
func ParseExpiry(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" || s == "never" || s == "0" {
		return 0, nil
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return 0, fmt.Errorf("invalid expiry %q: want never, 30d, 90d, 180d, or a duration such as 12h or 2w", s)
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("invalid expiry %q: number out of range", s)
		}
		var unit time.Duration
		switch rest[i] {
		case 's':
			unit = time.Second
		case 'm':
			unit = time.Minute
		case 'h':
			unit = time.Hour
		case 'd':
			unit = 24 * time.Hour
		case 'w':
			unit = 7 * 24 * time.Hour
		default:
			return 0, fmt.Errorf("invalid expiry %q: unknown unit %q (want s, m, h, d or w)", s, rest[i])
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if total <= 0 {
		return 0, fmt.Errorf("invalid expiry %q: must be positive", s)
	}
	return total, nil
}
