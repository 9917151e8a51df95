package forward_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/logbookhq/logbook/internal/forward"
)

// TestBudgetFailureStopsSourceWithError: when the shared budget cannot be
// read (here its file is a FIFO, which cannot be written at an offset),
// the source ends with that error instead of stopping without a word.
func TestBudgetFailureStopsSourceWithError(t *testing.T) {
	b := setup(t)
	dir := filepath.Join(t.TempDir(), "budget")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("introspect/demo"))
	if err := syscall.Mkfifo(filepath.Join(dir, hex.EncodeToString(sum[:8])+".budget"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := forward.New(forward.Options{Sources: []forward.SourceOptions{b.source(t, b.srv.Token)}, Sinks: []forward.Sink{b.fileSink(t)},
		StateDir: b.state, BudgetDir: dir, Once: true})
	if err != nil {
		t.Fatal(err)
	}
	err = f.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "budget") || !strings.Contains(err.Error(), "demo") {
		t.Errorf("Run = %v, want the source's budget error", err)
	}
}
