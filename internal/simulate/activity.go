package simulate

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
)

// step generates the activity of [from, to), which lies within one hour.
// Every event it makes has a timestamp at or after from.
func (s *Sim) step(from, to time.Time) {
	frac := to.Sub(from).Hours() * s.cfg.Intensity
	if from.Equal(s.cfg.Start) || (from.Hour() == 0 && from.Minute() == 0 && from.Second() == 0 && from.Nanosecond() == 0) {
		s.newDay(from)
	}
	// Administrators act after everyone's sign-ins of the hour, in time
	// order, so that access they grant at t is used by no event before t.
	s.acts = s.acts[:0]
	n := len(s.users)
	for i := 0; i < n; i++ {
		u := s.users[i]
		if u.state != active || from.Before(u.since) {
			continue
		}
		switch u.kind {
		case serviceAcct:
			if s.r.chance(0.4 * frac) {
				s.serviceRun(u, s.within(from, to))
			}
		case human:
			if u.trip != nil && !from.Before(u.trip.end) {
				u.trip = nil
			}
			p := u.activity(from)
			if s.r.chance(p * frac) {
				s.signInFlow(u, s.within(from, to))
			}
			if u.role >= admin && p >= 0.3 && s.r.chance(0.3*frac) {
				s.acts = append(s.acts, act{u, s.within(from, to)})
			}
		}
	}
	if s.r.chance(frac / 60) {
		s.bruteForce(s.within(from, to))
	}
	if s.r.chance(0.05 * frac) {
		s.firewallNoise(s.within(from, to))
	}
	sort.SliceStable(s.acts, func(i, j int) bool { return s.acts[i].t.Before(s.acts[j].t) })
	for _, a := range s.acts {
		if a.u.state == active {
			s.adminAction(a.u, a.t)
		}
	}
}

type act struct {
	u *user
	t time.Time
}

// within returns a random time in [from, to).
func (s *Sim) within(from, to time.Time) time.Time { return from.Add(s.r.dur(0, to.Sub(from))) }

// activity is the chance that u signs in during the hour starting at t,
// from their working hours and the day of the week in their time zone.
func (u *user) activity(t time.Time) float64 {
	off := u.home.offset
	if u.trip != nil && !t.Before(u.trip.start) {
		off = u.trip.to.offset
	}
	local := t.Add(time.Duration(off) * time.Minute)
	h := local.Hour()
	switch wd := local.Weekday(); {
	case wd == time.Saturday || wd == time.Sunday:
		if h >= 9 && h < 22 {
			return 0.03
		}
		return 0.003
	case h >= u.workStart && h < u.workEnd:
		return 0.3
	case h == u.workStart-1 || (h >= u.workEnd && h < u.workEnd+3):
		return 0.06
	}
	return 0.004
}

// newDay queues the day's share of the audit catalogue and starts trips.
func (s *Sim) newDay(t time.Time) {
	for range 3 {
		s.adminQueue = append(s.adminQueue, s.rotation[s.rotNext])
		s.rotNext = (s.rotNext + 1) % len(s.rotation)
	}
	if s.r.chance(0.25) {
		u := s.randomHuman(nil)
		if u != nil && u.trip == nil {
			var to *city
			if s.r.chance(0.5) {
				c := travelCities[s.r.intn(len(travelCities))]
				to = &c
			} else {
				to = s.locs[s.r.intn(len(s.locs))]
			}
			if to.name != u.home.name {
				start := t.Add(s.r.dur(0, 24*time.Hour))
				u.trip = &trip{to: to, ip: ipIn(s.r, to), start: start, end: start.Add(s.r.dur(48*time.Hour, 240*time.Hour))}
			}
		}
	}
}

// quick is the delay of sign-ins and audit events.
func (s *Sim) quick() time.Duration { return s.r.dur(50*time.Millisecond, 3*time.Second) }

// late is the delay of item usages: minutes usually, hours sometimes.
func (s *Sim) late() time.Duration {
	switch x := s.r.float(); {
	case x < 0.6:
		return s.r.dur(30*time.Second, 15*time.Minute)
	case x < 0.92:
		return s.r.dur(15*time.Minute, 2*time.Hour)
	default:
		return s.r.dur(2*time.Hour, 8*time.Hour)
	}
}

func (s *Sim) loc(c *city) *events.Location {
	return &events.Location{Country: c.country, Region: c.region, City: c.name, Latitude: c.lat, Longitude: c.lon}
}

func clientAt(d *device, ip string) events.Client {
	c := d.client
	c.IPAddress = ip
	return c
}

// where returns the place and address u signs in from at t.
func (u *user) where(t time.Time) (*city, string) {
	if u.trip != nil && !t.Before(u.trip.start) && t.Before(u.trip.end) {
		return u.trip.to, u.trip.ip
	}
	return u.home, u.ip
}

