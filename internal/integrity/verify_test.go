package integrity_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ncruces/go-sqlite3"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/integrity"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/testenv"
)

const feature = events.AuditEvents

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func record(i int) store.Record {
	id := fmt.Sprintf("EVENT%02d", i)
	ts := t0.Add(time.Duration(i) * time.Minute)
	return store.Record{UUID: id, Time: ts, Label: "x",
		V2: fmt.Appendf(nil, `{"uuid":%q,"timestamp":%q,"n":%d}`, id, ts.Format(time.RFC3339Nano), i)}
}

// fill appends 20 events to account's audit stream, one per batch, each
// after a re-sent copy of the one before, and one event of another stream
// between batches: positions have gaps on both backends. It returns the
// events' positions by leaf index. after, if given, runs after each of
// the audit stream's appends, with the number of events appended.
func fill(t *testing.T, st store.Store, account string, after ...func(n int)) []int64 {
	t.Helper()
	ctx := t.Context()
	for i := range 20 {
		batch := []store.Record{record(i)}
		if i > 0 {
			batch = []store.Record{record(i - 1), record(i)}
		}
		if _, err := st.AppendEvents(ctx, account, feature, batch); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AppendEvents(ctx, account, events.ItemUsages, []store.Record{record(100 + i)}); err != nil {
			t.Fatal(err)
		}
		for _, f := range after {
			f(i + 1)
		}
	}
	var seqs []int64
	if _, err := st.ReadTree(ctx, account, feature, func(r store.TreeRow) error {
		seqs = append(seqs, r.Seq)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] == seqs[i-1]+1 {
			t.Fatalf("positions %v: no gap after %d", seqs, seqs[i-1])
		}
	}
	return seqs
}

// tamperer changes a backend's rows behind the store's back.
type tamperer interface {
	// exec runs SQL with $1… parameters; {events} is the table of the
	// audit stream's rows, and {stream} before a condition restricts it
	// to them.
	exec(t *testing.T, query string, args ...any)
	// flipByte changes one byte of the event at position seq.
	flipByte(t *testing.T, seq int64)
}

type backend struct {
	name string
	open func(t *testing.T) (store.Store, tamperer)
}

var backends = []backend{
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
}

type sqliteTamperer struct {
	path    string
	db      *sqlite.DB
	account string
}

func openSQLite(t *testing.T) (store.Store, tamperer) {
	path := filepath.Join(t.TempDir(), "logbook.db")
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, &sqliteTamperer{path: path, db: db}
}

