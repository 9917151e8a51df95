package sqlite_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// BenchmarkDrainedPoll: ListEventsWithToken at the head of a stream, one
// goroutine (what a connector polling a drained cursor costs the store):
// with nothing committed meanwhile, and after a rate-limit counter's
// commit before each poll (what store-kept rate limits do to every
// request).
func BenchmarkDrainedPoll(b *testing.B) {
	ctx := b.Context()
	db := openTemp(b)
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	if err := db.CreateAccount(ctx, store.Account{UUID: "acme", Name: "Acme", CreatedAt: t0}); err != nil {
		b.Fatal(err)
	}
	if err := db.CreateIntegration(ctx, store.Integration{UUID: "in", AccountUUID: "acme", Name: "s", SIEM: "Splunk", CreatedAt: t0}); err != nil {
		b.Fatal(err)
	}
	if err := db.CreateToken(ctx, store.Token{ID: "t1", IntegrationUUID: "in", AccountUUID: "acme", Name: "poller",
		Features: []events.Feature{events.SignInAttempts}, KeyID: "k1", Hash: make([]byte, 32), IssuedAt: t0}); err != nil {
		b.Fatal(err)
	}
	recs := make([]store.Record, 100)
	for i := range recs {
		u := fmt.Sprintf("e-%04d", i)
		recs[i] = store.Record{UUID: u, Time: t0.Add(time.Duration(i) * time.Second), Label: "success", V2: fmt.Appendf(nil, `{"uuid":%q}`, u)}
	}
	if _, err := db.AppendEvents(ctx, "acme", events.SignInAttempts, recs); err != nil {
		b.Fatal(err)
	}
	q := store.ListQuery{Account: "acme", Feature: events.SignInAttempts, After: 100, Limit: 100}
	check := func(t store.Token) error {
		if !t.RevokedAt.IsZero() {
			return fmt.Errorf("revoked")
		}
		return nil
	}
	poll := func(b *testing.B) {
		res, err := db.ListEventsWithToken(ctx, "t1", q, check)
		if err != nil || len(res.Rows) != 0 || res.Last != 100 {
			b.Fatalf("poll: %d rows, last %d, %v", len(res.Rows), res.Last, err)
		}
	}
	b.Run("quiet", func(b *testing.B) {
		for b.Loop() {
			poll(b)
		}
	})
	b.Run("after-commit", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.IncrCounter(ctx, "rl:1m0s:acme", t0, 1); err != nil {
				b.Fatal(err)
			}
			poll(b)
		}
	})
	b.Run("commit-only", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.IncrCounter(ctx, "rl:1m0s:acme", t0, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}
