package forward

import (
	"errors"
	"fmt"
)

// OptionErrors collects what is wrong with a sink's options, so that its
// constructor reports every problem at once, each naming its option (see
// "Writing a sink" in the package comment). The zero value is ready.
type OptionErrors []error

// Addf records a problem; format starts with the option's key and a colon.
func (e *OptionErrors) Addf(format string, args ...any) {
	*e = append(*e, fmt.Errorf(format, args...))
}

// Add records err unless it is nil.
func (e *OptionErrors) Add(err error) {
	if err != nil {
		*e = append(*e, err)
	}
}

// Err returns the problems joined with errors.Join in the order they were
// recorded, or nil when there is none.
func (e OptionErrors) Err() error { return errors.Join(e...) }

// NonNegative checks a count, size or duration option: a negative *v is
// the problem "<key>: must not be negative", and zero (left empty) becomes
// def.
func NonNegative[T ~int | ~int32 | ~int64](errs *OptionErrors, key string, v *T, def T) {
	switch {
	case *v < 0:
		errs.Addf("%s: must not be negative", key)
	case *v == 0:
		*v = def
	}
}
