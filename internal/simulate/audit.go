package simulate

import (
	"strconv"
	"time"

	"github.com/logbookhq/logbook/events"
)

// commonAdmin are the day-to-day actions of administrators, by weight.
var commonAdmin = []struct {
	p pair
	w int
}{
	{pair{"uva", "grant"}, 6}, {pair{"gva", "grant"}, 3}, {pair{"gm", "join"}, 5}, {pair{"gm", "leave"}, 2},
	{pair{"uva", "revoke"}, 2}, {pair{"uva", "update"}, 2}, {pair{"report", "view"}, 6}, {pair{"report", "export"}, 1},
	{pair{"user", "resendts"}, 2}, {pair{"invite", "create"}, 2}, {pair{"user", "provsn"}, 2}, {pair{"device", "reauth"}, 1},
	{pair{"vault", "create"}, 2}, {pair{"vault", "updatea"}, 2}, {pair{"vault", "update"}, 2}, {pair{"user", "beginr"}, 1},
	{pair{"user", "completr"}, 1}, {pair{"user", "suspend"}, 1}, {pair{"user", "reactive"}, 1}, {pair{"template", "create"}, 1},
	{pair{"satoken", "tverify"}, 2}, {pair{"items", "patch"}, 4}, {pair{"group", "update"}, 1}, {pair{"user", "trvlaway"}, 1},
	{pair{"user", "trvlback"}, 1}, {pair{"ec", "propose"}, 1},
}

var commonWeights = func() []int {
	w := make([]int, len(commonAdmin))
	for i, c := range commonAdmin {
		w[i] = c.w
	}
	return w
}()

// adminAction is an administrator doing one thing at about t: the next
// entry of the catalogue rotation or a common action.
func (s *Sim) adminAction(actor *user, t time.Time) {
	var p pair
	s.adminActs++
	if len(s.adminQueue) > 0 {
		p = s.adminQueue[0]
		s.adminQueue = s.adminQueue[1:]
	} else {
		p = commonAdmin[s.r.weighted(commonWeights)].p
	}
	sess, at := s.sessionFor(actor, t)
	s.audit(actor, sess, at, p)
}

// requeue puts p back at the end of the rotation queue when what it needs
// does not exist yet (a suspended user to reactivate, say).
func (s *Sim) requeue(p pair) { s.adminQueue = append(s.adminQueue, p) }

// sessionFor returns u's session at t, signing u in when there is none,
// and the time (after the sign-in) at which u can act in it.
func (s *Sim) sessionFor(u *user, t time.Time) (*session, time.Time) {
	if u.sess != nil && !t.Before(u.sess.login) && t.Before(u.sess.expires) {
		return u.sess, t
	}
	dev := u.devices[0]
	for _, d := range u.devices {
		if d.kind == web {
			dev = d
		}
	}
	sess := s.succeed(u, t, dev, false)
	return sess, t.Add(s.r.dur(5*time.Second, 2*time.Minute))
}

func (s *Sim) auditBase(actor *user, sess *session, t time.Time, action, obj string) *events.AuditEvent {
	return &events.AuditEvent{
		UUID: s.r.id(), Timestamp: t, ActorUUID: actor.id, ActorDetails: actor.refPtr(t),
		Action: action, ObjectType: obj,
		Session:   &events.Session{UUID: sess.id, LoginTime: sess.login, DeviceUUID: sess.dev.id, IP: sess.ip},
		Location:  s.loc(sess.place),
		ActorType: "user", AccountUUID: s.cfg.AccountUUID,
	}
}

// pushAudit queues a; us[0] should be the actor.
func (s *Sim) pushAudit(a *events.AuditEvent, v *vault, us ...*user) {
	s.push(events.AuditEvents, a.Timestamp, s.quick(), a, v, us...)
}

// after returns the later of t and just after ref: a change that takes
// something away from a user or renames them is dated after the last event
// already generated that depends on the old state.
func after(t, ref time.Time) time.Time {
	if ref.Before(t) {
		return t
	}
	return ref.Add(time.Millisecond + time.Duration(ref.Nanosecond()%997))
}

func (s *Sim) setObjectUser(a *events.AuditEvent, u *user) {
	a.ObjectUUID, a.ObjectDetails = events.Str(u.id), u.refPtr(a.Timestamp)
}

