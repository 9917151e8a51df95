package storetest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// rec makes a record whose V2 JSON names its uuid and time.
func rec(uuid string, ts time.Time, label string) store.Record {
	return store.Record{
		UUID:  uuid,
		Time:  ts,
		Label: label,
		V2:    fmt.Appendf(nil, `{"uuid":%q,"timestamp":%q}`, uuid, ts.Format(time.RFC3339Nano)),
	}
}

// recs makes n records with uuids prefix-0… and times base+i*step.
func recs(prefix string, n int, t0 time.Time, step time.Duration) []store.Record {
	out := make([]store.Record, n)
	for i := range out {
		out[i] = rec(fmt.Sprintf("%s-%04d", prefix, i), t0.Add(time.Duration(i)*step), "success")
	}
	return out
}

// got is a row as the tests compare it.
type got struct {
	UUID string
	Time time.Time
	Data string
}

// uuidOf extracts the uuid from a record made by rec.
func uuidOf(data []byte) string {
	s := string(data)
	_, rest, _ := strings.Cut(s, `"uuid":"`)
	u, _, _ := strings.Cut(rest, `"`)
	return u
}

func rowsOf(rows []store.Row) []got {
	out := make([]got, len(rows))
	for i, r := range rows {
		out[i] = got{uuidOf(r.Data), r.Time, string(r.Data)}
	}
	return out
}

func wantOf(rs []store.Record) []got {
	out := make([]got, len(rs))
	for i, r := range rs {
		out[i] = got{r.UUID, r.Time, string(r.V2)}
	}
	return out
}

func mustAppend(t testing.TB, s store.Store, account string, f events.Feature, rs []store.Record) int {
	t.Helper()
	n, err := s.AppendEvents(t.Context(), account, f, rs)
	must(t, "AppendEvents", err)
	return n
}

func mustList(t testing.TB, s store.EventStore, q store.ListQuery) store.ListResult {
	t.Helper()
	res, err := s.ListEvents(t.Context(), q)
	if err != nil {
		t.Fatalf("ListEvents(%+v): %v", q, err)
	}
	if res.Last < q.After {
		t.Fatalf("ListEvents(after %d): Last = %d, want >= After", q.After, res.Last)
	}
	prev := q.After
	for _, r := range res.Rows {
		if r.Seq <= prev {
			t.Fatalf("ListEvents(after %d): Seq %d follows %d, want strictly increasing and > After", q.After, r.Seq, prev)
		}
		prev = r.Seq
	}
	if len(res.Rows) > 0 && res.Last < prev {
		t.Fatalf("ListEvents: Last = %d is before the last row %d", res.Last, prev)
	}
	if len(res.Rows) > q.Limit {
		t.Fatalf("ListEvents(limit %d) returned %d rows", q.Limit, len(res.Rows))
	}
	return res
}

// Drain lists q's stream from q.After to the end, page by page, checking
// the listing contract at every page, and returns every row (its Data
// copied).
func Drain(t testing.TB, s store.EventStore, q store.ListQuery) []store.Row {
	t.Helper()
	var all []store.Row
	for calls := 0; ; calls++ {
		if calls > 100000 {
			t.Fatalf("Drain: no end after %d calls", calls)
		}
		res := mustList(t, s, q)
		for _, r := range res.Rows {
			r.Data = append([]byte(nil), r.Data...)
			all = append(all, r)
		}
		if !res.More {
			return all
		}
		if res.Last == q.After && len(res.Rows) == 0 {
			t.Fatalf("Drain: More with no progress at %d", q.After)
		}
		q.After = res.Last
	}
}

func testAppendAndList(t *testing.T, s store.Store) {
	acct := newID()
	rs := recs("a", 3, base, time.Second)
	if n := mustAppend(t, s, acct, events.SignInAttempts, rs); n != 3 {
		t.Errorf("AppendEvents inserted %d, want 3", n)
	}
	res := mustList(t, s, store.ListQuery{Account: acct, Feature: events.SignInAttempts, Limit: 10})
	diff(t, "rows", rowsOf(res.Rows), wantOf(rs))
	if res.More {
		t.Errorf("More = true at the end of the stream")
	}
	if res.Last != res.Rows[2].Seq {
		t.Errorf("Last = %d, want the last row's Seq %d", res.Last, res.Rows[2].Seq)
	}
	for _, r := range res.Rows {
		if r.Time.Location() != time.UTC {
			t.Errorf("Row.Time location = %v, want UTC", r.Time.Location())
		}
	}
	// Empty batches are no-ops.
	if n := mustAppend(t, s, acct, events.SignInAttempts, nil); n != 0 {
		t.Errorf("AppendEvents(nil) inserted %d", n)
	}
	// A stream never written is empty, not an error.
	res = mustList(t, s, store.ListQuery{Account: newID(), Feature: events.AuditEvents, After: 7, Limit: 10})
	if len(res.Rows) != 0 || res.More || res.Last != 7 {
		t.Errorf("unknown stream: got %d rows, More %v, Last %d; want none, false, 7", len(res.Rows), res.More, res.Last)
	}
}

func testAppendInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	acct := newID()
	good := rec("ok", base, "success")
	tests := []struct {
		name    string
		account string
		feature events.Feature
		recs    []store.Record
		field   string
	}{
		{"empty uuid", acct, events.ItemUsages, []store.Record{good, rec("", base, "x")}, "uuid"},
		{"empty v2", acct, events.ItemUsages, []store.Record{{UUID: "u", Time: base}}, "v2"},
		{"zero time", acct, events.ItemUsages, []store.Record{{UUID: "u", V2: []byte("{}")}}, "time"},
		{"unknown feature", acct, "nosuch", []store.Record{good}, "feature"},
		{"empty account", "", events.ItemUsages, []store.Record{good}, "account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.AppendEvents(ctx, tt.account, tt.feature, tt.recs)
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("AppendEvents: err = %v, want an error naming %q", err, tt.field)
			}
		})
	}
	// Nothing of a refused batch is stored.
	head, err := s.HeadPosition(ctx, acct, events.ItemUsages)
	must(t, "HeadPosition", err)
	if head != 0 {
		t.Errorf("HeadPosition after refused batches = %d, want 0", head)
	}
	_, err = s.ListEvents(ctx, store.ListQuery{Account: acct, Feature: events.ItemUsages, Limit: 0})
	if err == nil {
		t.Errorf("ListEvents(limit 0): no error")
	}
	// A cancelled context: an error, and nothing stored.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.AppendEvents(cctx, acct, events.ItemUsages, []store.Record{good}); err == nil {
		t.Errorf("AppendEvents with a cancelled context: no error")
	}
	head, err = s.HeadPosition(ctx, acct, events.ItemUsages)
	must(t, "HeadPosition", err)
	if head != 0 {
		t.Errorf("HeadPosition after a cancelled append = %d, want 0", head)
	}
}

