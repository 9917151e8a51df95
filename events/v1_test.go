package events

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

// TestV1DropsExactlyTheV2Members pins the v1 renderings independently of
// the api:"v2" tags the generated V1 methods follow: with every member
// set, V1 leaves out these members (spec §6.6) and keeps all others.
func TestV1DropsExactlyTheV2Members(t *testing.T) {
	v2only := []string{"account_uuid", "actor_type", "actor_account_uuid", "user_type", "user_account_uuid"}
	for _, ev := range []any{&SignInAttempt{}, &ItemUsage{}, &AuditEvent{}} {
		n := 0
		every(reflect.ValueOf(ev).Elem(), &n)
		var v1 any
		switch e := ev.(type) {
		case *SignInAttempt:
			v1 = e.V1()
		case *ItemUsage:
			v1 = e.V1()
		case *AuditEvent:
			v1 = e.V1()
		}
		all, gone := keys(t, ev), keys(t, v1)
		for _, k := range all {
			if k.removed = !slices.ContainsFunc(gone, func(g key) bool { return g.path == k.path }); k.removed != slices.Contains(v2only, k.name) {
				t.Errorf("%T: V1 removed %s: %v, want %v", ev, k.path, k.removed, !k.removed)
			}
		}
		// V1 returns a copy: the event keeps its v2 members.
		if got := keys(t, ev); len(got) != len(all) {
			t.Errorf("%T: V1 changed the event: %d members, had %d", ev, len(got), len(all))
		}
	}
}

type key struct {
	path, name string
	removed    bool
}

// keys lists the members of ev's JSON, nested ones by their path.
func keys(t *testing.T, ev any) []key {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var out []key
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			out = append(out, key{path: prefix + k, name: k})
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
			}
		}
	}
	walk("", m)
	return out
}
