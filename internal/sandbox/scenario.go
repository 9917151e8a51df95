package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/logbookhq/logbook/events"
)

// Scenario is a script of what a connector must survive. See
// docs/sandbox.md for the schema and examples/scenarios for samples.
type Scenario struct {
	Name string `yaml:"name" json:"name,omitempty"`
	// Account names the account the scenario applies to; it is created,
	// empty, with an integration and a token, if it does not exist. Empty:
	// every account (data verbs then need one).
	Account string `yaml:"account" json:"account,omitempty"`
	Steps   []Step `yaml:"steps" json:"steps"`
}

// Step is one trigger and one verb.
type Step struct {
	// Triggers; none means "at once". after_requests: N fires on the
	// request after the first N; after_events: N once N events were
	// delivered; after: D on the first request D after the scenario began.
	AfterRequests *int64 `yaml:"after_requests" json:"after_requests,omitempty"`
	AfterEvents   *int64 `yaml:"after_events" json:"after_events,omitempty"`
	After         string `yaml:"after" json:"after,omitempty"`

	// Data verbs: append events to the account.
	Burst   *Data `yaml:"burst" json:"burst,omitempty"`
	Late    *Data `yaml:"late" json:"late,omitempty"`
	Unicode *Data `yaml:"unicode" json:"unicode,omitempty"`
	// RevokeToken revokes the token of the request that triggers it,
	// which is then answered 401.
	RevokeToken *struct{} `yaml:"revoke_token" json:"revoke_token,omitempty"`
	// Fault verbs: apply to the next Count requests (default 1).
	Status429 *Fault `yaml:"status_429" json:"status_429,omitempty"`
	Status500 *Fault `yaml:"status_500" json:"status_500,omitempty"`
	Slow      *Fault `yaml:"slow" json:"slow,omitempty"`
	Truncate  *Fault `yaml:"truncate" json:"truncate,omitempty"`

	after time.Duration
}

// Data describes events a data verb appends.
type Data struct {
	// Events is how many; required.
	Events int `yaml:"events" json:"events"`
	// Kind is signinattempts, itemusages or auditevents; empty: all three
	// as the simulator mixes them.
	Kind string `yaml:"kind" json:"kind,omitempty"`
	Seed int64  `yaml:"seed" json:"seed,omitempty"`
	// Age (late: required) is how far in the past the newest timestamp
	// is; Spread how far the timestamps spread before it (default 24h).
	Age    string `yaml:"age" json:"age,omitempty"`
	Spread string `yaml:"spread" json:"spread,omitempty"`

	kind        events.Feature
	age, spread time.Duration
}

// Fault describes an injected failure.
type Fault struct {
	Count int `yaml:"count" json:"count,omitempty"`
	// RetryAfter (status_429) is sent as Retry-After, rounded up to whole
	// seconds (default 1s).
	RetryAfter string `yaml:"retry_after" json:"retry_after,omitempty"`
	// Delay (slow) is how long the reply waits; required.
	Delay string `yaml:"delay" json:"delay,omitempty"`
	// Bytes (truncate) is how much of the body is sent before the
	// connection is cut (default 64).
	Bytes int `yaml:"bytes" json:"bytes,omitempty"`

	retryAfter, delay time.Duration
}

// MaxDataEvents bounds one data verb.
const MaxDataEvents = 1_000_000

// Parse reads and validates a scenario. Errors name the YAML path:
// "steps[2].status_429.count: must be at least 1".
func Parse(b []byte) (*Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("scenario: empty document")
		}
		return nil, fmt.Errorf("scenario: %v", err)
	}
	if err := sc.validate(); err != nil {
		return nil, err
	}
	return &sc, nil
}

// PathError is a validation error at a YAML path.
type PathError struct {
	Path, Reason string
}

func (e *PathError) Error() string { return e.Path + ": " + e.Reason }

func pathErr(path, format string, args ...any) error {
	return &PathError{Path: path, Reason: fmt.Sprintf(format, args...)}
}

func duration(path, v string, required bool) (time.Duration, error) {
	if v == "" {
		if required {
			return 0, pathErr(path, "is required (a duration such as 1.5s or 6h)")
		}
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, pathErr(path, "%q is not a duration such as 1.5s or 6h", v)
	}
	return d, nil
}

