package api_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/servertest"
	"github.com/logbookhq/logbook/internal/simulate"
)

// The audit enumerations of the published v1 schema: 1Password's OpenAPI
// 1.2.0 (components.schemas.AuditEventActions and AuditEventObjectTypes),
// transcribed.
var (
	v1AuditActions = set("activate", "update", "delete", "convert", "enblduo", "updatduo", "disblduo", "rdmchild",
		"detchild", "dlgsess", "create", "deolddev", "dealldev", "reauth", "begin", "complete", "propose", "updatfw",
		"join", "leave", "role", "purge", "view", "export", "replace", "grant", "revoke", "share", "delshare", "uisas",
		"enblmfa", "updatmfa", "disblmfa", "musercom", "muserdec", "sendpkg", "resendts", "prsndall", "trename",
		"tverify", "trevoke", "ssotknv", "enblsso", "disblsso", "chngpsso", "chngasso", "chngdsso", "delgsso",
		"addgsso", "cancel", "hide", "unhide", "upguest", "verify", "reactive", "suspend", "beginr", "provsn", "sendts",
		"unknown", "completr", "cancelr", "trvlaway", "trvlback", "changeks", "changemp", "changesk", "changenm",
		"changela", "tdvcsso", "sdvcsso", "patch", "updatea", "vrfydmn", "uvrfydmn", "dvrfydmn")
	v1AuditObjectTypes = set("account", "user", "device", "group", "gm", "vault", "item", "items", "itemhist",
		"vaultkey", "template", "uva", "gva", "invite", "ec", "miguser", "sso", "sub", "card", "pm", "slackapp", "file",
		"famchild", "sa", "satoken", "dlgdsess", "ssotkn", "report")
	// v1Exceptions are values v1 serves although 1.2.0 does not list them,
	// on purpose: object type "unknown" comes only with action "unknown",
	// which 1.2.0 lists, and 1Password's catalog has the pair as "Unknown
	// Events"; any consumer must take an unknown event as one.
	v1Exceptions = set("object_type unknown")
)

func set(vs ...string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

type auditFields struct {
	UUID       string `json:"uuid"`
	Action     string `json:"action"`
	ObjectType string `json:"object_type"`
}

// readAll pages a stream from a reset to its end at limit and returns its
// events in order, failing on a duplicate or a page that breaks the
// envelope's rules.
func readAll(t *testing.T, srv *servertest.Server, path string, limit int) []auditFields {
	t.Helper()
	reset, _ := json.Marshal(map[string]any{"limit": limit, "start_time": "2020-01-01T00:00:00Z"})
	body := string(reset)
	var out []auditFields
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatalf("%s limit %d: no end after %d pages", path, limit, pages)
		}
		code, b := post(srv.Handler, path, srv.Token, body)
		if code != 200 {
			t.Fatalf("%s: status %d: %s", path, code, b)
		}
		var p envelope
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(p.Items) > limit {
			t.Fatalf("%s: %d items with limit %d", path, len(p.Items), limit)
		}
		for _, it := range p.Items {
			var a auditFields
			if err := json.Unmarshal(it, &a); err != nil {
				t.Fatal(err)
			}
			if seen[a.UUID] {
				t.Fatalf("%s limit %d: %s delivered twice", path, limit, a.UUID)
			}
			seen[a.UUID] = true
			out = append(out, a)
		}
		next := `{"cursor":"` + p.Cursor + `"}`
		if !p.HasMore {
			// has_more false: nothing more right now.
			if code, b := post(srv.Handler, path, srv.Token, next); code != 200 || string(b) != `{"cursor":"`+p.Cursor+`","has_more":false,"items":[]}` {
				t.Fatalf("%s limit %d: after has_more false: %d %s", path, limit, code, b)
			}
			return out
		}
		body = next
	}
}

// TestV1AuditEnumerations: /api/v1/auditevents serves only what the
// published v1 schema can name; the audit events whose action or object
// type came with v2 (expire, launchi, unlink, mngdacc) or after 1.2.0
// (cred) are v2's alone. v1 pages skip them without getting stuck or
// losing any other event (issue 12, item 2).
func TestV1AuditEnumerations(t *testing.T) {
	end := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	clock := &fixedClock{t: end}
	srv := servertest.Start(t, servertest.Options{Now: clock.Now})

	// Simulate until every pair of the catalog has happened at least once.
	want := 0
	for _, as := range events.AuditCatalog {
		want += len(as)
	}
	sim := simulate.New(simulate.Config{Seed: 12, Start: end.Add(-100 * 24 * time.Hour), AccountUUID: srv.Account, Users: 15})
	pairs := map[string]bool{}
	var audits []any
	for day := sim.Position(); len(pairs) < want; day = day.Add(24 * time.Hour) {
		if !day.Before(end) {
			t.Fatalf("the simulation made %d of %d audit pairs before the clock", len(pairs), want)
		}
		err := sim.Run(day.Add(24*time.Hour), func(it simulate.Item) error {
			if e, ok := it.Event.(*events.AuditEvent); ok {
				pairs[e.Action+"/"+e.ObjectType] = true
				audits = append(audits, e)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	srv.Append(t, audits...)

	v2 := readAll(t, srv, "/api/v2/auditevents", 1000)
	if len(v2) != len(audits) {
		t.Fatalf("v2 served %d audit events, want %d", len(v2), len(audits))
	}
	var wantV1 []string
	v2Only := map[string]int{}
	for _, e := range v2 {
		switch {
		case e.Action == "expire" || e.Action == "launchi" || e.Action == "unlink":
			v2Only["action "+e.Action]++
		case e.ObjectType == "mngdacc" || e.ObjectType == "cred":
			v2Only["object_type "+e.ObjectType]++
		default:
			wantV1 = append(wantV1, e.UUID)
		}
	}
	for _, v := range []string{"action expire", "action launchi", "action unlink", "object_type mngdacc", "object_type cred"} {
		if v2Only[v] == 0 {
			t.Errorf("the simulation made no event with %s; the test proves nothing about it", v)
		}
	}

	for _, limit := range []int{1000, 7, 1} {
		v1 := readAll(t, srv, "/api/v1/auditevents", limit)
		bad := map[string]int{}
		var got []string
		for _, e := range v1 {
			got = append(got, e.UUID)
			if !v1AuditActions[e.Action] && !v1Exceptions["action "+e.Action] {
				bad["action "+e.Action]++
			}
			if !v1AuditObjectTypes[e.ObjectType] && !v1Exceptions["object_type "+e.ObjectType] {
				bad["object_type "+e.ObjectType]++
			}
		}
		for v, n := range bad {
			t.Errorf("limit %d: v1 served %d events with %s, which the v1 schema lacks", limit, n, v)
		}
		if len(got) != len(wantV1) {
			t.Errorf("limit %d: v1 served %d events, want %d (v2's %d less %d v2-only)", limit, len(got), len(wantV1), len(v2), len(v2)-len(wantV1))
			continue
		}
		for i := range got {
			if got[i] != wantV1[i] {
				t.Errorf("limit %d: v1 event %d is %s, want %s (same order as v2)", limit, i, got[i], wantV1[i])
				break
			}
		}
	}
}
