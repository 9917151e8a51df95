package admin

import (
	"errors"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// refKind says how a kind of object is named in references and in the
// errors finding one gives: field is the input ("token", "key"), what the
// object ("token", "ingest key"), idName its id ("token id", "key id").
type refKind struct{ field, what, idName string }

// findByRef finds one of the actor's objects named by ref, already
// trimmed: by id when id (what ref names as an id) is a valid id and byID
// finds an object of the account with it (byID's ok), else by name when
// exactly one of all has it. shown is ref as errors may echo it.
func findByRef[T any](k refKind, ref, id, shown string, byID func(id string) (T, bool, error), all func() ([]T, error), name func(T) string) (T, error) {
	var zero T
	if ref == "" {
		return zero, invalidf(k.field, "is required")
	}
	if events.ValidID(id) {
		v, ok, err := byID(id)
		if ok {
			return v, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return zero, err
		}
	}
	vs, err := all()
	if err != nil {
		return zero, err
	}
	var found []T
	for _, v := range vs {
		if name(v) == ref {
			found = append(found, v)
		}
	}
	switch len(found) {
	case 0:
		return zero, notFoundf(k.field, "no %s %q", k.what, shown)
	case 1:
		return found[0], nil
	}
	return zero, invalidf(k.field, "%d %ss are named %q; use the %s", len(found), k.what, ref, k.idName)
}
