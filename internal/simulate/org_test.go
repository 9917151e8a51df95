package simulate

import (
	"fmt"
	"testing"
	"time"
)

// TestLargeOrgUniqueEmails builds organisations larger than the number of
// first and last name pairs (60 × 50), which once looked for an unused
// address forever, and requires every person's address to be unique.
func TestLargeOrgUniqueEmails(t *testing.T) {
	t.Parallel()
	for _, users := range []int{2900, 3000, 3001, 7500, 20000} {
		t.Run(fmt.Sprint(users), func(t *testing.T) {
			t.Parallel()
			done := make(chan *Sim, 1)
			go func() { done <- New(Config{Seed: 5, Start: start, Users: users}) }()
			var s *Sim
			select {
			case s = <-done:
			case <-time.After(time.Minute): // a failure bound, not synchronisation
				t.Fatalf("New with %d users did not return within a minute", users)
			}
			checkUniqueEmails(t, s)
			if got := len(s.users); got < users {
				t.Errorf("%d users, want at least %d", got, users)
			}
		})
	}
}

// TestHiresPastNamePairs takes an organisation past the number of name
// pairs the way hires do (newHuman, then join), after an e-mail change
// took an alternative address, and requires addresses to stay unique.
func TestHiresPastNamePairs(t *testing.T) {
	t.Parallel()
	s := New(Config{Seed: 9, Start: start, Users: 2990})
	u := s.users[1]
	alt := u.first.ascii[:1] + u.last.ascii + "@" + s.domain
	delete(s.emails, u.email)
	s.emails[alt] = true
	u.rename(start, u.display, alt)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			s.join(s.newHuman())
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute): // a failure bound, not synchronisation
		t.Fatal("100 hires past 2,990 people did not finish within a minute")
	}
	checkUniqueEmails(t, s)
}

func checkUniqueEmails(t *testing.T, s *Sim) {
	t.Helper()
	seen := map[string]string{}
	for _, u := range s.users {
		if other, dup := seen[u.email]; dup {
			t.Fatalf("users %s and %s share the address %s", other, u.id, u.email)
		}
		seen[u.email] = u.id
		if u.kind == human && !s.emails[u.email] {
			t.Errorf("address %s of %s is not recorded as taken", u.email, u.id)
		}
	}
}
