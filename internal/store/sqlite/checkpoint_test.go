package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/storetest"
)

// TestBackgroundCheckpoint checks that a WAL past the threshold is copied
// into the database file by the background checkpointer.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "logbook.db")
	type result struct{ nLog, nCkpt int }
	done := make(chan result, 100)
	db, err := sqlite.OpenCheckpointing(ctx, path, 64, 1<<30, func(nLog, nCkpt int, err error) {
		if err != nil {
			t.Errorf("background checkpoint: %v", err)
		}
		select {
		case done <- result{nLog, nCkpt}:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-time.Hour)
	for i := range 3 {
		if _, err := db.AppendEvents(ctx, "acct", events.ItemUsages, storetest.Records(1000, t0.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.After(time.Minute)
	for {
		select {
		case r := <-done:
			if r.nCkpt == 0 {
				continue // a checkpoint that found nothing to copy yet
			}
			after, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if after.Size() <= before.Size()+(512<<10) {
				t.Fatalf("database file %d bytes after a checkpoint of %d frames, %d before", after.Size(), r.nCkpt, before.Size())
			}
			return
		case <-deadline:
			t.Fatal("no background checkpoint copied anything within a minute")
		}
	}
}

// TestInlineCheckpointBoundsWAL checks that when the background
// checkpointer does not run, the writer checkpoints itself past the inline
// threshold, so the WAL does not grow without bound.
func TestInlineCheckpointBoundsWAL(t *testing.T) {
	ctx := t.Context()
	const inline = 64
	db, err := sqlite.OpenCheckpointing(ctx, filepath.Join(t.TempDir(), "logbook.db"), 1<<30, inline, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Now().Add(-time.Hour)
	most := 0
	for i := range 10 {
		if _, err := db.AppendEvents(ctx, "acct", events.ItemUsages, storetest.Records(1000, t0.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
		n, err := sqlite.WALFrames(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		most = max(most, n)
	}
	// One append of 1,000 events is about 60 frames of 16 KB; ten without
	// checkpoints would leave over 500.
	if most > inline+200 {
		t.Errorf("WAL reached %d frames; want at most %d", most, inline+200)
	}
}

// TestCloseTwice: closing a DB again is harmless.
func TestCloseTwice(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "logbook.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
