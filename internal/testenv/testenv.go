// Package testenv decides what a test does when a service it needs is
// missing: skip on a developer's machine, fail under CI=true.
package testenv

import (
	"os"
	"testing"
)

// CI reports whether the tests run in CI.
func CI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips t, or fails it when CI is set, because what is
// described is missing.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf("CI=true and "+format, args...)
	}
	t.Skipf(format, args...)
}