// seqOf yields rs, then err if it is not nil.
func seqOf(rs []store.Record, err error) iter.Seq2[store.Record, error] {
	return func(yield func(store.Record, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
		if err != nil {
			yield(store.Record{}, err)
		}
	}
}

func testAppendSeq(t *testing.T, s store.Store) {
	ctx := t.Context()
	acct := newID()
	first := recs("a", 10, base, time.Second)
	mustAppend(t, s, acct, events.AuditEvents, first)
	head, err := s.HeadPosition(ctx, acct, events.AuditEvents)
	must(t, "HeadPosition", err)

	// A producer's error: nothing stored, the error returned, positions
	// unchanged.
	boom := errors.New("boom")
	more := recs("b", 50, base.Add(time.Hour), time.Second)
	if n, err := s.AppendEventsSeq(ctx, acct, events.AuditEvents, seqOf(more, boom)); !errors.Is(err, boom) || n != 0 {
		t.Errorf("AppendEventsSeq with a failing producer = %d, %v; want 0 and the producer's error", n, err)
	}
	// An invalid record after valid ones: nothing stored.
	bad := append(slices.Clone(more[:20]), store.Record{UUID: "x", Time: base})
	if _, err := s.AppendEventsSeq(ctx, acct, events.AuditEvents, seqOf(bad, nil)); err == nil || !strings.Contains(err.Error(), "v2") {
		t.Errorf("AppendEventsSeq with an invalid record: err = %v, want one naming v2", err)
	}
	if h, err := s.HeadPosition(ctx, acct, events.AuditEvents); err != nil || h != head {
		t.Errorf("HeadPosition after refused sequences = %d, %v; want %d", h, err, head)
	}
	if n := len(Drain(t, s, store.ListQuery{Account: acct, Feature: events.AuditEvents, Limit: 100})); n != len(first) {
		t.Errorf("%d events stored after refused sequences, want %d", n, len(first))
	}

	// A good sequence with five repeats of stored events: appended in
	// order, repeats skipped and counted out.
	withDups := append(slices.Clone(first[:5]), more...)
	n, err := s.AppendEventsSeq(ctx, acct, events.AuditEvents, seqOf(withDups, nil))
	if err != nil || n != len(more) {
		t.Fatalf("AppendEventsSeq = %d, %v; want %d", n, err, len(more))
	}
	rows := Drain(t, s, store.ListQuery{Account: acct, Feature: events.AuditEvents, Limit: 7})
	diff(t, "rows", rowsOf(rows), wantOf(append(slices.Clone(first), more...)))
	// An empty sequence stores nothing.
	if n, err := s.AppendEventsSeq(ctx, acct, events.AuditEvents, seqOf(nil, nil)); err != nil || n != 0 {
		t.Errorf("empty AppendEventsSeq = %d, %v", n, err)
	}
}

func testV1Rendering(t *testing.T, s store.Store) {
	acct := newID()
	a := rec("a", base, "fill")
	a.V1 = []byte(`{"uuid":"a","v1":true}`)
	b := rec("b", base, "fill") // V1 nil: same as V2
	mustAppend(t, s, acct, events.ItemUsages, []store.Record{a, b})
	res := mustList(t, s, store.ListQuery{Account: acct, Feature: events.ItemUsages, Limit: 10, V1: true})
	var data []string
	for _, r := range res.Rows {
		data = append(data, string(r.Data))
	}
	diff(t, "v1 data", data, []string{string(a.V1), string(b.V2)})
	res = mustList(t, s, store.ListQuery{Account: acct, Feature: events.ItemUsages, Limit: 10})
	data = data[:0]
	for _, r := range res.Rows {
		data = append(data, string(r.Data))
	}
	diff(t, "v2 data", data, []string{string(a.V2), string(b.V2)})
}

func testDedup(t *testing.T, s store.Store) {
	acct := newID()
	a, b, c := rec("a", base, "x"), rec("b", base, "x"), rec("c", base, "x")
	if n := mustAppend(t, s, acct, events.AuditEvents, []store.Record{a, b, b}); n != 2 {
		t.Errorf("batch with a repeated event: inserted %d, want 2", n)
	}
	if n := mustAppend(t, s, acct, events.AuditEvents, []store.Record{b, c, a}); n != 1 {
		t.Errorf("batch overlapping the stream: inserted %d, want 1", n)
	}
	if n := mustAppend(t, s, acct, events.AuditEvents, []store.Record{a, b, c}); n != 0 {
		t.Errorf("batch of known events: inserted %d, want 0", n)
	}
	res := mustList(t, s, store.ListQuery{Account: acct, Feature: events.AuditEvents, Limit: 10})
	diff(t, "rows (first copy kept, first-arrival order)", rowsOf(res.Rows), wantOf([]store.Record{a, b, c}))
}

// testUUIDConflict: a uuid held as one event cannot be appended as
// another (another time, or the same time with other bytes), whether the
// first is stored or earlier in the same call; the call stores nothing and
// says which record and uuid.
func testUUIDConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	acct := newID()
	a, b := rec("a", base, "x"), rec("b", base, "x")
	mustAppend(t, s, acct, events.AuditEvents, []store.Record{a, b})
	later := rec("b", base.Add(time.Second), "x") // same uuid, another time
	changed := rec("b", base, "x")                // same uuid and time, other bytes
	changed.V2 = []byte(`{"uuid":"b","changed":true}`)
	fresh := rec("fresh", base, "x")
	for _, tc := range []struct {
		name   string
		recs   []store.Record
		index  int
		held   time.Time
		inCall bool
	}{
		{"stored, another time", []store.Record{fresh, later}, 1, base, false},
		{"stored, other bytes", []store.Record{fresh, a, changed}, 2, base, false},
		{"in the call, another time", []store.Record{fresh, rec("n", base, "x"), rec("n", base.Add(time.Hour), "x")}, 2, base, true},
		{"in the call, other bytes", []store.Record{rec("m", base, "x"), fresh, func() store.Record {
			r := rec("m", base, "x")
			r.V2 = []byte(`{"uuid":"m","other":1}`)
			return r
		}()}, 2, base, true},
	} {
		for _, seq := range []bool{false, true} {
			var err error
			if seq {
				_, err = s.AppendEventsSeq(ctx, acct, events.AuditEvents, func(yield func(store.Record, error) bool) {
					for _, r := range tc.recs {
						if !yield(r, nil) {
							return
						}
					}
				})
			} else {
				_, err = s.AppendEvents(ctx, acct, events.AuditEvents, tc.recs)
			}
			var c *store.UUIDConflict
			if !errors.As(err, &c) || !errors.Is(err, store.ErrConflict) {
				t.Errorf("%s (seq %v): err %v, want a *store.UUIDConflict", tc.name, seq, err)
				continue
			}
			if c.Index != tc.index || c.UUID != tc.recs[tc.index].UUID || !c.Held.Equal(tc.held) || c.InCall != tc.inCall {
				t.Errorf("%s (seq %v): conflict %+v, want index %d uuid %s held %s in call %v", tc.name, seq, *c, tc.index, tc.recs[tc.index].UUID, tc.held, tc.inCall)
			}
		}
	}
	res := mustList(t, s, store.ListQuery{Account: acct, Feature: events.AuditEvents, Limit: 10})
	diff(t, "rows (nothing of a conflicting call stored)", rowsOf(res.Rows), wantOf([]store.Record{a, b}))
	// Another stream may hold the uuid as another event.
	if n := mustAppend(t, s, acct, events.ItemUsages, []store.Record{later}); n != 1 {
		t.Errorf("other stream: inserted %d, want 1", n)
	}
	// Once retention has removed the event, its uuid is free again.
	if _, err := s.DeleteEventsBefore(ctx, base.Add(time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if n := mustAppend(t, s, acct, events.AuditEvents, []store.Record{later}); n != 1 {
		t.Errorf("after retention: inserted %d, want 1", n)
	}
}

func testStreamIsolation(t *testing.T, s store.Store) {
	acct1, acct2 := newID(), newID()
	ev := rec("same-uuid", base, "x")
	streams := []struct {
		account string
		feature events.Feature
	}{
		{acct1, events.SignInAttempts}, {acct1, events.ItemUsages}, {acct2, events.SignInAttempts},
	}
	for i, st := range streams {
		own := rec(fmt.Sprintf("own-%d", i), base, "x")
		if n := mustAppend(t, s, st.account, st.feature, []store.Record{ev, own}); n != 2 {
			t.Errorf("stream %d: inserted %d, want 2 (uuids are unique per stream only)", i, n)
		}
	}
	for i, st := range streams {
		res := mustList(t, s, store.ListQuery{Account: st.account, Feature: st.feature, Limit: 10})
		diff(t, fmt.Sprintf("stream %d", i), rowsOf(res.Rows), wantOf([]store.Record{ev, rec(fmt.Sprintf("own-%d", i), base, "x")}))
	}
}

func testPaging(t *testing.T, s store.Store) {
	acct := newID()
	rs := recs("p", 25, base, time.Millisecond)
	mustAppend(t, s, acct, events.SignInAttempts, rs[:12])
	mustAppend(t, s, acct, events.SignInAttempts, rs[12:])
	q := store.ListQuery{Account: acct, Feature: events.SignInAttempts, Limit: 10}
	var all []store.Row
	for i, want := range []struct {
		n    int
		more bool
	}{{10, true}, {10, true}, {5, false}} {
		res := mustList(t, s, q)
		if len(res.Rows) != want.n || res.More != want.more {
			t.Fatalf("page %d: %d rows, More %v; want %d, %v", i, len(res.Rows), res.More, want.n, want.more)
		}
		if res.Last != res.Rows[len(res.Rows)-1].Seq {
			t.Errorf("page %d: Last = %d, want the last row's Seq %d", i, res.Last, res.Rows[len(res.Rows)-1].Seq)
		}
		all = append(all, res.Rows...)
		q.After = res.Last
	}
	diff(t, "all pages", rowsOf(all), wantOf(rs))
	// At the end: no rows, Last stays, More false; replaying is the same.
	for range 2 {
		res := mustList(t, s, q)
		if len(res.Rows) != 0 || res.More || res.Last != q.After {
			t.Errorf("at end: %d rows, More %v, Last %d; want 0, false, %d", len(res.Rows), res.More, res.Last, q.After)
		}
	}
	// Exactly a page left: More is false.
	q.After = all[14].Seq
	res := mustList(t, s, q)
	if len(res.Rows) != 10 || res.More {
		t.Errorf("exactly one page left: %d rows, More %v; want 10, false", len(res.Rows), res.More)
	}
}

func testTimeFilter(t *testing.T, s store.Store) {
	acct := newID()
	// Ingestion order differs from time order.
	offsets := []time.Duration{5, 1, 9, 3, 7, 2, 8, 0, 6, 4}
	var rs []store.Record
	for i, o := range offsets {
		rs = append(rs, rec(fmt.Sprintf("t%d", i), base.Add(o*time.Minute), "x"))
	}
	mustAppend(t, s, acct, events.ItemUsages, rs)
	filter := func(start, end time.Time) []store.Record {
		var out []store.Record
		for _, r := range rs {
			if (start.IsZero() || !r.Time.Before(start)) && (end.IsZero() || r.Time.Before(end)) {
				out = append(out, r)
			}
		}
		return out
	}
	tests := []struct {
		name       string
		start, end time.Time
	}{
		{"no filter", time.Time{}, time.Time{}},
		{"start only", base.Add(5 * time.Minute), time.Time{}},
		{"start inclusive end exclusive", base.Add(2 * time.Minute), base.Add(7 * time.Minute)},
		{"end only", time.Time{}, base.Add(3 * time.Minute)},
		{"to the nanosecond", base.Add(4*time.Minute + 1), base.Add(6*time.Minute + 1)},
		{"empty range", base.Add(20 * time.Minute), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, limit := range []int{1, 3, 1000} {
				all := Drain(t, s, store.ListQuery{Account: acct, Feature: events.ItemUsages,
					Start: tt.start, End: tt.end, Limit: limit})
				diff(t, fmt.Sprintf("limit %d", limit), rowsOf(all), wantOf(filter(tt.start, tt.end)))
			}
		})
	}
}

func testLateArrival(t *testing.T, s store.Store) {
	acct := newID()
	q := store.ListQuery{Account: acct, Feature: events.ItemUsages, Start: base, Limit: 100}
	first := recs("early", 5, base.Add(time.Hour), time.Minute)
	mustAppend(t, s, acct, events.ItemUsages, first)
	res := mustList(t, s, q)
	diff(t, "first page", rowsOf(res.Rows), wantOf(first))
	// An event timestamped before everything the reader has seen, but
	// inside its filter, arrives late: the reader still gets it, once.
	late := rec("late", base.Add(time.Minute), "x")
	tooOld := rec("too-old", base.Add(-time.Minute), "x")
	mustAppend(t, s, acct, events.ItemUsages, []store.Record{late, tooOld})
	q.After = res.Last
	rest := Drain(t, s, q)
	diff(t, "after the late arrival", rowsOf(rest), wantOf([]store.Record{late}))
}

func testMoreWithFilter(t *testing.T, s store.Store) {
	acct := newID()
	in := func(id string) store.Record { return rec(id, base.Add(time.Hour), "x") }
	out := func(id string) store.Record { return rec(id, base.Add(-time.Hour), "x") }
	mustAppend(t, s, acct, events.AuditEvents, []store.Record{in("a"), out("b"), in("c"), out("d"), out("e")})
	q := store.ListQuery{Account: acct, Feature: events.AuditEvents, Start: base, Limit: 2}
	res := mustList(t, s, q)
	diff(t, "rows", rowsOf(res.Rows), wantOf([]store.Record{in("a"), in("c")}))
	if res.More {
		t.Errorf("More = true, but nothing after the page matches")
	}
	mustAppend(t, s, acct, events.AuditEvents, []store.Record{out("f"), in("g")})
	q.After = res.Rows[1].Seq
	res = mustList(t, s, q)
	diff(t, "rows after a new match", rowsOf(res.Rows), wantOf([]store.Record{in("g")}))
	q.After, q.Limit = 0, 1
	res = mustList(t, s, q)
	if !res.More || res.Last != res.Rows[0].Seq {
		t.Errorf("limit 1 with later matches: More %v, Last %d; want true, %d", res.More, res.Last, res.Rows[0].Seq)
	}
}

// testSparseFilterProgress: a filter that skips thousands of rows may take
// several calls (implementations bound the work of one), but every call
// progresses and the one match arrives once.
func testSparseFilterProgress(t *testing.T, s store.Store) {
	acct := newID()
	old := recs("old", 3000, base.Add(-48*time.Hour), time.Millisecond)
	mustAppend(t, s, acct, events.SignInAttempts, old[:1500])
	match := rec("match", base, "x")
	mustAppend(t, s, acct, events.SignInAttempts, []store.Record{match})
	mustAppend(t, s, acct, events.SignInAttempts, old[1500:])
	q := store.ListQuery{Account: acct, Feature: events.SignInAttempts, Start: base.Add(-time.Hour), Limit: 1}
	calls := 0
	var all []store.Row
	for {
		calls++
		if calls > len(old) {
			t.Fatalf("no end after %d calls", calls)
		}
		res := mustList(t, s, q)
		all = append(all, res.Rows...)
		if !res.More {
			break
		}
		if res.Last <= q.After {
			t.Fatalf("call %d: More with Last %d <= After %d", calls, res.Last, q.After)
		}
		q.After = res.Last
	}
	diff(t, "rows", rowsOf(all), wantOf([]store.Record{match}))
	head, err := s.HeadPosition(t.Context(), acct, events.SignInAttempts)
	must(t, "HeadPosition", err)
	// Skipped rows at the end need not be examined again.
	res := mustList(t, s, q)
	if len(res.Rows) != 0 || res.More {
		t.Errorf("replay at the end: %d rows, More %v", len(res.Rows), res.More)
	}
	if res.Last > head {
		t.Errorf("Last = %d beyond head %d", res.Last, head)
	}
}

func testStartPosition(t *testing.T, s store.Store) {
	ctx := t.Context()
	acct := newID()
	f := events.ItemUsages
	p, err := s.StartPosition(ctx, acct, f, base)
	must(t, "StartPosition(empty)", err)
	if p != 0 {
		t.Errorf("StartPosition on an empty stream = %d, want 0", p)
	}
	// Batches out of time order, over several days.
	var all []store.Record
	for i, day := range []int{3, 0, 5, 1, 4, 2, 0, 5} {
		rs := recs(fmt.Sprintf("b%d", i), 20, base.Add(time.Duration(day)*24*time.Hour), 7*time.Minute)
		mustAppend(t, s, acct, f, rs)
		all = append(all, rs...)
	}
	rows := Drain(t, s, store.ListQuery{Account: acct, Feature: f, Limit: 1000})
	head, err := s.HeadPosition(ctx, acct, f)
	must(t, "HeadPosition", err)
	check := func(start time.Time) {
		t.Helper()
		p, err := s.StartPosition(ctx, acct, f, start)
		must(t, "StartPosition", err)
		if p < 0 || p > head {
			t.Errorf("StartPosition(%v) = %d, want within [0, %d]", start, p, head)
		}
		for _, r := range rows {
			if !r.Time.Before(start) && r.Seq <= p {
				t.Errorf("StartPosition(%v) = %d, but the event at %v has Seq %d", start, p, r.Time, r.Seq)
				return
			}
		}
		// Listing from it with the filter finds exactly the events >= start.
		got := Drain(t, s, store.ListQuery{Account: acct, Feature: f, After: p, Start: start, Limit: 100})
		want := 0
		for _, r := range all {
			if !r.Time.Before(start) {
				want++
			}
		}
		if len(got) != want {
			t.Errorf("listing from StartPosition(%v): %d events, want %d", start, len(got), want)
		}
	}
	for _, start := range []time.Time{
		base.Add(-time.Hour), base, base.Add(30 * time.Minute), base.Add(24*time.Hour + 90*time.Minute),
		base.Add(5*24*time.Hour + 2*time.Hour), base.Add(30 * 24 * time.Hour),
	} {
		check(start)
	}
	// After the last event: later events land beyond the position.
	future := base.Add(30 * 24 * time.Hour)
	p, err = s.StartPosition(ctx, acct, f, future)
	must(t, "StartPosition(future)", err)
	mustAppend(t, s, acct, f, []store.Record{rec("future", future.Add(time.Minute), "x")})
	res := mustList(t, s, store.ListQuery{Account: acct, Feature: f, After: p, Start: future, Limit: 10})
	diff(t, "future event", rowsOf(res.Rows), wantOf([]store.Record{rec("future", future.Add(time.Minute), "x")}))
}

func testHeadPosition(t *testing.T, s store.Store) {
	ctx := t.Context()
	acct := newID()
	h, err := s.HeadPosition(ctx, acct, events.AuditEvents)
	must(t, "HeadPosition(empty)", err)
	if h != 0 {
		t.Errorf("HeadPosition(empty) = %d, want 0", h)
	}
	mustAppend(t, s, acct, events.AuditEvents, recs("h", 4, base, time.Second))
	mustAppend(t, s, newID(), events.AuditEvents, recs("other", 3, base, time.Second))
	res := mustList(t, s, store.ListQuery{Account: acct, Feature: events.AuditEvents, Limit: 10})
	h, err = s.HeadPosition(ctx, acct, events.AuditEvents)
	must(t, "HeadPosition", err)
	if want := res.Rows[len(res.Rows)-1].Seq; h != want {
		t.Errorf("HeadPosition = %d, want %d", h, want)
	}
}

func testRetention(t *testing.T, s store.Store) {
	ctx := t.Context()
	acct := newID()
	f := events.SignInAttempts
	// Events every 10 minutes over 6 hours, appended in two batches out of
	// time order, with two labels.
	var all []store.Record
	for i := range 36 {
		label := "success"
		if i%3 == 0 {
			label = "credentials_failed"
		}
		all = append(all, rec(fmt.Sprintf("r%02d", i), base.Add(time.Duration(i)*10*time.Minute), label))
	}
	mustAppend(t, s, acct, f, all[18:])
	mustAppend(t, s, acct, f, all[:18])
	other := newID()
	mustAppend(t, s, other, events.ItemUsages, recs("o", 5, base, time.Hour))

	cut := base.Add(2*time.Hour + 25*time.Minute) // mid-hour
	n, err := s.DeleteEventsBefore(ctx, cut)
	must(t, "DeleteEventsBefore", err)
	var keep []store.Record
	for _, r := range all {
		if !r.Time.Before(cut) {
			keep = append(keep, r)
		}
	}
	// Counted per stream, ordered by account then feature.
	wantRemoved := []store.StreamCount{
		{Account: acct, Feature: f, N: int64(len(all) - len(keep))},
		{Account: other, Feature: events.ItemUsages, N: 3},
	}
	store.SortStreamCounts(wantRemoved)
	diff(t, "DeleteEventsBefore removed", n, wantRemoved)
	rows := Drain(t, s, store.ListQuery{Account: acct, Feature: f, Limit: 7})
	// keep is in time order; the stream holds all[18:] first.
	var want []store.Record
	for _, r := range append(append([]store.Record{}, all[18:]...), all[:18]...) {
		if !r.Time.Before(cut) {
			want = append(want, r)
		}
	}
	diff(t, "rows after retention", rowsOf(rows), wantOf(want))
	counts, err := s.CountEvents(ctx, acct, f, base.Add(-time.Hour), base.Add(24*time.Hour))
	must(t, "CountEvents", err)
	diff(t, "counts after retention", counts, expectCounts(keep, base.Add(-time.Hour), base.Add(24*time.Hour)))
	p, err := s.StartPosition(ctx, acct, f, cut)
	must(t, "StartPosition", err)
	for _, r := range rows {
		if r.Seq <= p {
			t.Errorf("StartPosition(cut) = %d, but a kept event has Seq %d", p, r.Seq)
		}
	}
	// Deleting again removes nothing.
	n, err = s.DeleteEventsBefore(ctx, cut)
	must(t, "DeleteEventsBefore again", err)
	if len(n) != 0 {
		t.Errorf("DeleteEventsBefore again removed %v", n)
	}
	// Emptying the stream does not let positions be reused.
	head, err := s.HeadPosition(ctx, acct, f)
	must(t, "HeadPosition", err)
	_, err = s.DeleteEventsBefore(ctx, base.Add(365*24*time.Hour))
	must(t, "DeleteEventsBefore all", err)
	mustAppend(t, s, acct, f, []store.Record{rec("new", base.Add(400*24*time.Hour), "x")})
	res := mustList(t, s, store.ListQuery{Account: acct, Feature: f, After: head, Limit: 10})
	diff(t, "event appended after emptying", rowsOf(res.Rows), wantOf([]store.Record{rec("new", base.Add(400*24*time.Hour), "x")}))
}

// expectCounts computes what CountEvents should answer for rs.
func expectCounts(rs []store.Record, from, to time.Time) []store.LabelCount {
	type key struct {
		hour  time.Time
		label string
	}
	m := map[key]int64{}
	for _, r := range rs {
		if r.Time.Before(from) || !r.Time.Before(to) {
			continue
		}
		m[key{r.Time.Truncate(time.Hour), r.Label}]++
	}
	var out []store.LabelCount
	for k, n := range m {
		out = append(out, store.LabelCount{Hour: k.hour, Label: k.label, N: n})
	}
	sortCounts(out)
	return out
}

func sortCounts(cs []store.LabelCount) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0; j-- {
			a, b := cs[j-1], cs[j]
			if a.Hour.Before(b.Hour) || (a.Hour.Equal(b.Hour) && a.Label <= b.Label) {
				break
			}
			cs[j-1], cs[j] = b, a
		}
	}
}

func testCountEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	acct := newID()
	f := events.AuditEvents
	labels := []string{"grant/vault", "create/item", "grant/vault", "delete/user"}
	var all []store.Record
	for i := range 40 {
		all = append(all, rec(fmt.Sprintf("c%02d", i), base.Add(time.Duration(i)*7*time.Minute), labels[i%len(labels)]))
	}
	mustAppend(t, s, acct, f, all[20:])
	mustAppend(t, s, acct, f, all[:20])
	mustAppend(t, s, acct, f, all[5:10]) // duplicates are not counted twice
	mustAppend(t, s, acct, events.SignInAttempts, all[:3])
	hour := base.Truncate(time.Hour)
	tests := []struct {
		name     string
		from, to time.Time
	}{
		{"whole hours", hour, hour.Add(6 * time.Hour)},
		{"partial hours at both ends", base.Add(13 * time.Minute), base.Add(2*time.Hour + 41*time.Minute)},
		{"inside one hour", base.Add(10 * time.Minute), base.Add(30 * time.Minute)},
		{"before everything", hour.Add(-5 * time.Hour), hour},
		{"empty range", base, base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.CountEvents(ctx, acct, f, tt.from, tt.to)
			must(t, "CountEvents", err)
			diff(t, "counts", got, expectCounts(all, tt.from, tt.to))
			for _, c := range got {
				if c.Hour.Location() != time.UTC {
					t.Errorf("Hour location = %v, want UTC", c.Hour.Location())
				}
			}
		})
	}
}

