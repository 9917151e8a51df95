package admin_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/logbookhq/logbook/internal/admin"
)

// TestErrorMapping pins the one table from admin error kind to HTTP status
// and admin API code that the admin API, the console and the CLI share.
func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		err    error
		kind   error
		status int
		code   string
	}{
		{&admin.Error{Kind: admin.ErrInvalid, Field: "name", Msg: "x"}, admin.ErrInvalid, http.StatusBadRequest, "invalid"},
		{&admin.Error{Kind: admin.ErrUnauthenticated, Msg: "x"}, admin.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
		{&admin.Error{Kind: admin.ErrForbidden, Msg: "x"}, admin.ErrForbidden, http.StatusForbidden, "forbidden"},
		{fmt.Errorf("find: %w", &admin.Error{Kind: admin.ErrNotFound, Msg: "x"}), admin.ErrNotFound, http.StatusNotFound, "not_found"},
		{&admin.Error{Kind: admin.ErrConflict, Msg: "x"}, admin.ErrConflict, http.StatusConflict, "conflict"},
		{errors.New("database is gone"), nil, http.StatusInternalServerError, "internal"},
		{nil, nil, http.StatusInternalServerError, "internal"},
	} {
		if got := admin.KindOf(tc.err); got != tc.kind {
			t.Errorf("KindOf(%v) = %v, want %v", tc.err, got, tc.kind)
		}
		if got := admin.StatusOf(tc.err); got != tc.status {
			t.Errorf("StatusOf(%v) = %d, want %d", tc.err, got, tc.status)
		}
		if got := admin.CodeOf(tc.err); got != tc.code {
			t.Errorf("CodeOf(%v) = %q, want %q", tc.err, got, tc.code)
		}
	}
}
