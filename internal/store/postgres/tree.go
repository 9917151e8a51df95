package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlstore"
)

// treeRowsSQL merges a stream's events and pruned leaves by position.
const treeRowsSQL = `SELECT seq, idx, leaf, v2, false, uuid FROM events WHERE stream = $1
UNION ALL SELECT seq, idx, leaf, NULL, true, '' FROM tree_pruned WHERE stream = $1
ORDER BY 1`

// ReadTree reads the stream's tree head and then its rows, events and
// pruned leaves merged by position, in one repeatable-read transaction.
func (db *DB) ReadTree(ctx context.Context, account string, feature events.Feature, fn func(store.TreeRow) error) (store.TreeHead, error) {
	if err := store.CheckStream(account, feature); err != nil {
		return store.TreeHead{}, fmt.Errorf("read tree: %w", err)
	}
	var head store.TreeHead
	stream, ok, err := db.streamID(ctx, account, feature, false)
	if err != nil || !ok {
		return head, translate(err)
	}
	err = pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, sqlstore.TreeHeadSQL, stream).Scan(&head.Size, &head.Frontier); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, treeRowsSQL, stream)
		if err != nil {
			return err
		}
		var r store.TreeRow
		var idx *int64
		_, err = pgx.ForEachRow(rows, []any{&r.Seq, &idx, &r.Leaf, &r.Data, &r.Pruned, &r.UUID}, func() error {
			r.Index = -1
			if idx != nil {
				r.Index = *idx
			}
			return fn(r)
		})
		return err
	})
	if err != nil {
		return head, fmt.Errorf("read tree: %w", translate(err))
	}
	return head, nil
}
