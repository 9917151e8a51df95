// Package sandbox makes Logbook a test bench for Events API connectors:
// scenarios (YAML scripts of steps, each a trigger and a verb) that add
// events or inject faults into the Events API through its Guard and
// Observe hooks and a ResponseWriter wrapper. The connector scorecard that
// grades what a connector did under them is its own package,
// internal/scorecard.
//
// The schema is in docs/sandbox.md.
package sandbox