// nextType returns the next type of a category, round robin, so that every
// type appears once the category has occurred often enough.
func (s *Sim) nextType(cat string, types []string) string {
	i := s.typeNext[cat]
	s.typeNext[cat] = i + 1
	return types[i%len(types)]
}

func (s *Sim) signIn(u *user, t time.Time, sessID, cat, typ string, details string, c events.Client, place *city) {
	e := &events.SignInAttempt{
		UUID: s.r.id(), SessionUUID: sessID, Timestamp: t, Country: place.iso,
		Category: cat, Type: typ, TargetUser: u.ref(t), Client: c, Location: s.loc(place),
	}
	if details != "" {
		e.Details = &events.Details{Value: details}
	}
	s.push(events.SignInAttempts, t, s.quick(), e, nil, u)
}

func (s *Sim) pickDevice(u *user) *device {
	w := make([]int, len(u.devices))
	for i, d := range u.devices {
		switch d.kind {
		case desktop, extension:
			w[i] = 4
		case mobile:
			w[i] = 2
		default:
			w[i] = 1
		}
	}
	return u.devices[s.r.weighted(w)]
}

var signInWeights = []int{900, 45, 30, 6, 5, 6} // success, credentials, mfa, sso, modern version, reported

// signInFlow is a person signing in at t, with whatever goes wrong first.
func (s *Sim) signInFlow(u *user, t time.Time) {
	dev := s.pickDevice(u)
	place, ip := u.where(t)
	c := clientAt(dev, ip)
	retry := func(p float64, lo, hi time.Duration) {
		if s.r.chance(p) {
			s.succeed(u, t.Add(s.r.dur(lo, hi)), dev, false)
		}
	}
	if events.In(place.iso, reportedCountries) {
		s.succeed(u, t, dev, true)
		return
	}
	switch s.r.weighted(signInWeights) {
	case 0:
		s.succeed(u, t, dev, false)
	case 1:
		s.signIn(u, t, s.r.id(), "credentials_failed", "password_secret_bad", "", c, place)
		retry(0.8, 5*time.Second, 90*time.Second)
	case 2:
		typ := s.nextType("mfa_failed", events.SignInTypesByCategory["mfa_failed"])
		s.signIn(u, t, s.r.id(), "mfa_failed", typ, "", c, place)
		if strings.HasSuffix(typ, "_timeout") {
			retry(0.95, 30*time.Second, 3*time.Minute)
		} else {
			retry(0.7, 10*time.Second, 2*time.Minute)
		}
	case 3:
		typ := s.nextType("sso_failed", []string{"non_sso_user", "sso_user_mismatch"})
		s.signIn(u, t, s.r.id(), "sso_failed", typ, "", c, place)
		retry(0.6, 20*time.Second, 5*time.Minute)
	case 4:
		typ := s.nextType("modern_version_failed", events.SignInTypesByCategory["modern_version_failed"])
		c.AppVersion = oldModernVers
		if typ == "modern_version_missing" {
			c.AppVersion = ""
		}
		s.signIn(u, t, s.r.id(), "modern_version_failed", typ, "", c, place)
	case 5:
		s.succeed(u, t, dev, true)
	}
}

// firewallDetail is the value a firewall rule of type typ reports.
func firewallDetail(typ string, place *city, ip string) string {
	switch typ {
	case "country_blocked":
		return place.country
	case "continent_blocked":
		return place.continent
	}
	return ip
}

// succeed signs u in on dev at t and opens a session; reported marks a
// sign-in that a report-only firewall rule noticed.
func (s *Sim) succeed(u *user, t time.Time, dev *device, reported bool) *session {
	place, ip := u.where(t)
	sess := &session{id: s.r.id(), login: t, expires: t.Add(s.r.dur(4*time.Hour, 10*time.Hour)), dev: dev, ip: ip, place: place}
	c := clientAt(dev, ip)
	switch {
	case reported:
		typ := "country_blocked"
		if !events.In(place.iso, reportedCountries) {
			typ = s.nextType("firewall_reported_success", events.SignInTypesByCategory["firewall_reported_success"])
		}
		s.signIn(u, t, sess.id, "firewall_reported_success", typ, firewallDetail(typ, place, ip), c, place)
	case u.sso && dev.kind != cli:
		s.signIn(u, t, sess.id, "success", "federated", "", c, place)
	case u.mfa != "" && dev.kind != cli:
		s.signIn(u, t, sess.id, "success", "mfa_ok", "", c, place)
	default:
		s.signIn(u, t, sess.id, "success", "credentials_ok", "", c, place)
	}
	u.sess = sess
	at := t.Add(s.r.dur(100*time.Millisecond, 2*time.Second))
	if u.sso && dev.kind != cli {
		s.audit(u, sess, at, pair{"ssotkn", "ssotknv"})
		at = at.Add(s.r.dur(100*time.Millisecond, time.Second))
	}
	if u.kind == human {
		for range s.r.between(0, 2) {
			s.audit(u, sess, at, pair{"dlgdsess", "dlgsess"})
			at = at.Add(s.r.dur(50*time.Millisecond, 800*time.Millisecond))
		}
		if s.r.chance(0.015) {
			s.audit(u, sess, at.Add(s.r.dur(time.Minute, 20*time.Minute)), pick(s.r, selfService))
		}
		n := 0
		switch dev.kind {
		case desktop, extension:
			n = s.r.between(0, 9)
		case mobile, web:
			n = s.r.between(0, 4)
		case cli:
			n = s.r.between(1, 6)
		}
		s.useItems(u, sess, at, n)
	}
	return sess
}

