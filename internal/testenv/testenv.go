// Package testenv decides what a test does when a service or program it
// needs is missing: skip on a developer's machine, fail under CI=true. It
// also finds the services: the LOGBOOK_TEST_* variables when they are set,
// otherwise the usual local address of each when something answers there,
// so that a developer with PostgreSQL on 5432 runs the PostgreSQL tests
// without setting anything.
//
// A skip is easy to miss: go test ./... shows a passing package's output
// only with -v. So each distinct reason a package skips is also written as
// one line, "SKIPPED <package>: <reason>", where go test ./... shows it
// (see report).
//
// It also gives tests their time: Clock, a time source the test moves.
package testenv

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"
)

// CI reports whether the tests run in CI.
func CI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips t, or fails it when CI is set, because what is
// described is missing. Outside CI the reason is also reported once per
// package and reason, where go test ./... shows it.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf("CI=true and "+format, args...)
	}
	msg := fmt.Sprintf(format, args...)
	report(msg)
	t.Skip(msg)
}

// The services' default addresses, which .ci/run also uses.
const (
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
	DefaultNATSURL     = "nats://127.0.0.1:4222"
)

// Off, as the value of a LOGBOOK_TEST_* variable, skips the tests of that
// service even when it answers at its default address.
const Off = "off"

// A service is one the tests talk to over the network.
type service struct {
	name string // for messages: "PostgreSQL"
	env  string // variable naming it: LOGBOOK_TEST_POSTGRES_URL
	def  string // URL used when env is unset and its host answers

	probe func() error // dials def's host once
}

func newService(name, env, def string) *service {
	s := &service{name: name, env: env, def: def}
	s.probe = sync.OnceValue(func() error { return dial(def) })
	return s
}

var (
	postgres = newService("PostgreSQL", "LOGBOOK_TEST_POSTGRES_URL", DefaultPostgresURL)
	redis    = newService("Redis", "LOGBOOK_TEST_REDIS_URL", DefaultRedisURL)
	nats     = newService("NATS", "LOGBOOK_TEST_NATS_URL", DefaultNATSURL)
)

// PostgresURL returns the PostgreSQL database tests create their schemas
// in (each test its own schema, dropped when it ends): the value of
// LOGBOOK_TEST_POSTGRES_URL, or DefaultPostgresURL when the variable is
// unset and something answers on 127.0.0.1:5432. Otherwise, or when the
// variable is "off", t is skipped (failed under CI).
func PostgresURL(t testing.TB) string { t.Helper(); return postgres.url(t) }

// RedisURL is PostgresURL for Redis: LOGBOOK_TEST_REDIS_URL, or
// DefaultRedisURL when something answers on 127.0.0.1:6379. Tests write
// only keys of their own, which expire.
func RedisURL(t testing.TB) string { t.Helper(); return redis.url(t) }

// NATSURL is PostgresURL for a NATS server with JetStream:
// LOGBOOK_TEST_NATS_URL, or DefaultNATSURL when something answers on
// 127.0.0.1:4222. Tests make streams of their own and delete them.
func NATSURL(t testing.TB) string { t.Helper(); return nats.url(t) }

func (s *service) url(t testing.TB) string {
	t.Helper()
	switch v := os.Getenv(s.env); v {
	case Off:
		Unavailable(t, "%s tests are off (%s=%s)", s.name, s.env, Off)
	case "":
		if err := s.probe(); err != nil {
			Unavailable(t, "no %s: %s is unset and %v (set %s to run)", s.name, s.env, err, s.env)
		}
		return s.def
	default:
		return v
	}
	return ""
}

// dialTimeout bounds the look for a local service; a local one answers in
// well under a millisecond.
const dialTimeout = 300 * time.Millisecond

// dial reports whether something accepts TCP connections at the host and
// port of rawURL.
func dial(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	c, err := net.DialTimeout("tcp", u.Host, dialTimeout)
	if err != nil {
		return fmt.Errorf("nothing answers at %s", u.Host)
	}
	return c.Close()
}
