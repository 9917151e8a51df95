package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/token"
)

// TestWriteErrorStatus: an admin error's page has the status
// admin.StatusOf gives its kind, the one mapping the admin API uses too,
// and an internal failure is a 500 that keeps its detail off the page.
func TestWriteErrorStatus(t *testing.T) {
	st := sqlitetest.New(t)
	h, err := newHandler(Config{Store: st, Admin: admin.New(st, token.New(st, "events.test", token.Config{}), admin.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		err    error
		status int
		title  string
	}{
		{&admin.Error{Kind: admin.ErrInvalid, Field: "name", Msg: "is required"}, http.StatusBadRequest, "Cannot do that"},
		{&admin.Error{Kind: admin.ErrUnauthenticated, Msg: "x"}, http.StatusUnauthorized, "Signed out"},
		{fmt.Errorf("wrapped: %w", &admin.Error{Kind: admin.ErrForbidden, Msg: "members may not"}), http.StatusForbidden, "Not allowed"},
		{&admin.Error{Kind: admin.ErrNotFound, Msg: "no such thing"}, http.StatusNotFound, "Not found"},
		{&admin.Error{Kind: admin.ErrConflict, Field: "name", Msg: "taken"}, http.StatusConflict, "Cannot do that"},
		{errors.New("disk on fire"), http.StatusInternalServerError, "Something went wrong"},
	} {
		rec := httptest.NewRecorder()
		h.writeError(rec, httptest.NewRequest("GET", "/", nil), nil, tc.err)
		if rec.Code != tc.status || rec.Code != admin.StatusOf(tc.err) {
			t.Errorf("writeError(%v) status = %d, want %d (admin.StatusOf %d)", tc.err, rec.Code, tc.status, admin.StatusOf(tc.err))
		}
		if body := rec.Body.String(); !strings.Contains(body, tc.title) || strings.Contains(body, "disk on fire") {
			t.Errorf("writeError(%v) page lacks %q or shows the internal detail", tc.err, tc.title)
		}
	}
}
