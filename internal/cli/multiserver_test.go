package cli

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/ratelimit"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/testenv"
)

// TestMigratePostgres: "logbook migrate --db postgres://…" applies the
// PostgreSQL migrations once, and LOGBOOK_DB selects the same database.
func TestMigratePostgres(t *testing.T) {
	url := testenv.PostgresSchema(t)
	data := t.TempDir()
	run := func(args []string, env map[string]string) string {
		t.Helper()
		var out bytes.Buffer
		err := Main(t.Context(), append([]string{"migrate", "--data", data}, args...), Env{
			Getenv: func(k string) string { return env[k] },
			Stdout: &out,
		})
		if err != nil {
			t.Fatalf("migrate %v: %v", args, err)
		}
		return out.String()
	}
	if out := run([]string{"--db", url}, nil); !strings.Contains(out, "applied 0001_init.sql\n") {
		t.Errorf("first migrate printed %q, want it to name 0001_init.sql", out)
	}
	if out := run(nil, map[string]string{"LOGBOOK_DB": url}); strings.Contains(out, "applied") || !strings.Contains(out, "up to date") {
		t.Errorf("second migrate printed %q, want only that it is up to date", out)
	}
}

// multiServer is two servers on one PostgreSQL database, each with its own
// store handle (connection pool), as two hosts behind a load balancer.
type multiServer struct {
	a, b        *Server
	urlA, urlB  string // where each one's HTTP listener is
	actor       admin.Actor
	integration string
}

const sharedPublicURL = "https://events.logbook.test"

func startMulti(t *testing.T) *multiServer {
	t.Helper()
	return startMultiWith(t, SandboxOptions{}, nil)
}

// startMultiWith starts the two servers with the given sandbox options
// (rate limits) and clock (nil: time.Now).
func startMultiWith(t *testing.T, so SandboxOptions, now func() time.Time) *multiServer {
	t.Helper()
	url := testenv.PostgresSchema(t)
	ctx := t.Context()
	start := func() (*Server, string) {
		// Each server migrates at start, as serve does; both at once is safe.
		st, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		srv, err := StartServer(ctx, ServerOptions{Store: st, Listen: "127.0.0.1:0", PublicURL: sharedPublicURL,
			Sandbox: so, Now: now})
		if err != nil {
			st.Close()
			t.Fatalf("start server: %v", err)
		}
		// The public URL names the load balancer; reach each server's
		// handler on a listener of its own.
		hs := httptest.NewServer(srv.Handler)
		t.Cleanup(func() {
			hs.Close()
			if err := srv.Close(); err != nil {
				t.Errorf("close server: %v", err)
			}
			st.Close()
		})
		return srv, hs.URL
	}
	type started struct {
		srv *Server
		url string
	}
	ch := make(chan started, 2)
	for range 2 {
		go func() { s, u := start(); ch <- started{s, u} }()
	}
	s1, s2 := <-ch, <-ch
	m := &multiServer{a: s1.srv, urlA: s1.url, b: s2.srv, urlB: s2.url}

	acct, _, err := m.a.Admin.CreateAccount(ctx, "Acme", admin.NewUser{Email: "owner@acme.test", Role: store.RoleOwner})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	if m.actor, err = m.a.Admin.ActorIn(ctx, acct.UUID, ""); err != nil {
		t.Fatal(err)
	}
	in, err := m.a.Admin.CreateIntegration(ctx, m.actor, "Splunk", "Splunk")
	if err != nil {
		t.Fatalf("create integration: %v", err)
	}
	m.integration = in.UUID
	return m
}

// issue issues a token through server s's admin domain.
func (m *multiServer) issue(t *testing.T, s *Server, name string) admin.Issued {
	t.Helper()
	is, err := s.Admin.IssueToken(t.Context(), m.actor, admin.IssueRequest{Integration: m.integration, Name: name})
	if err != nil {
		t.Fatalf("issue token: %v", err)
	}
	return is
}

