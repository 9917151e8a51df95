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
// # Schema
//
// Events live in one table keyed by position (seq), with a small integer
// stream id per (account, feature). De-duplication is a unique index on
// (stream, ts, uuid): keyed by time first, inserts stay near the end of the
// index however large it grows. event_hours keeps per stream and hour of
// event time the range of positions holding that hour's events;
// StartPosition, retention and partial-hour counts read it instead of
// scanning events. event_labels keeps counts per hour and label
// for the dashboard. Positions come from a high-water mark (positions.last_seq)
// and are never reused, even after retention has emptied a stream.
//
// Migrations are numbered files in migrations/, embedded, applied in order
// by DB.Migrate (by default from Open), each in its own transaction,
// recorded in schema_migrations, forward-only.
package sqlite
