package admin

import (
	"errors"
	"fmt"
	"net/http"
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

// kind is how every surface answers one kind of error: the HTTP status
// (admin API and console) and the admin API's error code, which the CLI
// also prints.
type kind struct {
	kind   error
	status int
	code   string
}

// kinds is the one table from error kind to answer. An error of no kind
// is an internal failure: 500, "internal".
var kinds = []kind{
	{ErrInvalid, http.StatusBadRequest, "invalid"},
	{ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{ErrForbidden, http.StatusForbidden, "forbidden"},
	{ErrNotFound, http.StatusNotFound, "not_found"},
	{ErrConflict, http.StatusConflict, "conflict"},
}

// kindOf returns the row of kinds that err is, or the internal failure's.
func kindOf(err error) kind {
	for _, k := range kinds {
		if errors.Is(err, k.kind) {
			return k
		}
	}
	return kind{nil, http.StatusInternalServerError, "internal"}
}

// KindOf returns the kind of err (one of the Err* values), or nil for an
// internal failure.
func KindOf(err error) error { return kindOf(err).kind }

// StatusOf returns the HTTP status that answers err: 400 invalid, 401
// unauthenticated, 403 forbidden, 404 not found, 409 conflict, and 500 for
// an internal failure.
func StatusOf(err error) int { return kindOf(err).status }

// CodeOf returns err's code in the admin API: "invalid",
// "unauthenticated", "forbidden", "not_found", "conflict", or "internal".
func CodeOf(err error) string { return kindOf(err).code }

// FieldOf returns the input field err concerns, if any.
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
