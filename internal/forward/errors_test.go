package forward_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
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

// revokingSource revokes every token of the account right after a
// successful introspection, so that the streams meet a 401.
type revokingSource struct {
	clientSource
	revoke func()
}

func (s revokingSource) Introspect(ctx context.Context) (events.Introspection, error) {
	in, err := s.clientSource.Introspect(ctx)
	if err == nil {
		s.revoke()
	}
	return in, err
}

// TestOnceStreamsRevokedToken: under Once, a token revoked after the
// introspection ends the run with one line for the source (not one per
// stream, nor retries forever).
func TestOnceStreamsRevokedToken(t *testing.T) {
	b := setup(t)
	appendEvents(t, b.srv, 10)
	so := b.source(t, b.srv.Token)
	so.Source = revokingSource{clientSource: so.Source.(clientSource), revoke: func() {
		toks, err := b.srv.Store.AccountTokens(context.Background(), b.srv.Account)
		if err != nil {
			t.Error(err)
			return
		}
		for _, tok := range toks {
			tok.RevokedAt = time.Now().UTC().Add(-time.Second)
			if err := b.srv.Store.UpdateToken(context.Background(), tok); err != nil {
				t.Error(err)
			}
		}
	}}
	f, err := forward.New(forward.Options{Sources: []forward.SourceOptions{so}, Sinks: []forward.Sink{b.fileSink(t)},
		StateDir: b.state, Once: true, PausedRetry: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	err = f.Run(ctx)
	if ctx.Err() != nil {
		t.Fatal("Run was still retrying after 20s")
	}
	var pe *forward.PermanentError
	if !errors.As(err, &pe) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "source demo: ") || !strings.Contains(err.Error(), "401") {
		t.Errorf("Run = %v, want one line: source demo: … 401 …", err)
	}
}
