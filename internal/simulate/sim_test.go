package simulate

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/logbookhq/logbook/events"
)

var start = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday

// snapshot is the organisation as it was before the run, which no event
// describes: the test replays audit events on top of it.
type snapshot struct {
	userVaults  map[string]map[string]bool // user -> vault
	members     map[string]map[string]bool // group -> user
	groupVaults map[string]map[string]bool // group -> vault
	shared      map[string]bool            // vault -> shared
	items       map[string]map[string]bool // vault -> item
	active      map[string]bool
}

func takeSnapshot(s *Sim) snapshot {
	sn := snapshot{
		userVaults: map[string]map[string]bool{}, members: map[string]map[string]bool{},
		groupVaults: map[string]map[string]bool{}, shared: map[string]bool{},
		items: map[string]map[string]bool{}, active: map[string]bool{},
	}
	for _, u := range s.users {
		sn.active[u.id] = u.state == active
		sn.userVaults[u.id] = map[string]bool{}
		for _, v := range u.vaults {
			sn.userVaults[u.id][v.id] = true
		}
	}
	for _, g := range s.groups {
		sn.members[g.id], sn.groupVaults[g.id] = map[string]bool{}, map[string]bool{}
		for _, u := range g.members {
			sn.members[g.id][u.id] = true
		}
		for _, v := range g.vaults {
			sn.groupVaults[g.id][v.id] = true
		}
	}
	for _, v := range s.vaults {
		sn.shared[v.id] = v.shared
		sn.items[v.id] = map[string]bool{}
		for _, it := range v.items {
			sn.items[v.id][it.id] = true
		}
	}
	return sn
}

type run struct {
	sim   *Sim
	snap  snapshot
	items []Item
	wires []events.Wire
	to    time.Time
}