// testConcurrentWritersAndReaders is the stress test of the visibility
// promise: 8 writers append batches to one stream while 8 readers page
// through it from position 0; every reader must receive every event exactly
// once, in increasing Seq.
func testConcurrentWritersAndReaders(t *testing.T, s store.Store) {
	Stress(t, []store.Store{s})
}

// Stress runs the concurrency stress test over several handles on one
// database (as several servers or processes see it): writer i and reader i
// use stores[i%len(stores)]. Every reader must receive every event exactly
// once, in increasing Seq. Run includes it with a single handle.
func Stress(t *testing.T, stores []store.Store) {
	const (
		writers, batches, batchSize = 8, 15, 40
		readers, pageSize           = 8, 57
		total                       = writers * batches * batchSize
	)
	ctx := t.Context()
	acct := newID()
	f := events.ItemUsages

	// progress is closed and replaced after every commit, so a reader that
	// found nothing new can wait for the next commit instead of sleeping.
	var mu sync.Mutex
	progress := make(chan struct{})
	writersDone := make(chan struct{})
	changed := func() <-chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		return progress
	}
	notify := func() {
		mu.Lock()
		close(progress)
		progress = make(chan struct{})
		mu.Unlock()
	}

	var wg sync.WaitGroup
	werrs := make(chan error, writers)
	for w := range writers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for b := range batches {
				rs := recs(fmt.Sprintf("w%d-b%02d", w, b), batchSize, base.Add(time.Duration(b)*time.Minute), time.Millisecond)
				n, err := s.AppendEvents(ctx, acct, f, rs)
				if err == nil && n != batchSize {
					err = fmt.Errorf("writer %d batch %d inserted %d, want %d", w, b, n, batchSize)
				}
				if err != nil {
					werrs <- err
					return
				}
				notify()
			}
		})
	}
	go func() { wg.Wait(); close(writersDone) }()

	type result struct {
		seen map[string]int
		err  error
	}
	results := make(chan result, readers)
	for r := range readers {
		s := stores[r%len(stores)]
		go func() {
			seen := map[string]int{}
			q := store.ListQuery{Account: acct, Feature: f, Limit: pageSize, V1: r%2 == 1}
			finished := false
			for {
				wait := changed()
				select {
				case <-writersDone:
					finished = true
				default:
				}
				res, err := s.ListEvents(ctx, q)
				if err != nil {
					results <- result{seen, err}
					return
				}
				prev := q.After
				for _, row := range res.Rows {
					if row.Seq <= prev {
						results <- result{seen, fmt.Errorf("reader %d: Seq %d after %d", r, row.Seq, prev)}
						return
					}
					prev = row.Seq
					seen[uuidOf(row.Data)]++
				}
				if res.Last < q.After {
					results <- result{seen, fmt.Errorf("reader %d: Last %d < After %d", r, res.Last, q.After)}
					return
				}
				if res.More && len(res.Rows) == 0 && res.Last == q.After {
					results <- result{seen, fmt.Errorf("reader %d: More with no progress at %d", r, q.After)}
					return
				}
				q.After = res.Last
				if res.More {
					continue
				}
				if finished {
					// Writers were done before this read began: it saw all.
					results <- result{seen, nil}
					return
				}
				select {
				case <-wait:
				case <-writersDone:
				case <-ctx.Done():
					results <- result{seen, ctx.Err()}
					return
				}
			}
		}()
	}
	<-writersDone
	close(werrs)
	for err := range werrs {
		t.Fatalf("writer: %v", err)
	}
	for range readers {
		res := <-results
		if res.err != nil {
			t.Fatal(res.err)
		}
		if len(res.seen) != total {
			t.Errorf("a reader saw %d distinct events, want %d", len(res.seen), total)
		}
		dups := 0
		for _, n := range res.seen {
			if n != 1 {
				dups++
			}
		}
		if dups > 0 {
			t.Errorf("a reader saw %d events more than once", dups)
		}
	}
	CheckTree(t, stores[0], acct, f)
}
