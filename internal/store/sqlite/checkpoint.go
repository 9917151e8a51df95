package sqlite

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/ncruces/go-sqlite3"
)

// WAL checkpoints run on a connection of their own, in the background.
// SQLite's automatic checkpoint runs in the connection that commits, after
// the commit and before the call returns, so an append that crossed the
// threshold waited for the whole WAL to be copied into the database file
// and the file to be synced (about a tenth of the append time on the
// build machine). Here the writer's WAL hook only wakes the checkpointer;
// a PASSIVE checkpoint copies what no reader still needs while the writer
// goes on appending. Should the WAL still grow past walInlinePages (the
// checkpointer cannot keep up, or has failed), the writer checkpoints
// itself, as SQLite would, so the WAL stays bounded.
//
// A small WAL checkpointed often did best (Append/new, docs/benchmarks.md):
// 4 MB beat 1, 2 and 16 MB, and 64 MB was 10 % slower. The WAL then starts
// over often, and its syncs rewrite blocks the file already has instead of
// growing it.
const (
	walBackgroundPages = 256 // 4 MB of 16 KB pages
	walInlinePages     = 32 * walBackgroundPages
)

type checkpointer struct {
	log *slog.Logger
	// background and inline are the thresholds in WAL frames
	// (walBackgroundPages, walInlinePages; lowered by tests).
	background, inline int
	// checkpointed, when set, is called after each background checkpoint
	// (tests wait on it).
	checkpointed func(nLog, nCkpt int, err error)
	wake         chan struct{}
	stop         chan struct{}
	wg           sync.WaitGroup
	conn         *sqlite3.Conn

	closeOnce sync.Once
	closeErr  error
}

// start opens the checkpointer's connection to dsn and starts it.
func (k *checkpointer) start(dsn string, busy time.Duration) error {
	c, err := sqlite3.Open(dsn)
	if err != nil {
		return err
	}
	// The connection learns the journal mode when it first reads the file;
	// until then a checkpoint does nothing.
	if err := errors.Join(c.BusyTimeout(busy), c.Exec(`PRAGMA journal_mode = WAL`)); err != nil {
		c.Close()
		return err
	}
	k.conn, k.wake, k.stop = c, make(chan struct{}, 1), make(chan struct{})
	k.wg.Go(k.run)
	return nil
}

func (k *checkpointer) run() {
	for {
		select {
		case <-k.stop:
			return
		case <-k.wake:
			nLog, nCkpt, err := k.conn.WALCheckpoint("main", sqlite3.CHECKPOINT_PASSIVE)
			if err != nil && !isBusy(err) {
				k.log.Warn("sqlite: background WAL checkpoint", "err", err)
			}
			if k.checkpointed != nil {
				k.checkpointed(nLog, nCkpt, err)
			}
		}
	}
}

// hook is the writer's WAL hook, called after each commit with the number
// of frames in the WAL.
func (k *checkpointer) hook(c *sqlite3.Conn, schema string, pages int) error {
	switch {
	case k.wake == nil: // not started: Open is still setting up
	case pages >= k.inline:
		if _, _, err := c.WALCheckpoint(schema, sqlite3.CHECKPOINT_PASSIVE); err != nil && !isBusy(err) {
			k.log.Warn("sqlite: WAL checkpoint", "err", err)
		}
	case pages >= k.background:
		select {
		case k.wake <- struct{}{}:
		default: // already woken
		}
	}
	return nil // the commit has happened whatever a checkpoint did
}

// close stops the checkpointer and closes its connection; calls after the
// first return the first's result.
func (k *checkpointer) close() error {
	k.closeOnce.Do(func() {
		close(k.stop)
		k.wg.Wait()
		k.closeErr = k.conn.Close()
	})
	return k.closeErr
}

func isBusy(err error) bool {
	var se *sqlite3.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.BUSY || se.Code() == sqlite3.LOCKED)
}
