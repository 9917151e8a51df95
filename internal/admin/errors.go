package admin

import (
	"errors"
	"fmt"
)

// The kinds of error the admin side reports. Every error a Service method
// returns either wraps one of these (via *Error) or is an internal failure.
var (
	// ErrInvalid: the request is malformed; Error.Field names the input.
	ErrInvalid = errors.New("invalid")
	// ErrNotFound: no such object in the actor's account.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the actor's role does not allow the operation.
	ErrForbidden = errors.New("forbidden")
	// ErrConflict: the change clashes with existing state.
	ErrConflict = errors.New("conflict")
	// ErrUnauthenticated: a credential is missing, unknown or revoked.
	ErrUnauthenticated = errors.New("unauthenticated")
)

// Error is an admin error of one Kind, with the input Field it concerns
// (empty when none) and a human-readable message.
type Error struct {
	Kind  error
	Field string
	Msg   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Msg
	}
	return e.Msg
}

// Unwrap returns the kind, so errors.Is(err, admin.ErrForbidden) works.
func (e *Error) Unwrap() error { return e.Kind }

func invalidf(field, format string, args ...any) error {
	return &Error{Kind: ErrInvalid, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func notFoundf(field, format string, args ...any) error {
	return &Error{Kind: ErrNotFound, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func forbiddenf(format string, args ...any) error {
	return &Error{Kind: ErrForbidden, Msg: fmt.Sprintf(format, args...)}
}

func conflictf(field, format string, args ...any) error {
	return &Error{Kind: ErrConflict, Field: field, Msg: fmt.Sprintf(format, args...)}
}

var errUnauthenticated = &Error{Kind: ErrUnauthenticated, Msg: "admin API key is missing, unknown or revoked"}

// KindOf returns the kind of err (one of the Err* values), or nil for an
// internal failure.
func KindOf(err error) error {
	for _, k := range []error{ErrInvalid, ErrNotFound, ErrForbidden, ErrConflict, ErrUnauthenticated} {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}

// FieldOf returns the input field err concerns, if any.
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
