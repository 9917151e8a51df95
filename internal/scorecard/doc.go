// Package scorecard keeps the connector scorecard: per-token aggregates of
// what a connector did with the Events API (events delivered and replayed,
// requests that spun after a drained reply, Retry-After honoured or not),
// counted in memory by a Tracker wrapped around the API handler and added
// to the store's counters periodically, where Report reads them back.
//
// The scorecard's definitions are in docs/sandbox.md; the sandbox's
// scenarios (internal/sandbox) are what usually exercise it.
package scorecard
