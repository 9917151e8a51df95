// Package sandbox makes Logbook a test bench for Events API connectors:
// scenarios (YAML scripts of steps, each a trigger and a verb) that add
// events or inject faults into the Events API through its Guard and
// Observe hooks and a ResponseWriter wrapper, and the connector scorecard,
// per-token aggregates of what a connector did (events delivered and
// replayed, spinning after drained replies, Retry-After honoured) kept in
// memory and added to the store's counters periodically.
//
// The schema and the scorecard's definitions are in docs/sandbox.md.
package sandbox
