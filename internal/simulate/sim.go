package simulate

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/logbookhq/logbook/events"
)

// Config describes the organisation to simulate. Zero values are defaults.
type Config struct {
	// Seed selects the organisation and its activity.
	Seed int64
	// Start is the time the simulation begins; no event is earlier.
	Start time.Time
	// AccountUUID is the account every audit event names. Default: an
	// identifier derived from Seed.
	AccountUUID string
	// Users is the number of people in the account (default 40), beside
	// two service accounts and the SCIM bridge's provision manager.
	Users int
	// Domain is the e-mail domain. Default: a fictitious company's, picked
	// by Seed.
	Domain string
	// Intensity scales how often people sign in and use items (default 1).
	// About 1.0 gives 18 events per person per working day.
	Intensity float64
}

// Item is one generated event.
type Item struct {
	Feature events.Feature
	// Arrival is when the event reaches the server: its timestamp plus the
	// delay with which the client reported it. Items are emitted in
	// Arrival order.
	Arrival time.Time
	// Event is a *events.SignInAttempt, *events.ItemUsage or
	// *events.AuditEvent. It belongs to the receiver once emitted.
	Event any
}

// Time returns the event's own timestamp.
func (it Item) Time() time.Time {
	switch e := it.Event.(type) {
	case *events.SignInAttempt:
		return e.Timestamp
	case *events.ItemUsage:
		return e.Timestamp
	case *events.AuditEvent:
		return e.Timestamp
	}
	return time.Time{}
}

// Sim is a running simulation. It is not safe for concurrent use.
type Sim struct {
	cfg Config
	r   *rng
	gen time.Time // events with a timestamp before gen have been generated

	pending []*pending
	seq     uint64

	company, domain string
	emails          map[string]bool
	emailBuf        []byte // newHuman's candidate addresses
	locs            []*city
	locCache        map[*city]*events.Location
	users           []*user
	groups          []*group
	vaults          []*vault
	scim            *user

	rotation   []pair // every audit (object, action) pair in a seeded order
	rotNext    int
	adminQueue []pair
	typeNext   map[string]int // round-robin over the types of a sign-in category
	vaultBuf   []*vault
	acts       []act
	adminActs  int
}

type pair struct{ obj, action string }

type pending struct {
	Item
	seq       uint64
	cancelled bool
	// who the event is about, for hydration and cancellation
	users [4]*user
	vault *vault
}

// New builds the organisation described by cfg. It emits nothing until Run.
func New(cfg Config) *Sim {
	if cfg.Users <= 0 {
		cfg.Users = 40
	}
	if cfg.Intensity <= 0 {
		cfg.Intensity = 1
	}
	cfg.Start = cfg.Start.UTC()
	s := &Sim{cfg: cfg, r: newRNG(cfg.Seed), gen: cfg.Start, emails: map[string]bool{}, typeNext: map[string]int{}}
	if s.cfg.AccountUUID == "" {
		s.cfg.AccountUUID = s.r.id()
	}
	s.buildOrg()
	objs := make([]string, 0, len(events.AuditCatalog))
	for o := range events.AuditCatalog {
		objs = append(objs, o)
	}
	sort.Strings(objs)
	for _, o := range objs {
		for _, a := range events.AuditCatalog[o] {
			s.rotation = append(s.rotation, pair{o, a})
		}
	}
	s.r.shuffle(len(s.rotation), func(i, j int) { s.rotation[i], s.rotation[j] = s.rotation[j], s.rotation[i] })
	// The organisation is the seed's alone; its activity, event UUIDs
	// included, also depends on Start. Two runs of one seed from different
	// starts (a backfill repeated an hour later, a second --live) then make
	// events under UUIDs of their own instead of reusing the first run's
	// UUIDs at other times, which the store refuses as conflicting events.
	s.r = newRNG(cfg.Seed ^ int64(hash("start "+cfg.Start.Format(time.RFC3339Nano))))
	return s
}

// AccountUUID returns the account the events belong to.
func (s *Sim) AccountUUID() string { return s.cfg.AccountUUID }

// Position returns the time up to which Run has generated activity.
func (s *Sim) Position() time.Time { return s.gen }

// Run generates activity up to to and emits, in Arrival order, every event
// that arrives before to and was not emitted by an earlier call. Events
// generated but arriving later are kept for the next call, so Run(a) then
// Run(b) emits exactly what Run(b) alone would. An error from emit stops
// the run and is returned; the item that failed is not emitted again.
func (s *Sim) Run(to time.Time, emit func(Item) error) error {
	to = to.UTC()
	for !s.gen.After(to) {
		end := s.gen.Truncate(time.Hour).Add(time.Hour)
		s.step(s.gen, end)
		s.gen = end
	}
	for len(s.pending) > 0 && s.pending[0].Arrival.Before(to) {
		p := s.pop()
		if p.cancelled {
			continue
		}
		if err := emit(p.Item); err != nil {
			return fmt.Errorf("emit %s: %w", p.Feature, err)
		}
	}
	return nil
}

// push queues an event that happened at t and arrives after late.
func (s *Sim) push(f events.Feature, t time.Time, late time.Duration, ev any, v *vault, us ...*user) *pending {
	s.seq++
	p := &pending{Item: Item{Feature: f, Arrival: t.Add(late), Event: ev}, seq: s.seq, vault: v}
	copy(p.users[:], us)
	for _, u := range us {
		if u != nil && t.After(u.lastRef) {
			u.lastRef = t
		}
	}
	if v != nil && t.After(v.lastUse) {
		v.lastUse = t
	}
	s.pending = append(s.pending, p)
	s.up(len(s.pending) - 1)
	return p
}

func (p *pending) less(q *pending) bool {
	if !p.Arrival.Equal(q.Arrival) {
		return p.Arrival.Before(q.Arrival)
	}
	return p.seq < q.seq
}

func (s *Sim) up(i int) {
	h := s.pending
	for i > 0 {
		parent := (i - 1) / 2
		if !h[i].less(h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (s *Sim) pop() *pending {
	h := s.pending
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = nil
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h[r].less(h[l]) {
			m = r
		}
		if !h[m].less(h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	s.pending = h
	return top
}

// errEnough stops Run once Sample has what it needs.
var errEnough = errors.New("enough events")

// Sample runs the simulator up to to and returns the v2 JSON of the first
// n events of feature f, in arrival order: realistic input for ingestion
// and fixtures. It returns fewer, and an error saying so, when the
// simulated activity holds fewer than n.
func (s *Sim) Sample(to time.Time, f events.Feature, n int) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, n)
	err := s.Run(to, func(it Item) error {
		if it.Feature != f {
			return nil
		}
		w, err := events.Encode(it.Event)
		if err != nil {
			return err
		}
		out = append(out, w.V2)
		if len(out) == n {
			return errEnough
		}
		return nil
	})
	if len(out) == n {
		return out, nil
	}
	if err == nil {
		err = fmt.Errorf("the simulation up to %s holds %d %s events, not %d", to.Format(time.RFC3339), len(out), f, n)
	}
	return out, err
}
