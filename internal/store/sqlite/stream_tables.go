package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store/sqlstore"
)

// Each stream's events live in a table of their own, events_<stream id>
// (migration 0002), created with the stream.

// eventsTable is the name of a stream's events table; ids are integers, so
// the name is safe to put in SQL text.
func eventsTable(stream int64) string { return "events_" + strconv.FormatInt(stream, 10) }

// eventsTableDDL creates a stream's events table and its indexes if they
// do not exist: the de-duplication index, keyed by time first so that
// inserts land near its end (new events are recent) however large it
// grows, and the index on uuid that finds an event held under a uuid at
// another time (migration 0004; not unique, as streams written before it
// may hold a uuid twice). idx and leaf are the event's leaf in the stream's
// Merkle tree (migration 0008; NULL only in a table made before it and not
// yet migrated).
func eventsTableDDL(stream int64) string {
	t := eventsTable(stream)
	return `CREATE TABLE IF NOT EXISTS ` + t + ` (
	seq   INTEGER PRIMARY KEY,
	uuid  TEXT NOT NULL,
	ts    INTEGER NOT NULL,
	label TEXT NOT NULL,
	v2    BLOB NOT NULL,
	v1    BLOB, -- NULL: same as v2
	idx   INTEGER,
	leaf  BLOB
);
CREATE UNIQUE INDEX IF NOT EXISTS ` + t + `_ts_uuid ON ` + t + ` (ts, uuid);
CREATE INDEX IF NOT EXISTS ` + t + `_uuid ON ` + t + ` (uuid)`
}

// goSteps are the parts of migrations that SQL alone cannot do, run after
// the migration's SQL in its transaction.
var goSteps = map[int]func(ctx context.Context, tx *sql.Tx) error{
	2: streamTablesStep,
	4: uuidIndexStep,
	8: merkleStep,
}

// merkleStep gives every stream's events table the columns idx and leaf
// (a table made by an earlier step with today's DDL has them already),
// numbers and hashes its events in position order, and stores each
// stream's tree head.
func merkleStep(ctx context.Context, tx *sql.Tx) error {
	ids, err := streamIDs(ctx, tx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := merkleStream(ctx, tx, id); err != nil {
			return fmt.Errorf("stream %d: %w", id, err)
		}
	}
	return nil
}

func merkleStream(ctx context.Context, tx *sql.Tx, id int64) error {
	t := eventsTable(id)
	var has int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name = 'leaf'`, t).Scan(&has); err != nil {
		return err
	}
	if has == 0 {
		for _, col := range []string{"idx INTEGER", "leaf BLOB"} {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE `+t+` ADD COLUMN `+col); err != nil {
				return err
			}
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, v2 FROM `+t+` ORDER BY seq`)
	if err != nil {
		return err
	}
	type leaf struct {
		seq  int64
		hash merkle.Hash
	}
	var leaves []leaf
	var f merkle.Frontier
	for rows.Next() {
		var l leaf
		var v2 []byte
		if err := rows.Scan(&l.seq, &v2); err != nil {
			rows.Close()
			return err
		}
		l.hash = merkle.LeafHash(v2)
		f.Append(l.hash)
		leaves = append(leaves, l)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	up, err := tx.PrepareContext(ctx, `UPDATE `+t+` SET idx = ?, leaf = ? WHERE seq = ?`)
	if err != nil {
		return err
	}
	defer up.Close()
	for i, l := range leaves {
		if _, err := up.ExecContext(ctx, i, l.hash[:], l.seq); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, sqlstore.Rebind(sqlstore.SetTreeHeadSQL), id, int64(f.Size()), f.Bytes())
	return err
}

// uuidIndexStep gives every stream's events table its index on uuid.
func uuidIndexStep(ctx context.Context, tx *sql.Tx) error {
	ids, err := streamIDs(ctx, tx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, eventsTableDDL(id)); err != nil {
			return fmt.Errorf("stream %d: %w", id, err)
		}
	}
	return nil
}

func streamIDs(ctx context.Context, tx *sql.Tx) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM streams ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// streamTablesStep moves each stream's rows from events_shared to its own
// table, positions unchanged, and drops events_shared.
func streamTablesStep(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM streams ORDER BY id`)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, eventsTableDDL(id)); err != nil {
			return fmt.Errorf("stream %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+eventsTable(id)+` (seq, uuid, ts, label, v2, v1)
			SELECT seq, uuid, ts, label, v2, v1 FROM events_shared WHERE stream = ? ORDER BY seq`, id); err != nil {
			return fmt.Errorf("stream %d: %w", id, err)
		}
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE events_shared`)
	return err
}
