package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// testListWithToken checks ListEventsWithToken: the token as stored,
// read on every call (a revocation shows on the next one), then exactly
// the page ListEvents gives, in Rows or through Each; an unknown token or
// a refusal by check lists nothing.
func testListWithToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustAccount(t, s, "Acme")
	in := mustIntegration(t, s, acme.UUID)
	tok := store.Token{ID: newID(), IntegrationUUID: in.UUID, AccountUUID: acme.UUID, Name: "poller",
		Features: []events.Feature{events.SignInAttempts}, KeyID: "k1", Hash: []byte{1, 2, 3}, IssuedAt: base}
	must(t, "CreateToken", s.CreateToken(ctx, tok))
	rs := recs("w", 5, base, time.Minute)
	mustAppend(t, s, acme.UUID, events.SignInAttempts, rs)
	head := mustList(t, s, store.ListQuery{Account: acme.UUID, Feature: events.SignInAttempts, Limit: 10}).Last

	q := func(after int64, limit int) store.ListQuery {
		return store.ListQuery{Account: acme.UUID, Feature: events.SignInAttempts, After: after, Limit: limit}
	}
	filtered := q(0, 2)
	filtered.Start = base.Add(2 * time.Minute)
	v1 := q(0, 10)
	v1.V1 = true
	other := q(3, 10)
	other.Account = newID()
	for name, query := range map[string]store.ListQuery{
		"first page": q(0, 2), "whole stream": q(0, 10), "at the head": q(head, 10), "past the head": q(head+5, 10),
		"time filter": filtered, "v1": v1, "stream never written": other,
	} {
		t.Run(name, func(t *testing.T) {
			want := mustList(t, s, query)
			var seen []store.Token
			check := func(got store.Token) error { seen = append(seen, got); return nil }
			got, err := s.ListEventsWithToken(ctx, tok.ID, query, check)
			must(t, "ListEventsWithToken", err)
			diff(t, "token seen by check", seen, []store.Token{tok})
			diff(t, "rows", rowsOf(got.Rows), rowsOf(want.Rows))
			if got.Last != want.Last || got.More != want.More {
				t.Errorf("Last, More = %d, %v; want ListEvents' %d, %v", got.Last, got.More, want.Last, want.More)
			}

			// Each: the same rows, handed over as they are read.
			var each []store.Row
			eq := query
			eq.Each = func(r store.Row) {
				r.Data = append([]byte(nil), r.Data...)
				each = append(each, r)
			}
			got, err = s.ListEventsWithToken(ctx, tok.ID, eq, check)
			must(t, "ListEventsWithToken(Each)", err)
			if len(got.Rows) != 0 {
				t.Errorf("ListEventsWithToken(Each) returned %d rows in Rows, want them all through Each", len(got.Rows))
			}
			diff(t, "rows through Each", rowsOf(each), rowsOf(want.Rows))
			if got.Last != want.Last || got.More != want.More {
				t.Errorf("Each: Last, More = %d, %v; want ListEvents' %d, %v", got.Last, got.More, want.Last, want.More)
			}
		})
	}

	// Refused: check's own error, and no row handed over.
	refused := errors.New("refused")
	query := q(0, 10)
	query.Each = func(store.Row) { t.Errorf("Each called after check refused the token") }
	_, err := s.ListEventsWithToken(ctx, tok.ID, query, func(store.Token) error { return refused })
	wantErr(t, "ListEventsWithToken(check refuses)", err, refused)

	// Unknown: ErrNotFound, check never called.
	_, err = s.ListEventsWithToken(ctx, newID(), query, func(store.Token) error {
		t.Errorf("check called for an unknown token")
		return nil
	})
	wantErr(t, "ListEventsWithToken(unknown token)", err, store.ErrNotFound)

	// A revocation is read by the very next call.
	tok.RevokedAt = base.Add(time.Hour)
	must(t, "UpdateToken", s.UpdateToken(ctx, tok))
	var seen store.Token
	_, err = s.ListEventsWithToken(ctx, tok.ID, q(head, 10), func(got store.Token) error { seen = got; return nil })
	must(t, "ListEventsWithToken after revoke", err)
	if !seen.RevokedAt.Equal(tok.RevokedAt) {
		t.Errorf("token after revoke: RevokedAt = %v, want %v", seen.RevokedAt, tok.RevokedAt)
	}

	// Each cannot be combined with WithInserted.
	bad := q(0, 10)
	bad.Each, bad.WithInserted = func(store.Row) {}, true
	if _, err := s.ListEventsWithToken(ctx, tok.ID, bad, func(store.Token) error { return nil }); err == nil {
		t.Errorf("ListEventsWithToken(Each and WithInserted) succeeded, want an error")
	}
}