// table is the events table of the stream; the audit stream is made first.
func (s *sqliteTamperer) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	c, err := sqlite3.Open(s.path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := bytes.ReplaceAll([]byte(query), []byte("{events}"), []byte("events_1"))
	q = bytes.ReplaceAll(q, []byte("{stream}"), nil)
	for i := len(args); i >= 1; i-- {
		q = bytes.ReplaceAll(q, []byte("$"+strconv.Itoa(i)), []byte("?"+strconv.Itoa(i)))
	}
	st, _, err := c.Prepare(string(q))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, a := range args {
		switch v := a.(type) {
		case int64:
			st.BindInt64(i+1, v)
		case []byte:
			st.BindBlob(i+1, v)
		default:
			t.Fatalf("argument %T", a)
		}
	}
	if err := st.Exec(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// flipByte edits the database file itself: with the store closed and its
// log checkpointed, one character of the event's timestamp text (stored
// only in its v2 bytes) changes on disk.
func (s *sqliteTamperer) flipByte(t *testing.T, seq int64) {
	t.Helper()
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		t.Fatal(err)
	}
	i := int(seq) // the caller passes the event number, see flipNeedle
	needle := flipNeedle(i)
	at := bytes.Index(b, needle)
	if at < 0 || bytes.Index(b[at+1:], needle) >= 0 {
		t.Fatalf("%q found %d times in the file", needle, bytes.Count(b, needle))
	}
	b[at+len(needle)-1] ^= 1
	if err := os.WriteFile(s.path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(t.Context(), s.path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s.db = db
}

// flipNeedle is text found only in event i's v2 bytes.
func flipNeedle(i int) []byte { return fmt.Appendf(nil, `"n":%d}`, i) }

type pgTamperer struct {
	url string
}

func openPostgres(t *testing.T) (store.Store, tamperer) {
	url := testenv.PostgresSchema(t)
	db, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, &pgTamperer{url: url}
}

func (p *pgTamperer) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), p.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	q := bytes.ReplaceAll([]byte(query), []byte("{events}"), []byte("events"))
	q = bytes.ReplaceAll(q, []byte("{stream}"), []byte("stream = (SELECT id FROM streams WHERE feature = 'auditevents') AND "))
	if _, err := conn.Exec(t.Context(), string(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (p *pgTamperer) flipByte(t *testing.T, i int64) {
	t.Helper()
	needle := flipNeedle(int(i))
	p.exec(t, `UPDATE events SET v2 = overlay(v2 placing set_byte('\x00'::bytea, 0, get_byte(v2, position($1 in v2) + $2 - 2) # 1)
		from position($1 in v2) + $2 - 1 for 1) WHERE position($1 in v2) > 0`, needle, int64(len(needle)))
}

// store returns the backend's current store (SQLite reopens it after
// editing the file).
func current(st store.Store, tm tamperer) store.Store {
	if s, ok := tm.(*sqliteTamperer); ok {
		return s.db
	}
	return st
}

func TestVerify(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					st, tm := b.open(t)
					account := events.NewID()
					seqs := fill(t, st, account)
					c.tamper(t, tm, seqs)
					res, err := integrity.Verify(t.Context(), current(st, tm), nil, "", "")
					if err != nil {
						t.Fatal(err)
					}
					if len(res) != 2 {
						t.Fatalf("%d streams checked, want 2", len(res))
					}
					var audit integrity.Result
					for _, r := range res {
						if r.Feature == feature {
							audit = r
						} else if r.Problem != nil {
							t.Errorf("the untouched stream: %v", r.Problem)
						}
					}
					want := c.want(seqs)
					if want == nil {
						if audit.Problem != nil {
							t.Fatalf("untouched stream: %v", audit.Problem)
						}
						if audit.Size != 20 {
							t.Fatalf("size %d", audit.Size)
						}
						return
					}
					got := audit.Problem
					if got == nil {
						t.Fatalf("no problem found, want %s at position %d", want.Kind, want.Position)
					}
					if got.Kind != want.Kind || got.Position != want.Position || got.Leaf != want.Leaf {
						t.Fatalf("found %v; want %s at position %d (leaf %d)", got, want.Kind, want.Position, want.Leaf)
					}
					t.Log(got)
				})
			}
		})
	}
}

