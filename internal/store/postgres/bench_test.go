package postgres_test

import (
	"testing"

	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/store/storetest"
	"github.com/logbookhq/logbook/internal/testenv"
)

// BenchmarkAppend: 1,000-event batches, de-duplication on, synchronous_commit
// on, over a fresh schema.
func BenchmarkAppend(b *testing.B) {
	storetest.BenchAppend(b, func(b *testing.B) store.Store { return open(b, testenv.PostgresSchema(b), postgres.Options{}) })
}

// BenchmarkAppendParallel: BenchmarkAppend's new events from 2 writers
// at once on one stream.
func BenchmarkAppendParallel(b *testing.B) {
	storetest.BenchAppendParallel(b, func(b *testing.B) store.Store { return open(b, testenv.PostgresSchema(b), postgres.Options{}) }, 2)
}

// BenchmarkList: 1,000-row pages from a stream of 100,000 events.
func BenchmarkList(b *testing.B) {
	storetest.BenchList(b, func(b *testing.B) store.Store { return open(b, testenv.PostgresSchema(b), postgres.Options{}) })
}
