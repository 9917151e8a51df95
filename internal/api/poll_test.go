package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/servertest"
	"github.com/logbookhq/logbook/internal/store"
)

// TestPollChecksToken: a request with a cursor (the serving path, which
// reads the token's row and the page in one store call) keeps every check
// of a reset: revocation and expiry on the very next request, the
// feature, the token's own server, and 401 before a bad cursor's 400; on
// both stores.
func TestPollChecksToken(t *testing.T) {
	onBothStores(t, func(t *testing.T, db string) {
		clock := &fixedClock{t: t0}
		srv := servertest.Start(t, servertest.Options{Now: clock.Now, DB: db})
		srv.Append(t, signIn(1, t0.Add(-10*time.Minute)), signIn(2, t0.Add(-5*time.Minute)))
		url := srv.URL + "/api/v2/signinattempts"
		revoked := srv.IssueToken(t, 0, events.SignInAttempts)
		expiring := srv.IssueToken(t, time.Hour, events.SignInAttempts)
		onlyAudit := srv.IssueToken(t, 0, events.AuditEvents)
		other := servertest.Start(t, servertest.Options{Now: clock.Now, Account: srv.Account})

		p := page(t, do(t, "POST", url, revoked, `{"limit":1}`))
		if len(p.Items) != 1 || !p.HasMore {
			t.Fatalf("first page: %d items, has_more %v; want 1, true", len(p.Items), p.HasMore)
		}
		next := `{"cursor":"` + p.Cursor + `"}`
		p = page(t, do(t, "POST", url, revoked, next))
		drained := `{"cursor":"` + p.Cursor + `"}`
		if len(p.Items) != 1 || p.HasMore {
			t.Fatalf("second page: %d items, has_more %v; want 1, false", len(p.Items), p.HasMore)
		}
		if p = page(t, do(t, "POST", url, revoked, drained)); len(p.Items) != 0 || `{"cursor":"`+p.Cursor+`"}` != drained {
			t.Fatalf("drained poll: %d items, cursor %q; want none and the same cursor", len(p.Items), p.Cursor)
		}

		// Revoke through the store, as another server or the CLI would.
		rt := tokenRow(t, srv, revoked)
		rt.RevokedAt = t0.Add(-time.Second)
		if err := srv.Store.UpdateToken(t.Context(), rt); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name, token, body string
			status            int
		}{
			{"revoked, drained cursor", revoked, drained, 401},
			{"revoked, cursor with events", revoked, next, 401},
			{"revoked, tampered cursor", revoked, `{"cursor":"AAAA` + p.Cursor[4:] + `"}`, 401},
			{"token without the feature", onlyAudit, drained, 401},
			{"another server's token", other.Token, drained, 401},
			{"no token", "", drained, 401},
			{"good token, tampered cursor", expiring, `{"cursor":"AAAA` + p.Cursor[4:] + `"}`, 400},
			{"good token, cursor with CRLF", expiring, `{"cursor":"` + p.Cursor + `\r\n"}`, 200},
			{"good token", expiring, drained, 200},
		} {
			if r := do(t, "POST", url, tc.token, tc.body); r.status != tc.status {
				t.Errorf("%s: status %d, want %d; body %s", tc.name, r.status, tc.status, r.body)
			} else if tc.status == 200 && !strings.Contains(string(r.body), `"cursor":"`+p.Cursor+`"`) {
				t.Errorf("%s: body %s, want the canonical cursor %s", tc.name, r.body, p.Cursor)
			}
		}
		clock.Set(t0.Add(2 * time.Hour))
		if r := do(t, "POST", url, expiring, drained); r.status != 401 {
			t.Errorf("expired token, drained cursor: status %d, want 401", r.status)
		}
	})
}

// tokenRow is the stored row of the token string raw.
func tokenRow(t *testing.T, srv *servertest.Server, raw string) store.Token {
	t.Helper()
	p, err := srv.Tokens.Present(t.Context(), raw)
	if err != nil {
		t.Fatal(err)
	}
	row, err := srv.Store.Token(t.Context(), p.Claims.ID)
	if err != nil {
		t.Fatal(err)
	}
	return row
}
