// Package postgres is Logbook's store for several servers on one database:
// store.Store on PostgreSQL through pgx's native API (pgxpool; binary COPY
// for appended batches, raw row values for pages, spliced into one buffer
// without decoding).
//
// # Ordering: no event skipped under concurrent ingestion
//
// Positions (seq) are numbered per stream from a counter row,
// streams.last_seq. AppendEvents locks that row (SELECT … FOR UPDATE) in
// its transaction, numbers its events after the counter,
// raises the counter and commits; the row lock is released only after the
// commit is visible. The next append to the stream, on this server or any
// other, waits for the lock and so reads the raised counter only after the
// previous transaction's events are visible to every new snapshot. So
// positions become visible in increasing order: a reader that has seen
// position N will never later see a new event below N. Appends to
// different streams do not wait for each other. The counter is never
// lowered (retention leaves it), so positions are never reused; positions
// meant for duplicates skipped within a batch stay unused.
//
// Only numbering, the summaries and the commit need the lock. An append
// of new events (the usual batch) copies its event_uuids rows before
// taking it: their primary key refuses a uuid the stream holds, and makes
// an append wait for another one still inserting the same uuid. When the
// append before it on this server has already numbered its events, it
// numbers its own after those and copies them too before the lock, so that
// appends to one stream copy their rows in parallel. Under the lock it
// checks that guess (the counter is below its first position and the
// tree's size is its first leaf index: no other server appended and the
// append before it committed); a stale guess is rolled back and the append
// made again, numbered under the lock. Uncommitted rows are invisible, so
// readers see nothing earlier than they would otherwise. A batch that
// repeats or reuses a uuid is refused by event_uuids' key and made again
// with its uuids looked up under the lock, which sorts duplicates from
// conflicts.
//
// ListEvents reads the page and the stream's counter in one statement, so
// in one snapshot; when fewer rows than the limit match, it reports the
// counter as the position to continue from, which is safe because every
// position up to it was visible to that snapshot.
//
// # Time partitions and retention
//
// events is partitioned by range on the event time (ts, unix nanoseconds)
// into one partition per UTC day, events_dYYYYMMDD, made on demand before
// an append that needs it (under an advisory lock, created as a plain table
// then attached, which does not block readers or writers). Retention drops
// the partitions wholly older than the cutoff — its cost does not depend on
// how many events they hold — and deletes the older events of the one
// partition holding the cutoff through the (stream, ts, uuid) index, hour
// by hour. De-duplication is the unique index (stream, ts, uuid), which
// includes the partition key as PostgreSQL requires.
//
// event_hours keeps, per stream and hour of event time, the range of
// positions holding that hour's events. StartPosition reads it; ListEvents
// reads it (in the same statement) to bound ts to the hours that hold
// positions after the cursor, so only those partitions are scanned: a
// connector at the head of its stream touches one or two partitions, and
// an empty poll none. event_labels keeps counts per hour and label for the
// dashboard.
//
// # The serving path
//
// ListEventsWithToken reads the token's row and the page's bounds in one
// statement (one round trip: all a poll at the head of its stream costs),
// on a second pool whose sessions use generic plans, since PostgreSQL
// otherwise plans that statement afresh at every execution. A page whose
// event times fall in one day is then read from that day's partition by
// name, also with a generic plan, rather than through the partitioned
// parent (planned at every page to keep only the partitions its
// parameters select); if retention dropped the partition in between, the
// parent answers.
//
// A query with a hint (store.ListQuery.Hint: the API's cursor carries the
// time of the last row of a page that had more) also pipelines, in the
// same round trip, a speculative read of the hinted day's partition for
// the positions after the cursor. Its rows are used when the bounds show
// the page lies in that day, keeping only positions up to the bounds'
// end; otherwise they are dropped and the page is read as above. So a
// page a connector pages through costs one round trip, like a poll.
//
// # Migrations
//
// Migrations are numbered files in migrations/ with the same numbers as
// the SQLite store's, embedded, applied in order by DB.Migrate (by default
// from Open), each in its own transaction that first takes an advisory lock
// keyed by the schema, recorded in schema_migrations, forward-only. Several
// servers starting at once take turns; each migration runs once.
//
// The schema is the connection's current schema: add search_path=NAME to
// the URL to keep Logbook in a schema of its own.
package postgres
