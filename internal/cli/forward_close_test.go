package cli_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/logbookhq/logbook/internal/cli"
	"github.com/logbookhq/logbook/internal/forward"
)

// closeRecorder is a sink that records whether it was closed, under the
// "close_recorder" type; each one registers itself by name in closers.
type closeRecorder struct {
	name   string
	mu     sync.Mutex
	closed int
}

func (s *closeRecorder) Name() string                               { return s.name }
func (s *closeRecorder) Write(context.Context, forward.Batch) error { return nil }
func (s *closeRecorder) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed++
	return nil
}

var (
	closersMu sync.Mutex
	closers   = map[string]*closeRecorder{}
)

// addCloseRecorder registers the "close_recorder" sink type for the test.
func addCloseRecorder(t *testing.T) {
	cli.AddSinkType(t, "close_recorder", func(cfg forward.SinkConfig) (forward.Sink, error) {
		var o struct {
			ID string `yaml:"id"`
		}
		if err := cfg.Decode(&o); err != nil {
			return nil, err
		}
		s := &closeRecorder{name: cfg.Name}
		closersMu.Lock()
		closers[o.ID] = s
		closersMu.Unlock()
		return s, nil
	})
}

// TestForwardClosesSinksOnStartFailure: whatever stops the forwarder
// before it runs (an unknown backfill source, a state directory it cannot
// use, a metrics address in use), it says why and closes every sink it
// opened.
func TestForwardClosesSinksOnStartFailure(t *testing.T) {
	addCloseRecorder(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name    string
		extra   string // prepended to the configuration
		prepare func(t *testing.T, dir string)
		args    []string
		wantErr string
	}{
		{name: "backfill-unknown-source", args: []string{"backfill", "--source", "nope", "--from", "2025-01-01T00:00:00Z"}, wantErr: `"nope"`},
		{name: "spool-unusable", prepare: func(t *testing.T, dir string) {
			// A file where the spools' directory must be: forward.New fails.
			if err := os.MkdirAll(filepath.Join(dir, "forward-state"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "forward-state", "spool"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, args: []string{"--once"}, wantErr: "spool"},
		{name: "metrics-address-in-use", extra: "metrics_listen: " + busy.Addr().String() + "\n", args: []string{"--once"}, wantErr: "metrics_listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setupForward(t)
			id := t.Name()
			doc, err := os.ReadFile(b.cfg)
			if err != nil {
				t.Fatal(err)
			}
			d := tt.extra + string(doc) + "  - name: recorder\n    type: close_recorder\n    id: " + id + "\n"
			if err := os.WriteFile(b.cfg, []byte(d), 0o600); err != nil {
				t.Fatal(err)
			}
			if tt.prepare != nil {
				tt.prepare(t, b.dir)
			}
			args := append([]string{"forward"}, tt.args...)
			if tt.args[0] == "backfill" {
				args = append([]string{"forward", "backfill", "--config", b.cfg}, tt.args[1:]...)
			} else {
				args = append(args, "--config", b.cfg)
			}
			_, _, err = b.run(t, nil, args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("forward = %v, want an error containing %q", err, tt.wantErr)
			}
			closersMu.Lock()
			s := closers[id]
			closersMu.Unlock()
			if s == nil {
				t.Fatal("the recording sink was never opened")
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.closed != 1 {
				t.Errorf("the sink was closed %d times, want once", s.closed)
			}
		})
	}
}