var cases = []struct {
	name   string
	tamper func(t *testing.T, tm tamperer, seqs []int64)
	want   func(seqs []int64) *integrity.Problem
}{
	{"untouched", func(*testing.T, tamperer, []int64) {}, func([]int64) *integrity.Problem { return nil }},
	{"one byte changed", func(t *testing.T, tm tamperer, seqs []int64) {
		tm.flipByte(t, 7)
	}, func(seqs []int64) *integrity.Problem {
		return &integrity.Problem{Kind: integrity.Modified, Position: seqs[7], Leaf: 7}
	}},
	{"row deleted", func(t *testing.T, tm tamperer, seqs []int64) {
		tm.exec(t, `DELETE FROM {events} WHERE {stream} seq = $1`, seqs[7])
	}, func(seqs []int64) *integrity.Problem {
		return &integrity.Problem{Kind: integrity.Removed, Position: seqs[8], Leaf: 7}
	}},
	{"last row deleted", func(t *testing.T, tm tamperer, seqs []int64) {
		tm.exec(t, `DELETE FROM {events} WHERE {stream} seq = $1`, seqs[19])
	}, func(seqs []int64) *integrity.Problem {
		return &integrity.Problem{Kind: integrity.Removed, Leaf: 19}
	}},
	{"forged row inserted", func(t *testing.T, tm tamperer, seqs []int64) {
		// Between leaves 7 and 8, numbered as the next leaf, with the
		// leaf hash of its bytes: all a forger without the head can do.
		forge(t, tm, seqs[7], seqs[7]+1, 8)
	}, func(seqs []int64) *integrity.Problem {
		return &integrity.Problem{Kind: integrity.Inserted, Position: seqs[7] + 1, Leaf: 8}
	}},
	{"forged row appended", func(t *testing.T, tm tamperer, seqs []int64) {
		forge(t, tm, seqs[19], seqs[19]+1000, 20)
	}, func(seqs []int64) *integrity.Problem {
		return &integrity.Problem{Kind: integrity.Inserted, Position: seqs[19] + 1000, Leaf: 20}
	}},
	{"two rows swapped", func(t *testing.T, tm tamperer, seqs []int64) {
		tm.exec(t, `UPDATE {events} SET seq = -1 WHERE {stream} seq = $1`, seqs[5])
		tm.exec(t, `UPDATE {events} SET seq = $1 WHERE {stream} seq = $2`, seqs[5], seqs[12])
		tm.exec(t, `UPDATE {events} SET seq = $1 WHERE {stream} seq = -1`, seqs[12])
	}, func(seqs []int64) *integrity.Problem {
		return &integrity.Problem{Kind: integrity.Reordered, Position: seqs[5], Leaf: 5}
	}},
	{"two events' bytes swapped", func(t *testing.T, tm tamperer, seqs []int64) {
		tm.exec(t, `UPDATE {events} SET v2 = (SELECT v2 FROM {events} AS o WHERE o.seq = $2 AND o.uuid = 'EVENT12') WHERE seq = $1 AND uuid = 'EVENT05'`, seqs[5], seqs[12])
	}, func(seqs []int64) *integrity.Problem {
		return &integrity.Problem{Kind: integrity.Reordered, Position: seqs[5], Leaf: 5}
	}},
	{"event and leaf rewritten", func(t *testing.T, tm tamperer, seqs []int64) {
		forged := record(50)
		leaf := merkle.LeafHash(forged.V2)
		tm.exec(t, `UPDATE {events} SET v2 = $2, leaf = $3 WHERE {stream} seq = $1`, seqs[9], forged.V2, leaf[:])
	}, func(seqs []int64) *integrity.Problem {
		// The perfect subtree of leaves 0-15 differs.
		return &integrity.Problem{Kind: integrity.HeadMismatch, Position: seqs[0], Leaf: 0}
	}},
	{"head rewritten too short", func(t *testing.T, tm tamperer, seqs []int64) {
		tm.exec(t, `UPDATE streams SET tree_size = 19 WHERE feature = 'auditevents'`)
	}, func(seqs []int64) *integrity.Problem {
		return &integrity.Problem{Kind: integrity.HeadMismatch, Leaf: 19}
	}},
}

// forge inserts a forged event at position seq with leaf index idx and
// the leaf hash of its bytes, a copy of the row at position like but for
// those.
func forge(t *testing.T, tm tamperer, like, seq, idx int64) {
	t.Helper()
	forged := record(50)
	leaf := merkle.LeafHash(forged.V2)
	col := "" // SQLite's table is the stream's; PostgreSQL's has a column
	if _, ok := tm.(*pgTamperer); ok {
		col = "stream, "
	}
	tm.exec(t, `INSERT INTO {events} (`+col+`seq, uuid, ts, label, v2, idx, leaf)
		SELECT `+col+`$1, 'FORGED', ts + 1, 'x', $2, $5, $3 FROM {events} WHERE {stream} seq = $4`,
		seq, forged.V2, leaf[:], like, idx)
}
