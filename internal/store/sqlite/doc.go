// Package sqlite is Logbook's embedded store: store.Store on one SQLite file,
// through the cgo-free github.com/ncruces/go-sqlite3.
//
// The database runs in WAL mode with one writing connection (writes are
// serialised in-process, and across processes by SQLite's write lock taken
// with BEGIN IMMEDIATE) and a pool of read-only connections, so pages are
// served while events are appended. Event appends commit with
// synchronous=FULL: when AppendEvents returns, the events survive a crash or
// a power cut. Rate-limit counters and token last-use times commit with
// synchronous=NORMAL, which keeps them consistent but may lose the last few
// after a power cut.
//
// Because only one transaction writes at a time, positions (seq) become
// visible in increasing order: the visibility promise of store.EventStore
// holds without further work.
//
// A read connection keeps the token row and stream head that
// ListEventsWithToken read last, with its PRAGMA data_version read just
// before them, and reuses them while that value is unchanged: it changes
// whenever another connection, of this process or another, commits, and
// the read connections never write (query_only). A drained poll then costs
// one PRAGMA step (about 9,000 instructions) instead of the token and head
// statement (about 40,000). Any commit (an append, a revocation, but also
// a rate-limit counter or a token's last use) makes every connection read
// again.
//
// # Schema
//
// Each stream (account, feature), known by a small integer id, has its
// events in a table of its own, events_<id>, keyed by position (seq), so a
// page is one range of one table and an append touches two B-trees: the
// table and the de-duplication index on (ts, uuid). Keyed by time first,
// inserts stay near the end of that index however large it grows. (Until
// migration 0002 all streams shared one table, which needed a third index
// on the stream.) Positions come from one high-water mark
// (positions.last_seq) for all streams and are never reused, even after
// retention has emptied a stream. event_hours keeps per stream and hour of
// event time the range of positions holding that hour's events;
// StartPosition, retention and partial-hour counts read it instead of
// scanning events. event_labels keeps counts per hour and label for the
// dashboard. New files use 16 KB pages, and WAL checkpoints run in the
// background (checkpoint.go).
//
// Migrations are numbered files in migrations/, embedded, applied in order
// by DB.Migrate (by default from Open), each in its own transaction,
// recorded in schema_migrations, forward-only.
package sqlite
