package sqlite_test

import (
	"testing"

	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/storetest"
)

// BenchmarkAppend: 1,000-event batches, de-duplication on, synchronous=FULL.
func BenchmarkAppend(b *testing.B) {
	storetest.BenchAppend(b, func(b *testing.B) store.Store { return openTemp(b) })
}

// BenchmarkList: 1,000-row pages from a stream of 100,000 events.
func BenchmarkList(b *testing.B) {
	storetest.BenchList(b, func(b *testing.B) store.Store { return openTemp(b) })
}
