package examples_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/cli"
	"github.com/logbookhq/logbook/internal/localca"
	"github.com/logbookhq/logbook/internal/servertest"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
)

// server is what the harness needs of a running Logbook.
type server struct {
	URL   string
	Token string // has every feature
	// Held returns the uuid of every event the API serves to Token.
	Held func(t *testing.T) []string
	// Add ingests n new events into each feature and returns their uuids.
	Add func(t *testing.T, n int) []string
}

// startServer starts a fresh Logbook server seeded with the demo data, and
// stops it when the test ends.
func startServer(t *testing.T) server {
	t.Helper()
	s := servertest.Start(t, servertest.Options{Demo: true})
	return server{
		URL:   s.URL,
		Token: s.Token,
		Held: func(t *testing.T) []string {
			t.Helper()
			return held(t, s.Store, s.Account)
		},
		Add: func(t *testing.T, n int) []string {
			t.Helper()
			evs, ids := newEvents(n, time.Now().UTC())
			if got := s.Append(t, evs...); got != len(evs) {
				t.Fatalf("appended %d new events, want %d", got, len(evs))
			}
			return ids
		},
	}
}

// held reads every event the API can serve to the account straight from
// the store: each feature's stream from its start, within the API's
// retention.
func held(t *testing.T, st store.EventStore, account string) []string {
	t.Helper()
	var ids []string
	for _, f := range events.AllFeatures {
		q := store.ListQuery{Account: account, Feature: f, Start: time.Now().Add(-api.DefaultRetention), Limit: 1000}
		for {
			res, err := st.ListEvents(t.Context(), q)
			if err != nil {
				t.Fatalf("list %s: %v", f, err)
			}
			for _, row := range res.Rows {
				var ev struct {
					UUID string `json:"uuid"`
				}
				if err := json.Unmarshal(row.Data, &ev); err != nil {
					t.Fatalf("stored %s event at %d: %v", f, row.Seq, err)
				}
				ids = append(ids, ev.UUID)
			}
			if !res.More {
				break
			}
			q.After = res.Last
		}
	}
	return ids
}

// newEvents returns n new events of each feature, timestamped at now, and
// their uuids.
func newEvents(n int, now time.Time) ([]any, []string) {
	var evs []any
	var ids []string
	user := events.User{UUID: events.NewID(), Name: "Example Tester", Email: "tester@example.com"}
	client := events.Client{AppName: "1Password Browser Extension", AppVersion: "20250", PlatformName: "Chrome",
		PlatformVersion: "130", OSName: "Linux", OSVersion: "6.1", IPAddress: "192.0.2.10"}
	for i := range n {
		at := now.Add(time.Duration(i) * time.Millisecond)
		si := &events.SignInAttempt{UUID: events.NewID(), SessionUUID: events.NewID(), Timestamp: at, Country: "CA",
			Category: "success", Type: "credentials_ok", TargetUser: user, Client: client}
		iu := &events.ItemUsage{UUID: events.NewID(), Timestamp: at, UsedVersion: 1, VaultUUID: events.NewLowerID(),
			ItemUUID: events.NewLowerID(), User: user, Client: client, Action: "reveal"}
		ae := &events.AuditEvent{UUID: events.NewID(), Timestamp: at, ActorUUID: user.UUID, Action: "join",
			ObjectType: "gm", ObjectUUID: events.Str(events.NewID()), AuxInfo: fmt.Sprint("example ", i)}
		evs = append(evs, si, iu, ae)
		ids = append(ids, si.UUID, iu.UUID, ae.UUID)
	}
	return evs, ids
}

// startTLSServer starts a fresh Logbook seeded with the demo data that
// serves HTTPS with a certificate from a CA made for the test, so that the
// aud of its tokens, prefixed with https://, is its URL. It returns the
// server and the path of the CA's certificate (PEM).
func startTLSServer(t *testing.T) (server, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	tlsConf, ca, err := localca.Ensure(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "logbook.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := cli.StartServer(ctx, cli.ServerOptions{Store: st, Listen: "127.0.0.1:0",
		TLS: tlsConf})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	if !strings.HasPrefix(srv.URL, "https://") || srv.URL != "https://"+srv.Audience {
		t.Fatalf("server URL %q, audience %q: want https:// + audience", srv.URL, srv.Audience)
	}
	info, err := cli.SeedDemo(ctx, srv, dir, time.Now())
	if err != nil {
		t.Fatalf("seed demo: %v", err)
	}
	acct, err := st.AccountByName(ctx, info.Account)
	if err != nil {
		t.Fatalf("demo account: %v", err)
	}
	return server{
		URL:   srv.URL,
		Token: info.Token,
		Held: func(t *testing.T) []string {
			t.Helper()
			return held(t, st, acct.UUID)
		},
	}, ca
}
