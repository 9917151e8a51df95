package forward

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size is a byte count that reads "100MiB", "1GB", "512k" or a plain
// number from YAML (see ParseSize). Sinks with a size option use it, so
// that every size in the configuration reads the same way.
type Size int64

// UnmarshalText implements encoding.TextUnmarshaler.
func (z *Size) UnmarshalText(b []byte) error {
	n, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*z = Size(n)
	return nil
}

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
}

// ParseSize reads a byte count with an optional unit: k, M, G or T, alone
// or with B or iB, in any case. Decimal and binary units both mean powers
// of 1024 here. A count that does not fit in an int64 is an error, never
// a wrapped-around number.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit %q (want k, M, G or T, with B or iB)", s, t[i:])
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil && strings.Trim(num, "0123456789") == "" && num != "" {
		return 0, fmt.Errorf("%q: too large (at most %d bytes)", s, int64(math.MaxInt64))
	}
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q: want a number of bytes with an optional unit, such as 100MiB", s)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q: too large (at most %d bytes)", s, int64(math.MaxInt64))
	}
	return n * mult, nil
}
