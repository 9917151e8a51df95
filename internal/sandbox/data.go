package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/simulate"
)

var errEnough = errors.New("enough")

// generate makes the events of a data verb with the simulator: d.Events
// events of d.Kind (or any kind) whose timestamps lie in
// [now-age-spread, now-age], for account. Deterministic for a seed and now.
func generate(verb string, d *Data, account string, now time.Time) ([]events.Wire, error) {
	end := now.Add(-d.age)
	spread := d.spread
	// About 18 events per person per working day at intensity 1; audit
	// events do not grow with intensity, so when one organisation's
	// activity falls short, more organisations (further seeds) are
	// simulated over the same span.
	intensity := min(max(1, float64(d.Events)*3/(200*18*max(spread.Hours()/24, 1.0/24))), 50)
	var out []events.Wire
	for round := int64(0); len(out) < d.Events && round < 200; round++ {
		sim := simulate.New(simulate.Config{Seed: d.Seed + round*7919, Start: end.Add(-spread), AccountUUID: account, Users: 200, Intensity: intensity})
		err := sim.Run(end, func(it simulate.Item) error {
			if d.kind != "" && it.Feature != d.kind {
				return nil
			}
			if it.Time().Before(end.Add(-spread)) || it.Time().After(end) {
				return nil
			}
			if verb == "unicode" {
				stretch(it.Event)
			}
			w, err := events.Encode(it.Event)
			if err != nil {
				return err
			}
			out = append(out, w)
			if len(out) == d.Events {
				return errEnough
			}
			return nil
		})
		if err != nil && !errors.Is(err, errEnough) {
			return nil, err
		}
	}
	if len(out) < d.Events {
		return nil, fmt.Errorf("the simulator made only %d events in %s; widen spread", len(out), spread)
	}
	if verb == "unicode" {
		// What the sandbox serves must pass the sandbox's own ingestion.
		var buf bytes.Buffer
		for _, w := range out {
			buf.WriteString(`{"kind":"` + string(w.Feature) + `","event":`)
			buf.Write(w.V2)
			buf.WriteString("}\n")
		}
		if _, errs := ingest.DecodeAll(&buf, ""); len(errs) > 0 {
			return nil, fmt.Errorf("unicode events fail validation: %v", errs[0])
		}
	}
	return out, nil
}

// unicodeSample mixes scripts, combining marks, right-to-left text and
// emoji sequences (several code points each).
const unicodeSample = "Zoë Ångström 日本語のテキスト עברית العربية Ωμέγα 🔐👩‍💻🏳️‍🌈 e\u0301 \u200d ﷽ "

// maxText returns a string of exactly n bytes of mixed Unicode, ending
// with prefix-safe ASCII padding.
func maxText(prefix string, n int) string {
	var b strings.Builder
	b.WriteString(prefix)
	for b.Len() < n {
		for _, r := range unicodeSample {
			if b.Len()+utf8.RuneLen(r) > n {
				break
			}
			b.WriteRune(r)
		}
		if rest := n - b.Len(); rest < 4 {
			b.WriteString(strings.Repeat(".", rest))
		}
	}
	return b.String()
}

func maxEmail(n int) string {
	const domain = "@例え.example"
	return maxText("ü", n-len(domain)) + domain
}

// stretch fills an event's free-text fields to ingest.MaxFieldLen bytes of
// Unicode.
func stretch(ev any) {
	n := ingest.MaxFieldLen
	user := func(u *events.User) {
		if u != nil {
			u.Name, u.Email = maxText("", n), maxEmail(n)
		}
	}
	client := func(c *events.Client) {
		c.AppName, c.PlatformName, c.OSName = maxText("1Password ", n), maxText("", n), maxText("", n)
	}
	loc := func(l *events.Location) {
		if l != nil {
			l.City, l.Region = maxText("", n), maxText("", n)
		}
	}
	switch e := ev.(type) {
	case *events.SignInAttempt:
		user(&e.TargetUser)
		client(&e.Client)
		loc(e.Location)
		if e.Details != nil {
			e.Details.Value = maxText("", n)
		}
	case *events.ItemUsage:
		user(&e.User)
		client(&e.Client)
		loc(e.Location)
	case *events.AuditEvent:
		user(e.ActorDetails)
		user(e.ObjectDetails)
		user(e.AuxDetails)
		e.AuxInfo = maxText("", n)
		loc(e.Location)
	}
}