func (s *Sim) setAuxUser(a *events.AuditEvent, u *user) {
	a.AuxUUID, a.AuxDetails = u.id, u.refPtr(a.Timestamp)
}

// sharedVault returns a live shared vault, preferring ones created during
// the run when temp is set.
func (s *Sim) sharedVault(temp bool) *vault {
	var c []*vault
	for _, v := range s.vaults {
		if v.shared && !v.deleted && (!temp || v.temp) {
			c = append(c, v)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[s.r.intn(len(c))]
}

func (s *Sim) liveGroup(temp bool) *group {
	var c []*group
	for _, g := range s.groups {
		if !g.deleted && !g.builtin && (!temp || !contains(departments, g.name)) {
			c = append(c, g)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[s.r.intn(len(c))]
}

func contains(l []string, x string) bool { return events.In(x, l) }

func removeUser(l []*user, u *user) []*user {
	for i, x := range l {
		if x == u {
			return append(l[:i:i], l[i+1:]...)
		}
	}
	return l
}

func removeVault(l []*vault, v *vault) []*vault {
	for i, x := range l {
		if x == v {
			return append(l[:i:i], l[i+1:]...)
		}
	}
	return l
}

func removeGroup(l []*group, g *group) []*group {
	for i, x := range l {
		if x == g {
			return append(l[:i:i], l[i+1:]...)
		}
	}
	return l
}

func (s *Sim) perms() int64 { return pick(s.r, []int64{32, 48, 62, 126, 1048560, 2097136}) }

// audit emits the audit event of pair p by actor in sess at about t, and
// applies what it changes to the organisation. Pairs whose object does not
// exist yet create it first or are put back in the queue.
func (s *Sim) audit(actor *user, sess *session, t time.Time, p pair) {
	r := s.r
	base := func(at time.Time) *events.AuditEvent { return s.auditBase(actor, sess, at, p.action, p.obj) }
	switch p.obj {
	case "account", "sso", "slackapp":
		a := base(t)
		a.ObjectUUID = events.Str(s.cfg.AccountUUID)
		switch p.action {
		case "addgsso", "delgsso":
			if g := s.liveGroup(false); g != nil {
				a.AuxUUID = g.id
			}
		case "vrfydmn", "uvrfydmn", "dvrfydmn":
			a.AuxInfo = s.domain
		}
		s.pushAudit(a, nil, actor)
	case "dlgdsess":
		a := base(t)
		a.ObjectUUID, a.AuxUUID = events.Str(r.id()), sess.id
		s.pushAudit(a, nil, actor)
	case "ssotkn":
		a := base(t)
		a.ObjectUUID = events.Str(r.id())
		s.pushAudit(a, nil, actor)
	case "device":
		s.deviceAction(actor, sess, t, p)
	case "user":
		s.userAction(actor, sess, t, p)
	case "ec":
		target := actor
		if p.action == "propose" || actor.kind != human {
			if target = s.randomHuman(actor); target == nil {
				return
			}
		}
		at := t
		if p.action == "complete" {
			at = after(t, target.lastRef)
			alt := target.first.ascii[:1] + target.last.ascii + "@" + s.domain
			if target.emailAlt || s.emails[alt] {
				alt = target.first.ascii + "." + target.last.ascii + "@" + s.domain
			}
			if alt != target.email && !s.emails[alt] {
				delete(s.emails, target.email)
				s.emails[alt] = true
				target.emailAlt = !target.emailAlt
				target.rename(at, target.display, alt)
			}
		}
		a := base(at)
		s.setObjectUser(a, target)
		s.pushAudit(a, nil, actor, target)
	case "famchild", "card", "pm", "sub", "mngdacc", "template", "miguser", "unknown", "file", "cred":
		a := base(t)
		switch p.obj {
		case "mngdacc":
			i := r.intn(len(managedCompanies))
			a.ObjectUUID, a.AuxInfo = events.Str(s.stableID("mngdacc"+strconv.Itoa(i))), managedCompanies[i]
		case "template":
			i := r.intn(len(templateNames))
			a.ObjectUUID, a.AuxInfo = events.Str(s.stableLowerID("template"+strconv.Itoa(i))), templateNames[i]
		case "unknown":
			a.ObjectUUID = events.Str("")
		case "file":
			v := s.sharedVault(false)
			a.ObjectUUID, a.AuxUUID = events.Str(r.lid()), v.id
		case "cred":
			a.ObjectUUID = events.Str(r.lid())
			s.setAuxUser(a, actor)
		case "miguser":
			a.ObjectUUID = events.Str(r.id())
			a.AuxInfo = pick(r, firstNames).ascii + "@" + s.domain
		case "famchild":
			a.ObjectUUID = events.Str(s.stableID("famchild" + actor.id))
			s.setAuxUser(a, actor)
		default:
			a.ObjectUUID = events.Str(s.stableID(p.obj))
		}
		s.pushAudit(a, nil, actor)
	case "group":
		s.groupAction(actor, sess, t, p)
	case "gm":
		s.membershipAction(actor, sess, t, p)
	case "gva":
		s.groupVaultAction(actor, sess, t, p)
	case "uva":
		s.userVaultAction(actor, sess, t, p)
	case "invite":
		if p.action == "create" {
			s.hire(actor, sess, t, false)
			return
		}
		a := base(t)
		if p.action == "prsndall" {
			a.ObjectUUID = events.Str(s.cfg.AccountUUID)
		} else {
			a.ObjectUUID = events.Str(r.lid())
		}
		s.pushAudit(a, nil, actor)
	case "items", "itemhist", "item", "vaultkey":
		v := s.sharedVault(false)
		if len(v.items) == 0 {
			return
		}
		a := base(t)
		a.ObjectUUID = events.Str(v.id)
		switch p.obj {
		case "items":
			v.patches++
			a.AuxID = v.patches
			if p.action == "patch" {
				// An item created or edited through an admin's web session.
				if r.chance(0.5) {
					v.items = append(v.items, &item{id: r.lid(), version: 1})
					a.AuxInfo = "1,0,0,0,0"
				} else {
					v.items[r.intn(len(v.items))].version++
					a.AuxInfo = "0,1,0,0,0"
				}
			} else {
				a.AuxInfo = "0,0," + strconv.Itoa(r.between(1, 5)) + ",0,0"
			}
		case "itemhist":
			a.AuxUUID = v.items[r.intn(len(v.items))].id
		case "item":
			a.ObjectUUID, a.AuxUUID = events.Str(v.items[r.intn(len(v.items))].id), v.id
		}
		s.pushAudit(a, v, actor)
	case "report":
		a := base(t)
		a.ObjectUUID, a.AuxInfo = events.Str(""), pick(r, reportNames)
		s.pushAudit(a, nil, actor)
	case "sa":
		id := s.stableID("sa" + strconv.Itoa(r.intn(3)))
		a := base(t)
		a.ObjectUUID = events.Str(id)
		if p.action == "create" {
			id = r.id()
			a.ObjectUUID, a.AuxInfo = events.Str(id), "D"
			s.pushAudit(a, nil, actor)
			a = base(t.Add(r.dur(0, 900*time.Millisecond)))
			a.ObjectType, a.ObjectUUID, a.AuxInfo = "satoken", events.Str(id), pick(r, tokenNames)
		}
		s.pushAudit(a, nil, actor)
	case "satoken":
		a := base(t)
		a.ObjectUUID, a.AuxInfo = events.Str(s.stableID("sa"+strconv.Itoa(r.intn(3)))), pick(r, tokenNames)
		s.pushAudit(a, nil, actor)
	case "vault":
		s.vaultAction(actor, sess, t, p)
	default:
		a := base(t)
		s.pushAudit(a, nil, actor)
	}
}

// stableID derives an upper-case identifier from the seed and a key, for
// things (a Slack app, a subscription) the account has exactly one of.
func (s *Sim) stableID(key string) string {
	x := newRNG(s.cfg.Seed ^ int64(hash(key)))
	return x.id()
}

func (s *Sim) stableLowerID(key string) string {
	x := newRNG(s.cfg.Seed ^ int64(hash(key)))
	return x.lid()
}

// hash is FNV-1a.
func hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func (s *Sim) deviceAction(actor *user, sess *session, t time.Time, p pair) {
	target := actor
	if actor.kind != human || (p.action != "create" && s.r.chance(0.5)) {
		if target = s.randomHuman(nil); target == nil {
			return
		}
	}
	var d *device
	switch p.action {
	case "create":
		d = s.newDevice(target, pick(s.r, []deviceKind{mobile, desktop, extension}))
		target.devices = append(target.devices, d)
	case "delete":
		// Remove a device that is not in use; keep at least two.
		if len(target.devices) <= 2 {
			s.requeue(p)
			return
		}
		for i := len(target.devices) - 1; i >= 0; i-- {
			if c := target.devices[i]; (target.sess == nil || c != target.sess.dev) && c.kind != cli {
				d = c
				target.devices = append(target.devices[:i:i], target.devices[i+1:]...)
				break
			}
		}
		if d == nil {
			s.requeue(p)
			return
		}
	default:
		d = target.devices[s.r.intn(len(target.devices))]
	}
	a := s.auditBase(actor, sess, t, p.action, p.obj)
	a.ObjectUUID = events.Str(d.id)
	s.setAuxUser(a, target)
	s.pushAudit(a, nil, actor, target)
}

// selfActions are user actions whose object is the actor.
var selfActions = []string{"changemp", "changesk", "changela", "changeks", "enblmfa", "updatmfa", "disblmfa", "tdvcsso", "sdvcsso", "changenm", "verify"}

func (s *Sim) userAction(actor *user, sess *session, t time.Time, p pair) {
	r := s.r
	switch p.action {
	case "provsn":
		s.hire(actor, sess, t, true)
		return
	case "join", "activate":
		s.hire(actor, sess, t, r.chance(0.5))
		return
	}
	target := actor
	if actor.kind != human || !contains(selfActions, p.action) || r.chance(0.2) {
		target = s.randomUser(func(u *user) bool {
			return u.kind == human && u.state == active && u != actor && u.role == member
		})
	}
	at := t
	switch p.action {
	case "suspend", "delete":
		if p.action == "delete" {
			target = s.randomUser(func(u *user) bool { return u.state == suspended })
			if target == nil {
				s.requeue(p)
				p.action = "suspend"
				target = s.randomUser(func(u *user) bool {
					return u.kind == human && u.state == active && u != actor && u.role == member
				})
			}
		}
		if target == nil {
			return
		}
		at = after(t, target.lastRef)
		if p.action == "suspend" {
			target.state = suspended
		} else {
			target.state = deleted
			for _, g := range target.groups {
				g.members = removeUser(g.members, target)
			}
			target.groups, target.vaults = nil, nil
		}
		target.sess, target.trip = nil, nil
	case "reactive":
		target = s.randomUser(func(u *user) bool { return u.state == suspended })
		if target == nil {
			s.requeue(p)
			return
		}
		at = after(t, target.lastRef)
		target.state = active
		target.since = at
	case "changenm":
		if target == nil {
			return
		}
		at = after(t, target.lastRef)
		l := pick(r, lastNames)
		target.last = l
		target.rename(at, target.first.display+" "+l.display, target.email)
	case "trvlaway":
		if target == nil {
			return
		}
		target.travelMode = true
	case "trvlback":
		if target == nil {
			return
		}
		target.travelMode = false
	case "beginr", "completr", "cancelr":
		if target == nil {
			return
		}
		if p.action != "beginr" {
			a := s.auditBase(actor, sess, t, "beginr", "user")
			s.setObjectUser(a, target)
			s.pushAudit(a, nil, actor, target)
			at = t.Add(r.dur(5*time.Minute, 50*time.Minute))
		}
	}
	if target == nil {
		return
	}
	a := s.auditBase(actor, sess, at, p.action, p.obj)
	s.setObjectUser(a, target)
	s.pushAudit(a, nil, actor, target)
}

// hire is a new person joining: invited by actor (or provisioned through
// the SCIM bridge), added to groups, signing in for the first time,
// joining and verifying, then confirmed by actor.
func (s *Sim) hire(actor *user, sess *session, t time.Time, viaSCIM bool) {
	r := s.r
	if len(s.users) > 4*s.cfg.Users {
		return
	}
	u := s.newHuman()
	if viaSCIM {
		ss, at := s.sessionFor(s.scim, t)
		a := s.auditBase(s.scim, ss, at, "provsn", "user")
		s.setObjectUser(a, u)
		s.pushAudit(a, nil, s.scim, u)
		a = s.auditBase(s.scim, ss, at.Add(r.dur(100*time.Millisecond, time.Second)), "sendts", "user")
		s.setObjectUser(a, u)
		s.pushAudit(a, nil, s.scim, u)
		t = at
	} else {
		a := s.auditBase(actor, sess, t, "create", "invite")
		a.ObjectUUID, a.AuxInfo = events.Str(r.lid()), u.email
		s.pushAudit(a, nil, actor)
	}
	// Team Members and a department, before the first sign-in.
	var dept *group
	for _, g := range s.groups {
		if !g.deleted && contains(departments, g.name) && (dept == nil || r.chance(0.2)) {
			dept = g
		}
	}
	s.join(u)
	dept.members = append(dept.members, u)
	u.groups = append(u.groups, dept)
	at := t.Add(r.dur(2*time.Second, 30*time.Second))
	for _, g := range u.groups {
		a := s.auditBase(actor, sess, at, "join", "gm")
		a.ObjectUUID, a.AuxID, a.AuxInfo = events.Str(g.id), int64(r.between(100, 99999)), "M"
		s.setAuxUser(a, u)
		s.pushAudit(a, nil, actor, u)
		at = at.Add(r.dur(100*time.Millisecond, 2*time.Second))
	}
	first := at.Add(r.dur(10*time.Minute, 6*time.Hour))
	u.since = first
	own := s.succeed(u, first, u.devices[0], false)
	at = first.Add(r.dur(time.Second, 10*time.Second))
	for _, act := range []string{"join", "verify"} {
		a := s.auditBase(u, own, at, act, "user")
		s.setObjectUser(a, u)
		s.pushAudit(a, nil, u)
		at = at.Add(r.dur(time.Second, 30*time.Second))
	}
	for _, d := range u.devices[:2] {
		a := s.auditBase(u, own, at, "create", "device")
		a.ObjectUUID = events.Str(d.id)
		s.setAuxUser(a, u)
		s.pushAudit(a, nil, u)
	}
	if actor.kind == human {
		a := s.auditBase(actor, sess, at.Add(r.dur(5*time.Minute, 3*time.Hour)), "activate", "user")
		s.setObjectUser(a, u)
		s.pushAudit(a, nil, actor, u)
	}
}

func (s *Sim) groupAction(actor *user, sess *session, t time.Time, p pair) {
	r := s.r
	var g *group
	switch p.action {
	case "create":
		g = &group{id: r.id(), name: pick(r, newGroupNames)}
		s.groups = append(s.groups, g)
	case "delete":
		if g = s.liveGroup(true); g == nil {
			s.requeue(p)
			s.groupAction(actor, sess, t, pair{"group", "create"})
			return
		}
		for _, m := range g.members {
			t = after(t, m.lastRef)
		}
		for _, v := range g.vaults {
			t = after(t, v.lastUse)
		}
		g.deleted = true
		for _, m := range g.members {
			m.groups = removeGroup(m.groups, g)
		}
	case "purge":
		for _, x := range s.groups {
			if x.deleted {
				g = x
			}
		}
		if g == nil {
			s.requeue(p)
			return
		}
	default:
		for g == nil || g.deleted {
			g = s.groups[r.intn(len(s.groups))]
		}
	}
	a := s.auditBase(actor, sess, t, p.action, p.obj)
	a.ObjectUUID = events.Str(g.id)
	if p.action == "create" || p.action == "update" {
		a.AuxInfo = g.name
	}
	s.pushAudit(a, nil, actor)
}

func (s *Sim) membershipAction(actor *user, sess *session, t time.Time, p pair) {
	r := s.r
	g := s.liveGroup(false)
	if g == nil {
		s.requeue(p)
		return
	}
	var u *user
	switch p.action {
	case "join":
		u = s.randomUser(func(x *user) bool { return x.kind == human && x.state == active && !x.inGroup(g) })
		if u == nil {
			return
		}
		g.members = append(g.members, u)
		u.groups = append(u.groups, g)
	case "leave", "role":
		if len(g.members) < 2 {
			s.requeue(p)
			return
		}
		u = g.members[r.intn(len(g.members))]
		if p.action == "leave" {
			t = after(t, u.lastRef)
			g.members = removeUser(g.members, u)
			u.groups = removeGroup(u.groups, g)
		}
	}
	a := s.auditBase(actor, sess, t, p.action, p.obj)
	a.ObjectUUID, a.AuxID = events.Str(g.id), int64(r.between(100, 99999))
	a.AuxInfo = "M"
	if p.action == "role" || r.chance(0.1) {
		a.AuxInfo = "A"
	}
	s.setAuxUser(a, u)
	s.pushAudit(a, nil, actor, u)
}

func (s *Sim) groupVaultAction(actor *user, sess *session, t time.Time, p pair) {
	g := s.liveGroup(false)
	if g == nil {
		s.requeue(p)
		return
	}
	var v *vault
	switch p.action {
	case "grant":
		if v = s.sharedVault(false); v == nil || containsVault(g.vaults, v) {
			return
		}
		g.vaults = append(g.vaults, v)
	default:
		if len(g.vaults) == 0 {
			s.requeue(p)
			return
		}
		v = g.vaults[s.r.intn(len(g.vaults))]
		if p.action == "revoke" {
			t = after(t, v.lastUse)
			g.vaults = removeVault(g.vaults, v)
		}
	}
	a := s.auditBase(actor, sess, t, p.action, p.obj)
	a.ObjectUUID, a.AuxID, a.AuxUUID = events.Str(v.id), s.perms(), g.id
	s.pushAudit(a, v, actor)
}

func containsVault(l []*vault, v *vault) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Sim) userVaultAction(actor *user, sess *session, t time.Time, p pair) {
	var (
		u *user
		v *vault
	)
	switch p.action {
	case "grant":
		u = s.randomHuman(nil)
		if v = s.sharedVault(false); u == nil || v == nil || containsVault(u.vaults, v) {
			return
		}
		u.vaults = append(u.vaults, v)
	default:
		u = s.randomUser(func(x *user) bool { return x.kind == human && x.state == active && len(x.vaults) > 0 })
		if u == nil {
			s.requeue(p)
			s.userVaultAction(actor, sess, t, pair{"uva", "grant"})
			return
		}
		v = u.vaults[s.r.intn(len(u.vaults))]
		if p.action == "revoke" {
			t = after(t, u.lastRef)
			u.vaults = removeVault(u.vaults, v)
		}
	}
	s.uva(actor, sess, t, p.action, u, v)
}

func (s *Sim) uva(actor *user, sess *session, t time.Time, action string, u *user, v *vault) {
	a := s.auditBase(actor, sess, t, action, "uva")
	a.ObjectUUID, a.AuxID = events.Str(v.id), s.perms()
	s.setAuxUser(a, u)
	s.pushAudit(a, v, actor, u)
}

func (s *Sim) vaultAction(actor *user, sess *session, t time.Time, p pair) {
	r := s.r
	var v *vault
	switch p.action {
	case "create":
		v = s.newVault(pick(r, newVaultNames), true)
		v.temp, v.items = true, nil
		a := s.auditBase(actor, sess, t, p.action, p.obj)
		a.ObjectUUID = events.Str(v.id)
		s.pushAudit(a, v, actor)
		if actor.kind == human {
			actor.vaults = append(actor.vaults, v)
			s.uva(actor, sess, t.Add(r.dur(100*time.Millisecond, time.Second)), "grant", actor, v)
		}
		return
	case "delete":
		if v = s.sharedVault(true); v == nil {
			s.requeue(p)
			s.vaultAction(actor, sess, t, pair{"vault", "create"})
			return
		}
		t = after(t, v.lastUse)
		v.deleted = true
	case "purge":
		for _, x := range s.vaults {
			if x.deleted {
				v = x
			}
		}
		if v == nil {
			s.requeue(p)
			return
		}
		t = after(t, v.lastUse)
	default:
		v = s.sharedVault(false)
	}
	a := s.auditBase(actor, sess, t, p.action, p.obj)
	a.ObjectUUID = events.Str(v.id)
	if p.action == "updatea" {
		a.AuxInfo = v.name
	}
	s.pushAudit(a, v, actor)
}