func (sc *Scenario) validate() error {
	sc.Account = strings.TrimSpace(sc.Account)
	if len(sc.Account) > 100 {
		return pathErr("account", "is longer than 100 characters")
	}
	if len(sc.Steps) == 0 {
		return pathErr("steps", "is required: at least one step")
	}
	for i := range sc.Steps {
		st := &sc.Steps[i]
		p := fmt.Sprintf("steps[%d]", i)
		triggers := 0
		if st.AfterRequests != nil {
			triggers++
			if *st.AfterRequests < 0 {
				return pathErr(p+".after_requests", "must not be negative")
			}
		}
		if st.AfterEvents != nil {
			triggers++
			if *st.AfterEvents < 0 {
				return pathErr(p+".after_events", "must not be negative")
			}
		}
		if st.After != "" {
			triggers++
			var err error
			if st.after, err = duration(p+".after", st.After, false); err != nil {
				return err
			}
		}
		if triggers > 1 {
			return pathErr(p, "has %d triggers; give at most one of after_requests, after_events, after", triggers)
		}
		verbs := []string{}
		for _, v := range st.verbs(sc.Account) {
			if !v.set {
				continue
			}
			verbs = append(verbs, v.name)
			if v.check == nil {
				continue
			}
			if err := v.check(p + "." + v.name); err != nil {
				return err
			}
		}
		switch len(verbs) {
		case 0:
			return pathErr(p, "has no verb; give one of burst, late, unicode, revoke_token, status_429, status_500, slow, truncate")
		case 1:
		default:
			return pathErr(p, "has %d verbs (%s); give one per step", len(verbs), strings.Join(verbs, ", "))
		}
	}
	return nil
}

// stepVerb is one verb a step may give: its name, whether the step gives
// it, and what checks it and fills in its defaults, given its YAML path
// (nil: nothing to check).
type stepVerb struct {
	name  string
	set   bool
	check func(path string) error
}

// verbs lists every verb in the order of docs/sandbox.md; account is the
// scenario's, which data verbs need.
func (st *Step) verbs(account string) []stepVerb {
	return []stepVerb{
		{"burst", st.Burst != nil, st.Burst.check(false, account)},
		{"late", st.Late != nil, st.Late.check(true, account)},
		{"unicode", st.Unicode != nil, st.Unicode.check(false, account)},
		{"revoke_token", st.RevokeToken != nil, nil},
		{"status_429", st.Status429 != nil, st.Status429.check(false)},
		{"status_500", st.Status500 != nil, st.Status500.check(false)},
		{"slow", st.Slow != nil, st.Slow.check(true)},
		{"truncate", st.Truncate != nil, st.Truncate.check(false)},
	}
}

// check returns the check of a data verb; late requires an age.
func (d *Data) check(late bool, account string) func(path string) error {
	return func(path string) error {
		if d.Events < 1 || d.Events > MaxDataEvents {
			return pathErr(path+".events", "must be between 1 and %d", MaxDataEvents)
		}
		if d.Kind != "" {
			f, err := events.ParseFeature(d.Kind)
			if err != nil {
				return pathErr(path+".kind", "%v", err)
			}
			d.kind = f
		}
		var err error
		if d.age, err = duration(path+".age", d.Age, late); err != nil {
			return err
		}
		if d.spread, err = duration(path+".spread", d.Spread, false); err != nil {
			return err
		}
		if d.spread == 0 {
			d.spread = 24 * time.Hour
		}
		if account == "" {
			return pathErr("account", "is required when a step adds events (%s)", path)
		}
		return nil
	}
}

// check returns the check of a fault verb; needDelay requires a delay.
func (f *Fault) check(needDelay bool) func(path string) error {
	return func(path string) error {
		if f.Count == 0 {
			f.Count = 1
		}
		if f.Count < 1 {
			return pathErr(path+".count", "must be at least 1")
		}
		var err error
		if f.retryAfter, err = duration(path+".retry_after", f.RetryAfter, false); err != nil {
			return err
		}
		if f.retryAfter == 0 {
			f.retryAfter = time.Second
		}
		if f.delay, err = duration(path+".delay", f.Delay, needDelay); err != nil {
			return err
		}
		if f.Bytes < 0 {
			return pathErr(path+".bytes", "must not be negative")
		}
		if f.Bytes == 0 {
			f.Bytes = 64
		}
		return nil
	}
}

// verb returns the step's verb name.
func (st *Step) verb() string {
	for _, v := range st.verbs("") {
		if v.set {
			return v.name
		}
	}
	return ""
}