func simulate(tb testing.TB, cfg Config, d time.Duration) *run {
	tb.Helper()
	s := New(cfg)
	r := &run{sim: s, snap: takeSnapshot(s), to: cfg.Start.Add(d)}
	err := s.Run(r.to, func(it Item) error {
		w, err := events.Encode(it.Event)
		if err != nil {
			return err
		}
		r.items = append(r.items, it)
		r.wires = append(r.wires, w)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

var (
	longOnce sync.Once
	longRun  *run
)

// sixtyDays is one 60-day run shared by the tests that only read it.
func sixtyDays(t *testing.T) *run {
	longOnce.Do(func() { longRun = simulate(t, Config{Seed: 7, Start: start}, 60*24*time.Hour) })
	if longRun == nil {
		t.Fatal("the 60-day run failed")
	}
	return longRun
}

func joined(ws []events.Wire) []byte {
	var b bytes.Buffer
	for _, w := range ws {
		b.Write(w.V2)
		b.WriteByte('\n')
		b.Write(w.V1)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	cfg := Config{Seed: 42, Start: start.Add(17*time.Minute + 3*time.Second), Users: 30}
	a := simulate(t, cfg, 5*24*time.Hour)
	b := simulate(t, cfg, 5*24*time.Hour)
	if len(a.wires) < 1000 {
		t.Fatalf("5 days gave %d events, want at least 1000", len(a.wires))
	}
	if !bytes.Equal(joined(a.wires), joined(b.wires)) {
		t.Fatal("two runs with the same seed and start differ")
	}

	// Run in uneven steps: the same events, in the same order.
	s := New(cfg)
	var stepped []events.Wire
	emit := func(it Item) error {
		w, err := events.Encode(it.Event)
		stepped = append(stepped, w)
		return err
	}
	for at := cfg.Start; at.Before(a.to); at = at.Add(37*time.Minute + 11*time.Second) {
		if err := s.Run(at, emit); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Run(a.to, emit); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(joined(a.wires), joined(stepped)) {
		t.Fatalf("stepped run differs: %d events, want %d", len(stepped), len(a.wires))
	}

	cfg.Seed = 43
	c := simulate(t, cfg, 5*24*time.Hour)
	if bytes.Equal(joined(a.wires), joined(c.wires)) {
		t.Fatal("seeds 42 and 43 give the same events")
	}
	if a.wires[0].UUID == c.wires[0].UUID {
		t.Errorf("seeds 42 and 43 share the first event UUID %s", a.wires[0].UUID)
	}
}

func TestEveryValueReachable(t *testing.T) {
	r := sixtyDays(t)
	seen := map[string]bool{}
	for _, it := range r.items {
		switch e := it.Event.(type) {
		case *events.SignInAttempt:
			seen["category "+e.Category] = true
			seen["type "+e.Type] = true
			seen["pair "+e.Category+"/"+e.Type] = true
		case *events.ItemUsage:
			seen["action "+e.Action] = true
		case *events.AuditEvent:
			seen["audit "+e.Action+"/"+e.ObjectType] = true
		}
	}
	var want []string
	for _, c := range events.SignInCategories {
		want = append(want, "category "+c)
		for _, typ := range events.SignInTypesByCategory[c] {
			want = append(want, "pair "+c+"/"+typ)
		}
	}
	for _, typ := range events.SignInTypes {
		want = append(want, "type "+typ)
	}
	for _, a := range events.ItemUsageActions {
		want = append(want, "action "+a)
	}
	for o, as := range events.AuditCatalog {
		for _, a := range as {
			want = append(want, "audit "+a+"/"+o)
		}
	}
	sort.Strings(want)
	var missing []string
	for _, w := range want {
		if !seen[w] {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		t.Errorf("not generated in 60 days (%d of %d):\n%s", len(missing), len(want), strings.Join(missing, "\n"))
	}
}

// byTime returns the events in timestamp order (emission order breaks ties).
func (r *run) byTime() []Item {
	s := append([]Item(nil), r.items...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Time().Before(s[j].Time()) })
	return s
}

func TestSessionsJoinSignIns(t *testing.T) {
	r := sixtyDays(t)
	type opened struct {
		login time.Time
		user  string
	}
	sessions := map[string]opened{}
	audits := 0
	for _, it := range r.byTime() {
		switch e := it.Event.(type) {
		case *events.SignInAttempt:
			if e.Category == "success" || e.Category == "firewall_reported_success" {
				sessions[e.SessionUUID] = opened{e.Timestamp, e.TargetUser.UUID}
			}
		case *events.AuditEvent:
			audits++
			if e.Session == nil {
				t.Fatalf("audit %s %s/%s has no session", e.UUID, e.Action, e.ObjectType)
			}
			o, ok := sessions[e.Session.UUID]
			if !ok {
				t.Fatalf("audit %s %s/%s: session %s opened by no earlier successful sign-in", e.UUID, e.Action, e.ObjectType, e.Session.UUID)
			}
			if !o.login.Equal(e.Session.LoginTime) {
				t.Errorf("audit %s: session.login_time = %v, want the sign-in's %v", e.UUID, e.Session.LoginTime, o.login)
			}
			if o.user != e.ActorUUID {
				t.Errorf("audit %s: actor %s acts in a session of %s", e.UUID, e.ActorUUID, o.user)
			}
			if e.Action == "dlgsess" && e.AuxUUID != e.Session.UUID {
				t.Errorf("dlgsess %s: aux_uuid = %s, want session %s", e.UUID, e.AuxUUID, e.Session.UUID)
			}
		}
	}
	if audits < 1000 {
		t.Errorf("%d audit events in 60 days, want at least 1000", audits)
	}
}

// TestItemUsagesReferToAccessibleItems replays the organisation from its
// initial state and the audit trail, and checks each item usage against it.
func TestItemUsagesReferToAccessibleItems(t *testing.T) {
	r := sixtyDays(t)
	sn := takeSnapshot(New(Config{Seed: 7, Start: start})) // fresh, as the run mutated its own
	deletedGroup, deletedVault := map[string]bool{}, map[string]bool{}
	newItems := map[string]int{} // vault -> items created without a name (patch)
	set := func(m map[string]map[string]bool, k, v string, on bool) {
		if m[k] == nil {
			m[k] = map[string]bool{}
		}
		m[k][v] = on
	}
	can := func(u, v string) bool {
		if sn.userVaults[u][v] {
			return true
		}
		for g, ms := range sn.members {
			if ms[u] && !deletedGroup[g] && sn.groupVaults[g][v] {
				return true
			}
		}
		return false
	}
	usages, fetches := 0, 0
	for _, it := range r.byTime() {
		switch e := it.Event.(type) {
		case *events.AuditEvent:
			obj := ""
			if e.ObjectUUID != nil {
				obj = *e.ObjectUUID
			}
			switch e.ObjectType + "/" + e.Action {
			case "gm/join", "gm/leave":
				set(sn.members, obj, e.AuxUUID, e.Action == "join")
			case "gva/grant", "gva/revoke":
				set(sn.groupVaults, e.AuxUUID, obj, e.Action == "grant")
			case "uva/grant", "uva/revoke":
				set(sn.userVaults, e.AuxUUID, obj, e.Action == "grant")
			case "group/delete":
				deletedGroup[obj] = true
			case "vault/create":
				sn.shared[obj] = true
				sn.items[obj] = map[string]bool{}
			case "vault/delete":
				deletedVault[obj] = true
			case "user/suspend", "user/delete":
				sn.active[obj] = false
			case "user/reactive", "user/join":
				sn.active[obj] = true
			case "items/patch":
				if e.AuxInfo == "1,0,0,0,0" {
					newItems[obj]++
				}
			}
		case *events.ItemUsage:
			usages++
			v, u := e.VaultUUID, e.User.UUID
			if _, ok := sn.shared[v]; !ok {
				t.Fatalf("usage %s names unknown vault %s", e.UUID, v)
			}
			if !sn.shared[v] || deletedVault[v] {
				t.Fatalf("usage %s: vault %s is private or deleted", e.UUID, v)
			}
			if !sn.active[u] {
				t.Fatalf("usage %s at %v by inactive user %s", e.UUID, e.Timestamp, u)
			}
			if !can(u, v) {
				t.Fatalf("usage %s (%s) at %v: user %s has no access to vault %s", e.UUID, e.Action, e.Timestamp, u, v)
			}
			if !sn.items[v][e.ItemUUID] {
				if e.Action != "server-create" && newItems[v] == 0 {
					t.Fatalf("usage %s (%s) names item %s that vault %s does not hold", e.UUID, e.Action, e.ItemUUID, v)
				}
				if e.Action != "server-create" {
					newItems[v]--
				}
				sn.items[v][e.ItemUUID] = true
			}
			if e.Action == "server-fetch" {
				fetches++
				if e.Client.AppName != "1Password CLI" {
					t.Errorf("server-fetch %s by %q, want the CLI", e.UUID, e.Client.AppName)
				}
			}
		}
	}
	if usages < 10000 || fetches < 500 {
		t.Errorf("%d usages and %d server fetches in 60 days, want at least 10000 and 500", usages, fetches)
	}
}

// TestNamesHydratedAtTheTime checks that a person's name and e-mail in
// every event are those they had then: they change only at a changenm or
// ec/complete event, and earlier events keep the old ones.
func TestNamesHydratedAtTheTime(t *testing.T) {
	r := sixtyDays(t)
	type ident struct{ name, email string }
	cur := map[string]ident{}
	renames := 0
	check := func(e string, u *events.User) {
		if u == nil || u.UUID == "" {
			return
		}
		got := ident{u.Name, u.Email}
		want, ok := cur[u.UUID]
		if !ok {
			cur[u.UUID] = got
			return
		}
		if got != want {
			t.Errorf("event %s names %s %+v, want %+v", e, u.UUID, got, want)
		}
	}
	for _, it := range r.byTime() {
		switch e := it.Event.(type) {
		case *events.SignInAttempt:
			check(e.UUID, &e.TargetUser)
		case *events.ItemUsage:
			check(e.UUID, &e.User)
		case *events.AuditEvent:
			if e.ObjectType == "user" && e.Action == "changenm" || e.ObjectType == "ec" && e.Action == "complete" {
				old := cur[e.ObjectDetails.UUID]
				if old.name != "" && old != (ident{e.ObjectDetails.Name, e.ObjectDetails.Email}) {
					renames++
				}
				cur[e.ObjectDetails.UUID] = ident{e.ObjectDetails.Name, e.ObjectDetails.Email}
			}
			check(e.UUID, e.ActorDetails)
			check(e.UUID, e.ObjectDetails)
			check(e.UUID, e.AuxDetails)
		}
	}
	if renames == 0 {
		t.Error("no name or e-mail changed in 60 days")
	}
}

func TestArrivalOrderAndLateness(t *testing.T) {
	r := sixtyDays(t)
	late := map[events.Feature]time.Duration{}
	overHour := 0
	for i, it := range r.items {
		if i > 0 && it.Arrival.Before(r.items[i-1].Arrival) {
			t.Fatalf("item %d arrives at %v, before item %d at %v", i, it.Arrival, i-1, r.items[i-1].Arrival)
		}
		if !it.Arrival.Before(r.to) {
			t.Fatalf("item %d arrives at %v, not before the end %v", i, it.Arrival, r.to)
		}
		if it.Time().Before(start) {
			t.Fatalf("item %d at %v is before the start", i, it.Time())
		}
		d := it.Arrival.Sub(it.Time())
		if d <= 0 {
			t.Fatalf("item %d (%s) arrives %v after its timestamp, want > 0", i, it.Feature, d)
		}
		late[it.Feature] = max(late[it.Feature], d)
		if it.Feature == events.ItemUsages && d > time.Hour {
			overHour++
		}
	}
	if late[events.ItemUsages] < 2*time.Hour || overHour < 100 {
		t.Errorf("item usages: latest %v, %d over an hour; want hours late", late[events.ItemUsages], overHour)
	}
	for _, f := range []events.Feature{events.SignInAttempts, events.AuditEvents} {
		if late[f] > 5*time.Second {
			t.Errorf("%s arrive up to %v late, want seconds", f, late[f])
		}
	}
}

func TestEventsValid(t *testing.T) {
	r := sixtyDays(t)
	acct := r.sim.AccountUUID()
	if !events.ValidUpperID(acct) {
		t.Fatalf("account %q is not an upper-case ID", acct)
	}
	uuids := map[string]bool{}
	for _, it := range r.items {
		var problems []string
		bad := func(f string, args ...any) { problems = append(problems, fmt.Sprintf(f, args...)) }
		upper := func(field, v string) {
			if !events.ValidUpperID(v) {
				bad("%s %q is not an upper-case ID", field, v)
			}
		}
		lower := func(field, v string) {
			if !events.ValidLowerID(v) {
				bad("%s %q is not a lower-case ID", field, v)
			}
		}
		user := func(field string, u *events.User) {
			upper(field+".uuid", u.UUID)
			if u.Name == "" || !strings.Contains(u.Email, "@") {
				bad("%s = %+v lacks a name or e-mail", field, *u)
			}
		}
		client := func(c events.Client) {
			if c.AppName == "" || c.PlatformName == "" || c.OSName == "" || c.IPAddress == "" {
				bad("client %+v lacks a field", c)
			}
		}
		loc := func(l *events.Location) {
			if l == nil || l.Country == "" || l.City == "" || l.Latitude == 0 {
				bad("location %+v incomplete", l)
			}
		}
		ts := func(tm time.Time) {
			if tm.Location() != time.UTC {
				bad("timestamp %v is not UTC", tm)
			}
		}
		var id string
		switch e := it.Event.(type) {
		case *events.SignInAttempt:
			id = e.UUID
			upper("session_uuid", e.SessionUUID)
			ts(e.Timestamp)
			if len(e.Country) != 2 || strings.ToUpper(e.Country) != e.Country {
				bad("country %q is not an ISO code", e.Country)
			}
			if !events.In(e.Type, events.SignInTypesByCategory[e.Category]) {
				bad("type %q is not of category %q", e.Type, e.Category)
			}
			fw := strings.HasPrefix(e.Category, "firewall")
			if fw != (e.Details != nil) {
				bad("category %s with details %v", e.Category, e.Details)
			}
			user("target_user", &e.TargetUser)
			client(e.Client)
			loc(e.Location)
			if e.AccountUUID != "" {
				bad("account_uuid set on a sign-in")
			}
			if e.Category != "modern_version_failed" && e.Client.AppVersion == "" {
				bad("app_version empty")
			}
		case *events.ItemUsage:
			id = e.UUID
			ts(e.Timestamp)
			lower("vault_uuid", e.VaultUUID)
			lower("item_uuid", e.ItemUUID)
			if e.UsedVersion < 1 || !events.In(e.Action, events.ItemUsageActions) {
				bad("used_version %d, action %q", e.UsedVersion, e.Action)
			}
			user("user", &e.User)
			client(e.Client)
			loc(e.Location)
			if e.AccountUUID != "" {
				bad("account_uuid set on an item usage")
			}
		case *events.AuditEvent:
			id = e.UUID
			ts(e.Timestamp)
			ts(e.Session.LoginTime)
			upper("actor_uuid", e.ActorUUID)
			user("actor_details", e.ActorDetails)
			if !events.In(e.Action, events.AuditCatalog[e.ObjectType]) {
				bad("%s/%s is not in the catalogue", e.Action, e.ObjectType)
			}
			if e.ObjectUUID == nil {
				bad("no object_uuid")
			} else if o := *e.ObjectUUID; o != "" && !events.ValidID(o) {
				bad("object_uuid %q", o)
			}
			if e.ObjectDetails != nil {
				user("object_details", e.ObjectDetails)
			}
			if e.AuxDetails != nil {
				user("aux_details", e.AuxDetails)
				if e.AuxUUID != e.AuxDetails.UUID {
					bad("aux_uuid %s but aux_details of %s", e.AuxUUID, e.AuxDetails.UUID)
				}
			}
			upper("session.uuid", e.Session.UUID)
			lower("session.device_uuid", e.Session.DeviceUUID)
			loc(e.Location)
			if e.ActorType != "user" || e.AccountUUID != acct {
				bad("actor_type %q, account_uuid %q", e.ActorType, e.AccountUUID)
			}
			if e.ObjectType == "items" && e.Action == "patch" && (e.AuxID == 0 || e.AuxInfo == "") {
				bad("patch without counter or counts")
			}
		}
		upper("uuid", id)
		if uuids[id] {
			bad("uuid %s repeated", id)
		}
		uuids[id] = true
		if len(problems) > 0 {
			t.Fatalf("%s %s: %s", it.Feature, id, strings.Join(problems, "; "))
		}
	}
}

func TestWeeklyRhythm(t *testing.T) {
	r := sixtyDays(t)
	var weekday, weekend int
	for _, it := range r.items {
		if _, ok := it.Event.(*events.SignInAttempt); !ok {
			continue
		}
		switch it.Time().Weekday() {
		case time.Saturday, time.Sunday:
			weekend++
		default:
			weekday++
		}
	}
	// Per day, weekends should be far quieter.
	if got := float64(weekend) / 2 / (float64(weekday) / 5); got > 0.35 {
		t.Errorf("weekend/weekday sign-ins per day = %.2f, want <= 0.35", got)
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 15, 4, 5, 0, time.UTC)
	cfg := Demo("KHUVUCTBHVDSNDHXKDGM7UESYU", now)
	r := simulate(t, cfg, now.Sub(cfg.Start))
	if n := len(r.items); n < 1500 || n > 20000 {
		t.Errorf("demo gives %d events, want a few thousand", n)
	}
	kinds := map[events.Feature]int{}
	for _, it := range r.items {
		kinds[it.Feature]++
		if it.Arrival.After(now) {
			t.Fatalf("demo event arrives at %v, after now", it.Arrival)
		}
	}
	if diff := cmp.Diff(3, len(kinds)); diff != "" {
		t.Errorf("kinds of events (-want +got):\n%s", diff)
	}
	if got := r.sim.AccountUUID(); got != "KHUVUCTBHVDSNDHXKDGM7UESYU" {
		t.Errorf("AccountUUID() = %s, want the given one", got)
	}
}

func TestEmitError(t *testing.T) {
	t.Parallel()
	s := New(Config{Seed: 1, Start: start})
	n := 0
	err := s.Run(start.Add(24*time.Hour), func(Item) error {
		n++
		if n == 10 {
			return fmt.Errorf("disk full")
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Run error = %v, want the emit error", err)
	}
	var next []Item
	if err := s.Run(start.Add(24*time.Hour), func(it Item) error { next = append(next, it); return nil }); err != nil {
		t.Fatal(err)
	}
	full := simulate(t, Config{Seed: 1, Start: start}, 24*time.Hour)
	if got, want := len(next), len(full.items)-10; got != want {
		t.Errorf("after the error, the next Run emits %d, want the %d not yet emitted", got, want)
	}
}

// BenchmarkBackfill measures generation plus encoding of a 7-day backfill
// of the default organisation, in events per second.
func BenchmarkBackfill(b *testing.B) {
	total := 0
	for b.Loop() {
		s := New(Config{Seed: 1, Start: start})
		err := s.Run(start.Add(7*24*time.Hour), func(it Item) error {
			_, err := events.Encode(it.Event)
			total++
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
}

func TestForRate(t *testing.T) {
	t.Parallel()
	for _, rate := range []float64{3, 20} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			t.Parallel()
			users, intensity := ForRate(rate)
			// Only the count matters: the events are neither encoded nor
			// kept (at 20/min a week is 200,000 of them).
			s, n := New(Config{Seed: 3, Start: start, Users: users, Intensity: intensity}), 0
			if err := s.Run(start.Add(7*24*time.Hour), func(Item) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
			got := float64(n) / (7 * 24 * 60)
			t.Logf("%.1f events/min", got)
			if got < rate*0.6 || got > rate*1.4 {
				t.Errorf("ForRate(%v) = %d users at %.2f: %.1f events/min over a week, want within 40%%", rate, users, intensity, got)
			}
		})
	}
}

// TestSample: Sample returns exactly n events of the feature asked for, in
// the order Run emits them, and says so when the activity holds fewer.
func TestSample(t *testing.T) {
	cfg := Config{Seed: 3, Start: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Users: 20, Intensity: 5}
	to := cfg.Start.Add(48 * time.Hour)
	got, err := New(cfg).Sample(to, events.ItemUsages, 7)
	if err != nil || len(got) != 7 {
		t.Fatalf("Sample = %d events, %v; want 7, nil", len(got), err)
	}
	var want []string
	_ = New(cfg).Run(to, func(it Item) error {
		if it.Feature == events.ItemUsages && len(want) < 7 {
			w, err := events.Encode(it.Event)
			if err != nil {
				return err
			}
			want = append(want, string(w.V2))
		}
		return nil
	})
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("event %d = %s, want %s", i, got[i], want[i])
		}
	}
	if short, err := New(cfg).Sample(cfg.Start.Add(time.Minute), events.ItemUsages, 1000); err == nil || len(short) >= 1000 {
		t.Errorf("Sample of 1000 in one minute = %d events, %v; want fewer and an error", len(short), err)
	}
}