// selfService are audit actions people do to themselves.
var selfService = []pair{
	{"user", "changemp"}, {"user", "changela"}, {"user", "changesk"}, {"user", "enblmfa"}, {"user", "updatmfa"},
	{"cred", "create"}, {"cred", "delete"}, {"device", "create"}, {"ec", "begin"}, {"ec", "complete"}, {"user", "changenm"},
	{"user", "tdvcsso"},
}

var (
	actionsDesktop   = []string{"fill", "reveal", "secure-copy", "enter-item-edit-mode", "share", "export"}
	weightsDesktop   = []int{30, 20, 25, 8, 2, 1}
	actionsExtension = []string{"fill", "reveal", "secure-copy", "select-sso-provider", "enter-item-edit-mode"}
	weightsExtension = []int{60, 5, 10, 6, 3}
	actionsMobile    = []string{"fill", "reveal", "secure-copy", "enter-item-edit-mode"}
	weightsMobile    = []int{50, 20, 20, 3}
	actionsWeb       = []string{"reveal", "secure-copy", "server-create", "server-update", "share", "export", "enter-item-edit-mode"}
	weightsWeb       = []int{20, 20, 10, 15, 5, 3, 5}
	actionsCLI       = []string{"server-fetch", "server-create", "server-update"}
	weightsCLI       = []int{85, 5, 10}
)

func (s *Sim) itemAction(d *device) string {
	switch d.kind {
	case desktop:
		if d.old {
			return "other"
		}
		return actionsDesktop[s.r.weighted(weightsDesktop)]
	case extension:
		return actionsExtension[s.r.weighted(weightsExtension)]
	case mobile:
		return actionsMobile[s.r.weighted(weightsMobile)]
	case web:
		return actionsWeb[s.r.weighted(weightsWeb)]
	}
	return actionsCLI[s.r.weighted(weightsCLI)]
}

// useItems makes n item usages by u in sess after t, on shared vaults u
// may use (only those are reported).
func (s *Sim) useItems(u *user, sess *session, t time.Time, n int) {
	if n == 0 {
		return
	}
	s.vaultBuf = u.sharedVaults(s.vaultBuf[:0])
	if len(s.vaultBuf) == 0 {
		return
	}
	for range n {
		t = t.Add(s.r.dur(3*time.Second, 12*time.Minute))
		v := s.vaultBuf[s.r.intn(len(s.vaultBuf))]
		if len(v.items) == 0 {
			continue
		}
		it := v.items[s.r.intn(len(v.items))]
		action := s.itemAction(sess.dev)
		changed := ""
		switch action {
		case "server-create":
			it = &item{id: s.r.lid(), version: 1}
			v.items = append(v.items, it)
			changed = "1,0,0,0,0"
		case "server-update":
			it.version++
			changed = "0,1,0,0,0"
		case "enter-item-edit-mode":
			if s.r.chance(0.5) {
				changed = "0,1,0,0,0"
			}
		}
		e := &events.ItemUsage{
			UUID: s.r.id(), Timestamp: t, UsedVersion: it.version, VaultUUID: v.id, ItemUUID: it.id,
			User: u.ref(t), Client: clientAt(sess.dev, sess.ip), Location: s.loc(sess.place), Action: action,
		}
		s.push(events.ItemUsages, t, s.late(), e, v, u)
		switch {
		case changed != "":
			if action == "enter-item-edit-mode" {
				it.version++
			}
			t = t.Add(s.r.dur(2*time.Second, 3*time.Minute))
			v.patches++
			a := s.auditBase(u, sess, t, "patch", "items")
			a.ObjectUUID, a.AuxID, a.AuxInfo = events.Str(v.id), v.patches, changed
			s.pushAudit(a, v, u)
		case action == "share":
			t = t.Add(s.r.dur(time.Second, 30*time.Second))
			a := s.auditBase(u, sess, t, "share", "item")
			a.ObjectUUID, a.AuxUUID = events.Str(it.id), v.id
			s.pushAudit(a, v, u)
		}
	}
}

