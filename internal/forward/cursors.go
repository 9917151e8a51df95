package forward

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/logbookhq/logbook/events"
)

// Cursors returns the checkpoint of a forwarder whose state directory is
// stateDir: one file per stream under stateDir/cursors.
func Cursors(stateDir string) *DirCheckpoint {
	return &DirCheckpoint{Dir: filepath.Join(stateDir, "cursors")}
}

// RewindStates returns a state restarting from t for every stream of cfg's
// sources: each source and each feature, or only the source and feature
// named when not empty. It is empty when nothing matches.
func RewindStates(cfg *Config, source, feature string, t time.Time) []State {
	var states []State
	for _, sc := range cfg.Sources {
		if source != "" && sc.Name != source {
			continue
		}
		for _, ft := range events.AllFeatures {
			if feature != "" && string(ft) != feature {
				continue
			}
			states = append(states, State{Source: sc.Name, Feature: ft, StartTime: &t})
		}
	}
	return states
}

// ErrInvalidState is a state without a source or with an unknown feature.
var ErrInvalidState = errors.New("invalid state")

// ReplaceStates saves states over the cursors of the forwarder whose state
// directory is stateDir; the caller holds its lock (LockState), so that no
// forwarder runs meanwhile. Each state's Saved is set to now() as it is
// saved, and saved is called after each. A state without a source or with
// an unknown feature stops it with an error wrapping ErrInvalidState; the
// states before it stay saved.
func ReplaceStates(stateDir string, states []State, now func() time.Time, saved func(State)) error {
	cp := Cursors(stateDir)
	for _, st := range states {
		if !st.Feature.Valid() || st.Source == "" {
			return fmt.Errorf("%w for source %q feature %q", ErrInvalidState, st.Source, st.Feature)
		}
		st.Saved = now().UTC()
		if err := cp.Save(st); err != nil {
			return err
		}
		saved(st)
	}
	return nil
}
