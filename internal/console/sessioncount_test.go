package console

import (
	"testing"
	"time"
)

// TestSessionCount: the count is of sessions not expired, whether or not
// a sweep has dropped the expired ones yet.
func TestSessionCount(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ss := newSessions(func() time.Time { return now })
	if n := ss.count(); n != 0 {
		t.Fatalf("empty table: count = %d, want 0", n)
	}
	first := ss.create(&session{userUUID: "a"})
	now = now.Add(SessionIdle / 2)
	ss.create(&session{userUUID: "b"})
	second := ss.create(&session{userUUID: "c"})
	if n := ss.count(); n != 3 {
		t.Errorf("three sessions: count = %d, want 3", n)
	}
	ss.delete(second)
	now = now.Add(SessionIdle/2 + time.Second) // the first is idle too long
	if n := ss.count(); n != 1 {
		t.Errorf("one signed out, one expired: count = %d, want 1", n)
	}
	if _, ok := ss.get(first); ok {
		t.Error("the expired session is still served")
	}
}
