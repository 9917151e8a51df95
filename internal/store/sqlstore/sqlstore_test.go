package sqlstore_test

import (
	"testing"

	"github.com/logbookhq/logbook/internal/store/sqlstore"
)

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`UPDATE t SET a = $1 WHERE id = $2 AND b < $1`, `UPDATE t SET a = ?1 WHERE id = ?2 AND b < ?1`},
		{`VALUES ($9, $10, $11)`, `VALUES (?9, ?10, ?11)`},
		{`SELECT '$' || $1`, `SELECT '$' || ?1`},
	} {
		for range 2 { // the second answer comes from the cache
			if got := sqlstore.Rebind(c.in); got != c.want {
				t.Errorf("Rebind(%q) = %q, want %q", c.in, got, c.want)
			}
		}
	}
}
