package forward

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/atomicfile"
)

// State is the saved position of one stream.
type State struct {
	Source  string         `json:"source"`
	Feature events.Feature `json:"feature"`
	// Cursor continues the stream. Empty means "reset from StartTime".
	Cursor string `json:"cursor,omitempty"`
	// StartTime is where a reset begins when Cursor is empty (set by
	// "cursor rewind" and by the first run).
	StartTime *time.Time `json:"start_time,omitempty"`
	// EndTime bounds a backfill; live streams have none.
	EndTime *time.Time `json:"end_time,omitempty"`
	// Saved is when the state was written.
	Saved time.Time `json:"saved"`
	// Newest is the timestamp of the newest event confirmed so far.
	Newest time.Time `json:"newest,omitzero"`
	// Events counts the events confirmed on this state.
	Events int64 `json:"events"`
}

// Checkpoint keeps stream states. Implementations must make Save durable
// before returning: after a crash, Load returns the last saved state.
type Checkpoint interface {
	// Load returns the saved state, or ok=false when the stream has none.
	Load(source string, feature events.Feature) (st State, ok bool, err error)
	// Save replaces the stream's state durably.
	Save(st State) error
}

// DirCheckpoint keeps one JSON file per stream in a directory, each written
// with temp, fsync, rename, fsync of the directory.
type DirCheckpoint struct {
	Dir string
}

var _ Checkpoint = (*DirCheckpoint)(nil)

func (d *DirCheckpoint) file(source string, feature events.Feature) string {
	return filepath.Join(d.Dir, source+"."+string(feature)+".json")
}

// Load implements Checkpoint.
func (d *DirCheckpoint) Load(source string, feature events.Feature) (State, bool, error) {
	b, err := os.ReadFile(d.file(source, feature))
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, fmt.Errorf("load cursor: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, false, fmt.Errorf("load cursor %s: %w", d.file(source, feature), err)
	}
	return st, true, nil
}

// Save implements Checkpoint.
func (d *DirCheckpoint) Save(st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(d.file(st.Source, st.Feature), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	return nil
}

// All returns every saved state, sorted by source and feature.
func (d *DirCheckpoint) All() ([]State, error) {
	names, err := filepath.Glob(filepath.Join(d.Dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []State
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var st State
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Source != out[j].Source {
			return out[i].Source < out[j].Source
		}
		return out[i].Feature < out[j].Feature
	})
	return out, nil
}
