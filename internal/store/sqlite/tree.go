package sqlite

import (
	"context"
	"fmt"

	"github.com/ncruces/go-sqlite3"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// ReadTree reads the stream's tree head and then its rows, events and
// pruned leaves merged by position, in one read transaction.
func (db *DB) ReadTree(ctx context.Context, account string, feature events.Feature, fn func(store.TreeRow) error) (store.TreeHead, error) {
	if err := store.CheckStream(account, feature); err != nil {
		return store.TreeHead{}, fmt.Errorf("read tree: %w", err)
	}
	var head store.TreeHead
	err := db.inStream(ctx, account, feature, func(c *sqlite3.Conn, stream int64) (err error) {
		if head, err = treeHead(c, stream); err != nil {
			return err
		}
		st, err := execer{c}.prepare(`SELECT seq, idx, leaf, v2, 0, uuid FROM `+eventsTable(stream)+`
			UNION ALL SELECT seq, idx, leaf, NULL, 1, '' FROM tree_pruned WHERE stream = ?
			ORDER BY seq`, []any{stream})
		if err != nil {
			return err
		}
		defer st.Close()
		for st.Step() {
			r := store.TreeRow{Seq: st.ColumnInt64(0), Index: -1, Pruned: st.ColumnInt64(4) == 1, UUID: st.ColumnText(5)}
			if st.ColumnType(1) != sqlite3.NULL {
				r.Index = st.ColumnInt64(1)
			}
			if st.ColumnType(2) != sqlite3.NULL {
				r.Leaf = st.ColumnRawBlob(2)
			}
			if !r.Pruned {
				r.Data = st.ColumnRawBlob(3)
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return st.Err()
	})
	if err != nil {
		return head, fmt.Errorf("read tree: %w", err)
	}
	return head, nil
}
