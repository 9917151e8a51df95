package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/atomicfile"
)

// Verifier checks a page's events against the source's signed tree heads
// (source option verify: true, docs/forward.md). The forwarder calls it
// before it hands a page to any sink.
type Verifier interface {
	// Check returns nil when every item (its bytes as received) is proved
	// to be in the stream's tree under a signed head; an error wrapping
	// client.ErrNotCovered when an item came after the newest signed head
	// (checked again later); one wrapping client.ErrMismatch when a check
	// failed. Any other error is retried with backoff.
	Check(ctx context.Context, feature events.Feature, items []json.RawMessage) error
}

// NewWitnessVerifier is the Verifier of a source read with the public
// client: a client.Witness with the server's tree keys, which keeps the
// newest head it accepted per stream and requires each next one to extend
// it. c returns the source's current client (its token may be replaced).
// New keeps the accepted heads in the state directory
// (heads/<source>.json), so that they hold across restarts.
func NewWitnessVerifier(keys client.TreeKeys, c func() *client.Client) Verifier {
	return &witnessVerifier{keys: keys, c: c, w: client.NewWitness(keys)}
}

type witnessVerifier struct {
	keys client.TreeKeys
	c    func() *client.Client
	w    *client.Witness

	mu    sync.Mutex
	file  string // where the heads are kept; "" keeps none
	saved []byte // what file holds
}

// open reads the heads kept in file, each checked again with the tree
// keys, and keeps the heads accepted there from now on.
func (v *witnessVerifier) open(file string) error {
	data, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var heads []client.SignedHead
	if err == nil {
		var jws []string
		if err := json.Unmarshal(data, &jws); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		for _, j := range jws {
			h, err := client.VerifyHead(j, v.keys)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			heads = append(heads, h)
		}
	}
	v.w = client.NewWitness(v.keys, heads...)
	v.file, v.saved = file, data
	return nil
}

func (v *witnessVerifier) Check(ctx context.Context, feature events.Feature, items []json.RawMessage) error {
	if err := v.w.CheckEvents(ctx, v.c(), feature, items); err != nil {
		return err
	}
	return v.save()
}

// save writes the heads accepted (their JWS, by stream) when they changed.
func (v *witnessVerifier) save() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.file == "" {
		return nil
	}
	heads := v.w.Heads()
	slices.SortFunc(heads, func(a, b client.SignedHead) int { return strings.Compare(string(a.Feature), string(b.Feature)) })
	jws := make([]string, len(heads))
	for i, h := range heads {
		jws[i] = h.JWS
	}
	data, err := json.Marshal(jws)
	if err != nil || bytes.Equal(data, v.saved) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(v.file), 0o700); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(v.file, data, 0o600); err != nil {
		return fmt.Errorf("keep tree heads: %w", err)
	}
	v.saved = data
	return nil
}

// verify checks a page with the source's Verifier before it is delivered:
// it waits (a poll interval at a time) while the page holds events the
// newest signed head does not cover yet, retries other failures with
// backoff, and returns a *PermanentError when a check fails, which stops
// the source without delivering the page or advancing its cursor.
func (s *stream) verify(ctx context.Context, p fetched) error {
	if s.so.Verify == nil || len(p.page.Items) == 0 {
		return nil
	}
	waiting := false
	// A backoff of its own: the fetch loop, another goroutine, uses s.backoff.
	backoff := Backoff{Initial: s.backoff.Initial, Max: s.backoff.Max}
	for {
		if err := s.budget.Wait(ctx); err != nil {
			return err
		}
		err := s.so.Verify.Check(ctx, s.feature, p.page.Items)
		var wait time.Duration
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, client.ErrMismatch):
			s.log.Error("integrity check failed; source stopped before delivering the page, its cursor not advanced", "err", err)
			return &PermanentError{Source: s.so.Name, Feature: s.feature, Err: err,
				Problem: err.Error(), // "integrity check failed: …"
				Fix:     "the events received are not those the server signed: run logbook verify on the server; restart the forwarder to check again"}
		case errors.Is(err, client.ErrNotCovered):
			if !waiting {
				s.log.Info("waiting for a signed tree head that covers the page", "err", err, "check_every", s.so.PollInterval)
			}
			waiting = true
			wait = s.so.PollInterval
		default:
			wait = backoff.Next(0)
			s.log.Warn("integrity check", "err", err, "retry_in", wait.Round(time.Millisecond))
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}