func clientFor(t *testing.T, baseURL, token string) *client.Client {
	t.Helper()
	c, err := client.New(baseURL, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// appendItemUsages stores n item usages, timestamped from t0 a second
// apart, through the given server's store, and returns their UUIDs.
func appendItemUsages(t *testing.T, s *Server, account string, n int, t0 time.Time) []string {
	t.Helper()
	return appendItemUsagesTo(t, s.Store, account, n, t0)
}

func wantStatus(t *testing.T, what string, err error, status int) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != status {
		t.Errorf("%s: err = %v, want HTTP %d", what, err, status)
	}
}

func TestMultiServer(t *testing.T) {
	m := startMulti(t)
	ctx := t.Context()
	account := m.actor.Account.UUID

	t.Run("CursorAcrossServers", func(t *testing.T) {
		tok := m.issue(t, m.a, "cursor")
		ca, cb := clientFor(t, m.urlA, tok.Secret), clientFor(t, m.urlB, tok.Secret)
		t0 := time.Now().Add(-30 * time.Minute).UTC()
		want := appendItemUsages(t, m.a, account, 25, t0)
		start := t0.Add(-time.Minute)
		// Pages alternate between the servers; each continues the other's
		// cursor.
		page, err := ca.ItemUsages(ctx, client.FromReset(events.ResetCursor{Limit: 10, StartTime: &start}))
		if err != nil {
			t.Fatalf("first page from A: %v", err)
		}
		var got []string
		for _, ev := range page.Items {
			got = append(got, ev.UUID)
		}
		clients := []*client.Client{cb, ca}
		for i := 0; page.HasMore; i++ {
			if i > 10 {
				t.Fatal("no end of the stream after 10 pages")
			}
			if page, err = clients[i%2].ItemUsages(ctx, client.FromCursor(page.Cursor)); err != nil {
				t.Fatalf("page %d: %v", i+2, err)
			}
			for _, ev := range page.Items {
				got = append(got, ev.UUID)
			}
		}
		// Events appended through B after the end are continued from A.
		more := appendItemUsages(t, m.b, account, 3, t0.Add(time.Hour))
		page, err = ca.ItemUsages(ctx, client.FromCursor(page.Cursor))
		if err != nil {
			t.Fatalf("page after more events: %v", err)
		}
		for _, ev := range page.Items {
			got = append(got, ev.UUID)
		}
		if d := cmp.Diff(append(want, more...), got); d != "" {
			t.Errorf("events over both servers (-want +got):\n%s", d)
		}
	})

	t.Run("RevocationAcrossServers", func(t *testing.T) {
		tok := m.issue(t, m.a, "revoked")
		cb := clientFor(t, m.urlB, tok.Secret)
		if _, err := cb.Introspect(ctx); err != nil {
			t.Fatalf("introspect on B before revocation: %v", err)
		}
		if _, err := m.a.Admin.RevokeToken(ctx, m.actor, tok.ID); err != nil {
			t.Fatalf("revoke through A: %v", err)
		}
		_, err := cb.Introspect(ctx)
		wantStatus(t, "introspect on B after revocation through A", err, http.StatusUnauthorized)
		_, err = cb.AuditEvents(ctx, client.Request{})
		wantStatus(t, "audit events on B after revocation through A", err, http.StatusUnauthorized)
	})

	t.Run("SharedSigningKeys", func(t *testing.T) {
		check := func(what string, tok admin.Issued) {
			t.Helper()
			for name, url := range map[string]string{"A": m.urlA, "B": m.urlB} {
				if _, err := clientFor(t, url, tok.Secret).Introspect(ctx); err != nil {
					t.Errorf("%s: introspect on %s: %v", what, name, err)
				}
			}
		}
		before := m.issue(t, m.a, "before rotation")
		check("token issued by A", before)
		k, err := m.a.Admin.RotateKey(ctx, m.actor)
		if err != nil {
			t.Fatalf("rotate on A: %v", err)
		}
		after := m.issue(t, m.a, "after rotation")
		if after.KeyID != k.ID {
			t.Errorf("token issued after rotation has kid %s, want the new key %s", after.KeyID, k.ID)
		}
		check("token signed with A's new key", after)
		check("token signed before rotation", before)
		// B issues with the key A made active.
		fromB := m.issue(t, m.b, "issued by B")
		if fromB.KeyID != k.ID {
			t.Errorf("B issued with kid %s, want the active key %s", fromB.KeyID, k.ID)
		}
		check("token issued by B after A's rotation", fromB)
	})

	t.Run("SharedCursorKey", func(t *testing.T) {
		ka, err := m.a.Store.Setting(ctx, "cursor_key")
		if err != nil {
			t.Fatal(err)
		}
		kb, err := m.b.Store.Setting(ctx, "cursor_key")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ka, kb) || len(ka) == 0 {
			t.Errorf("cursor keys differ or are empty: %x, %x", ka, kb)
		}
	})
}

// TestMultiServerRateLimits: requests to two servers count against one
// limit per account, kept in PostgreSQL (the default) or in Redis.
func TestMultiServerRateLimits(t *testing.T) {
	tests := []struct {
		name  string
		redis bool
	}{
		{"postgres", false},
		{"redis", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			so := SandboxOptions{RateLimits: []ratelimit.Limit{{N: 5, Per: time.Hour}}}
			if tt.redis {
				so.RedisURL = testenv.RedisURL(t)
			}
			// One instant for every request: no window boundary falls
			// between them.
			at := time.Now().UTC()
			m := startMultiWith(t, so, func() time.Time { return at })
			tok := m.issue(t, m.a, "limited")
			clients := []*client.Client{clientFor(t, m.urlA, tok.Secret), clientFor(t, m.urlB, tok.Secret)}
			start := at.Add(-time.Hour)
			var got []int
			for i := range 8 {
				_, err := clients[i%2].ItemUsages(t.Context(), client.FromReset(events.ResetCursor{Limit: 10, StartTime: &start}))
				var ce *client.Error
				switch {
				case err == nil:
					got = append(got, http.StatusOK)
				case errors.As(err, &ce):
					got = append(got, ce.StatusCode)
					if ce.StatusCode == http.StatusTooManyRequests && ce.RetryAfter <= 0 {
						t.Errorf("request %d: 429 without Retry-After", i)
					}
				default:
					t.Fatalf("request %d: %v", i, err)
				}
			}
			want := []int{200, 200, 200, 200, 200, 429, 429, 429}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("statuses, alternating servers A and B, limit 5 (-want +got):\n%s", d)
			}
		})
	}
}