// serviceRun is a service account's CI job: a sign-in and a few fetches.
func (s *Sim) serviceRun(u *user, t time.Time) {
	dev := u.devices[0]
	if s.r.chance(0.01) {
		s.signIn(u, t, s.r.id(), "sso_failed", "service_account_sso_denied", "", clientAt(dev, u.ip), u.home)
		return
	}
	sess := &session{id: s.r.id(), login: t, expires: t.Add(time.Hour), dev: dev, ip: u.ip, place: u.home}
	s.signIn(u, t, sess.id, "success", "credentials_ok", "", clientAt(dev, u.ip), u.home)
	u.sess = sess
	s.useItems(u, sess, t, s.r.between(1, 8))
}

// randomHuman returns an active person other than not, or nil.
func (s *Sim) randomHuman(not *user) *user {
	return s.randomUser(func(u *user) bool { return u.kind == human && u.state == active && u != not })
}

// randomUser returns one of the users ok accepts, each as likely, or nil.
// It counts, then walks to the chosen one, rather than collecting the
// candidates: it runs for many admin actions an hour, and an organisation
// at the top --rate has over 19,000 people.
func (s *Sim) randomUser(ok func(*user) bool) *user {
	n := 0
	for _, u := range s.users {
		if ok(u) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	k := s.r.intn(n)
	for _, u := range s.users {
		if ok(u) {
			if k == 0 {
				return u
			}
			k--
		}
	}
	return nil
}

var attackerClients = []events.Client{
	{AppName: "1Password for Web", AppVersion: "1842", PlatformName: "Chrome", PlatformVersion: "131.0.6778.86", OSName: "Windows", OSVersion: "10.0.19045"},
	{AppName: "1Password for Web", AppVersion: "1817", PlatformName: "Firefox", PlatformVersion: "115.0", OSName: "Linux", OSVersion: "5.15.0"},
	{AppName: "1Password CLI", AppVersion: "2290000", PlatformName: "kali", PlatformVersion: "amd64", OSName: "Linux", OSVersion: "6.6.9"},
}

// bruteForce is a password-guessing burst against one person: blocked by
// the firewall when it comes from a blocked place, failed otherwise.
func (s *Sim) bruteForce(t time.Time) {
	u := s.randomHuman(nil)
	if u == nil {
		return
	}
	var place *city
	blocked := s.r.chance(0.5)
	if blocked {
		place = &hostileCities[s.r.intn(len(hostileCities))]
	} else {
		c := travelCities[s.r.intn(len(travelCities))]
		place = &c
	}
	ip := ipIn(s.r, place)
	c := attackerClients[s.r.intn(len(attackerClients))]
	c.IPAddress = ip
	for range s.r.between(15, 60) {
		t = t.Add(s.r.dur(500*time.Millisecond, 8*time.Second))
		switch {
		case blocked && slices.Contains(blockedContinents, place.continent):
			s.signIn(u, t, s.r.id(), "firewall_failed", "continent_blocked", place.continent, c, place)
		case blocked:
			s.signIn(u, t, s.r.id(), "firewall_failed", "country_blocked", place.country, c, place)
		default:
			s.signIn(u, t, s.r.id(), "credentials_failed", "password_secret_bad", "", c, place)
		}
	}
}

// firewallNoise is one attempt stopped by a firewall rule.
func (s *Sim) firewallNoise(t time.Time) {
	u := s.randomHuman(nil)
	if u == nil {
		return
	}
	typ := s.nextType("firewall_failed", events.SignInTypesByCategory["firewall_failed"])
	var place *city
	switch typ {
	case "country_blocked":
		place = &hostileCities[s.r.intn(len(hostileCities)-1)]
	case "continent_blocked":
		place = &hostileCities[len(hostileCities)-1]
	case "anonymous_blocked":
		place = &anonymousCities[s.r.intn(len(anonymousCities))]
	default:
		place = s.locs[s.r.intn(len(s.locs))]
	}
	ip := ipIn(s.r, place)
	c := attackerClients[s.r.intn(len(attackerClients))]
	if s.r.chance(0.3) {
		c = clientAt(s.pickDevice(u), "") // the person, abroad or on a VPN
	}
	c.IPAddress = ip
	s.signIn(u, t, s.r.id(), "firewall_failed", typ, firewallDetail(typ, place, ip), c, place)
}
