package simulate

import (
	"strconv"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
)

// userKind says how a member of the organisation behaves.
type userKind int

const (
	human       userKind = iota
	serviceAcct          // a service account: CLI sessions around the clock, server fetches
	provisioner          // the SCIM bridge's provision manager
)

type userState int

const (
	active userState = iota
	suspended
	deleted
)

type role int

const (
	member role = iota
	admin
	owner
)

type user struct {
	id          string
	first, last name
	display     string // current display name
	email       string
	kind        userKind
	role        role
	state       userState
	home        *city
	ip          string // home address
	mfa         string // "", "totp", "u2f", "duo", "platform_secret", "code"
	sso         bool
	workStart   int // local hour
	workEnd     int
	devices     []*device
	groups      []*group
	vaults      []*vault // direct (user-vault) access
	private     *vault
	sess        *session
	trip        *trip
	travelMode  bool
	engineer    bool // uses the CLI now and then
	emailAlt    bool // e-mail has been changed to the alternative form
	history     []former
	since       time.Time // not active before (new hires)
	lastRef     time.Time // latest timestamp of an event naming u
}

// ref returns u as events name them at t: with the name and e-mail
// address u had then.
func (u *user) ref(t time.Time) events.User {
	name, email := u.display, u.email
	for i := len(u.history) - 1; i >= 0; i-- {
		if t.Before(u.history[i].since) {
			name, email = u.history[i].display, u.history[i].email
		} else {
			break
		}
	}
	return events.User{UUID: u.id, Name: name, Email: email}
}

func (u *user) refPtr(t time.Time) *events.User {
	r := u.ref(t)
	return &r
}

// rename records that from t on, u is called display at email.
func (u *user) rename(t time.Time, display, email string) {
	u.history = append(u.history, former{since: t, display: u.display, email: u.email})
	u.display, u.email = display, email
}

// former is a name u had before since.
type former struct {
	since          time.Time
	display, email string
}

type deviceKind int

const (
	desktop deviceKind = iota
	extension
	web
	mobile
	cli
	scim
)

type device struct {
	id     string
	kind   deviceKind
	client events.Client // without IPAddress
	// old is a 1Password 7 client (item usages report action "other").
	old bool
}

type session struct {
	id      string
	login   time.Time
	expires time.Time
	dev     *device
	ip      string
	place   *city
}

type trip struct {
	to         *city
	ip         string
	start, end time.Time
}

type group struct {
	id      string
	name    string
	members []*user
	vaults  []*vault
	builtin bool
	deleted bool
}

type vault struct {
	id      string
	name    string
	shared  bool
	temp    bool // created during the run; may be deleted again
	deleted bool
	items   []*item
	patches int64 // the per-vault counter carried in patch/items aux_id
	lastUse time.Time
}

type item struct {
	id      string
	version int
}

// inGroup reports whether u is in g, asked from u's side: a person is in a
// few groups, while Team Members holds everyone. Both lists change together.
func (u *user) inGroup(g *group) bool {
	for _, x := range u.groups {
		if x == g {
			return true
		}
	}
	return false
}

// sharedVaults appends the shared vaults u may use to dst.
func (u *user) sharedVaults(dst []*vault) []*vault {
	add := func(v *vault) {
		if v.deleted || !v.shared {
			return
		}
		for _, x := range dst {
			if x == v {
				return
			}
		}
		dst = append(dst, v)
	}
	for _, v := range u.vaults {
		add(v)
	}
	for _, g := range u.groups {
		for _, v := range g.vaults {
			add(v)
		}
	}
	return dst
}

func ipIn(r *rng, c *city) string {
	var b []byte
	b = strconv.AppendInt(b, int64(c.prefix[0]), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(c.prefix[1]), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(r.intn(256)), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(1+r.intn(254)), 10)
	return string(b)
}

// buildOrg creates the organisation: users, groups, vaults with items and
// devices. It emits no events: the account existed before the run.
func (s *Sim) buildOrg() {
	r := s.r
	co := companies[r.intn(len(companies))]
	s.company, s.domain = co.name, co.domain
	if s.cfg.Domain != "" {
		s.domain = s.cfg.Domain
	}
	for _, c := range homeCities {
		c := c
		s.locs = append(s.locs, &c)
	}
	s.locCache = map[*city]*events.Location{}

	// Groups that every account has, then departments.
	for _, n := range []string{"Owners", "Administrators", "Recovery", "Team Members"} {
		s.groups = append(s.groups, &group{id: r.id(), name: n, builtin: true})
	}
	depts := make([]*group, len(departments))
	for i, d := range departments {
		depts[i] = &group{id: r.id(), name: d}
		s.groups = append(s.groups, depts[i])
	}
	for i, d := range departments {
		for _, vn := range deptVaults[d] {
			v := s.newVault(vn, true)
			depts[i].vaults = append(depts[i].vaults, v)
		}
	}
	everyone := s.newVault("Shared", true)
	s.groups[3].vaults = append(s.groups[3].vaults, everyone)
	s.groups[0].vaults = append(s.groups[0].vaults, s.newVault("Company Admin", true))

	for i := 0; i < s.cfg.Users; i++ {
		u := s.newHuman()
		switch {
		case i == 0:
			u.role = owner
		case i < 1+max(1, s.cfg.Users/12):
			u.role = admin
		}
		s.join(u)
		dept := depts[r.intn(len(depts))]
		if i > 0 && i <= len(depts) {
			dept = depts[i-1]
		}
		dept.members = append(dept.members, u)
		u.groups = append(u.groups, dept)
		u.engineer = dept.name == "Engineering" || dept.name == "Infrastructure" || dept.name == "Security"
		if u.engineer {
			u.devices = append(u.devices, s.newDevice(u, cli))
		}
	}
	// Service accounts read shared vaults of engineering and
	// infrastructure from CI runners.
	for i, n := range []string{"Deploy Bot", "Terraform Cloud"} {
		dc := &dataCentres[i%len(dataCentres)]
		u := &user{id: r.id(), first: name{n, ""}, display: n, kind: serviceAcct, home: dc}
		u.email = strings.ToLower(strings.ReplaceAll(n, " ", "-")) + "@" + r.lid()[:8] + ".1passwordserviceaccounts.example"
		u.ip = ipIn(r, dc)
		u.devices = []*device{s.newDevice(u, cli)}
		u.vaults = append(u.vaults, depts[0].vaults[1], depts[1].vaults[1])
		s.users = append(s.users, u)
	}
	dc := &dataCentres[len(dataCentres)-1]
	s.scim = &user{id: r.id(), first: name{"Provision Manager", ""}, display: "Provision Manager", kind: provisioner, home: dc, role: admin}
	s.scim.email = "provision-manager@" + s.domain
	s.scim.ip = ipIn(r, dc)
	s.scim.devices = []*device{s.newDevice(s.scim, scim)}
	s.users = append(s.users, s.scim)
}

func (s *Sim) newVault(n string, shared bool) *vault {
	v := &vault{id: s.r.lid(), name: n, shared: shared, patches: int64(s.r.between(5, 400))}
	for range s.r.between(4, 30) {
		v.items = append(v.items, &item{id: s.r.lid(), version: s.r.between(1, 12)})
	}
	s.vaults = append(s.vaults, v)
	return v
}

// namePicks is how many random name pairs newHuman tries before it
// numbers an address: organisations far smaller than the 3,000 pairs
// (all the simulator had before) keep the names a seed always gave them.
const namePicks = 64

// newHuman makes a person with a unique e-mail address, devices and a
// private vault. The caller adds them to s.users and groups.
func (s *Sim) newHuman() *user {
	r := s.r
	var f, l name
	email := ""
	b := s.emailBuf[:0]
	for range namePicks {
		f, l = pick(r, firstNames), pick(r, lastNames)
		b = append(append(append(append(append(b[:0], f.ascii...), '.'), l.ascii...), '@'), s.domain...)
		if !s.emails[string(b)] { // no allocation for the lookup
			email = string(b)
			break
		}
	}
	// Past that, most pairs are taken (or the organisation has more
	// people than pairs): the last pair gets the first free number, as
	// a directory would hand out jane.doe2.
	for n := 2; email == ""; n++ {
		b = append(append(append(append(b[:0], f.ascii...), '.'), l.ascii...), strconv.Itoa(n)...)
		b = append(append(b, '@'), s.domain...)
		if !s.emails[string(b)] {
			email = string(b)
		}
	}
	s.emailBuf = b
	s.emails[email] = true
	u := &user{id: r.id(), first: f, last: l, display: f.display + " " + l.display, email: email}
	u.home = s.locs[r.intn(len(s.locs))]
	u.ip = ipIn(r, u.home)
	u.mfa = pick(r, []string{"", "", "totp", "totp", "u2f", "duo", "platform_secret", "code"})
	u.sso = r.chance(0.2)
	u.workStart = r.between(7, 10)
	u.workEnd = u.workStart + r.between(8, 10)
	u.devices = append(u.devices, s.newDevice(u, desktop), s.newDevice(u, extension))
	if r.chance(0.6) {
		u.devices = append(u.devices, s.newDevice(u, mobile))
	}
	if r.chance(0.3) {
		u.devices = append(u.devices, s.newDevice(u, web))
	}
	u.private = s.newVault("Private", false)
	return u
}

// join adds u to the account and the Team Members group.
func (s *Sim) join(u *user) {
	s.users = append(s.users, u)
	s.groups[3].members = append(s.groups[3].members, u)
	u.groups = append(u.groups, s.groups[3])
	if u.role == owner {
		s.groups[0].members = append(s.groups[0].members, u)
		u.groups = append(u.groups, s.groups[0])
	}
	if u.role >= admin {
		s.groups[1].members = append(s.groups[1].members, u)
		u.groups = append(u.groups, s.groups[1])
	}
}

func (s *Sim) newDevice(u *user, k deviceKind) *device {
	r := s.r
	d := &device{id: r.lid(), kind: k}
	host := strings.ToLower(u.first.ascii)
	if host == "" {
		host = "runner"
	}
	var os, osv string
	switch r.intn(10) {
	case 0, 1, 2, 3, 4:
		os, osv = "MacOSX", pick(r, macOSVersions)
	case 5, 6, 7, 8:
		os, osv = "Windows", pick(r, winVersions)
	default:
		os, osv = "Linux", pick(r, linuxVersions)
	}
	c := events.Client{AppVersion: pick(r, appVersions), OSName: os, OSVersion: osv}
	switch k {
	case desktop:
		d.old = r.chance(0.08)
		if d.old {
			c.AppVersion = oldAppVersion
		}
		switch os {
		case "MacOSX":
			c.AppName, c.PlatformName, c.PlatformVersion = "1Password for Mac", host+"s-MacBook-Pro.local", pick(r, macModels)
		case "Windows":
			c.AppName, c.PlatformName, c.PlatformVersion = "1Password for Windows", "DESKTOP-"+strings.ToUpper(r.lid()[:7]), "x86_64"
		default:
			c.AppName, c.PlatformName, c.PlatformVersion = "1Password for Linux", host+"-thinkpad", "x86_64"
		}
	case extension, web:
		b := browsers[r.intn(len(browsers))]
		if b.name == "Safari" && os != "MacOSX" {
			b = browsers[0]
		}
		c.AppName, c.PlatformName, c.PlatformVersion = "1Password Browser Extension", b.name, pick(r, b.versions)
		if k == web {
			c.AppName, c.AppVersion = "1Password for Web", pick(r, webVersions)
		}
	case mobile:
		if r.chance(0.5) {
			c.AppName, c.PlatformName, c.PlatformVersion, c.OSName, c.OSVersion = "1Password for iOS", pick(r, iPhoneModels), "arm64", "iOS", pick(r, iosVersions)
		} else {
			c.AppName, c.PlatformName, c.PlatformVersion, c.OSName, c.OSVersion = "1Password for Android", pick(r, androidModels), "arm64", "Android", pick(r, androidVersions)
		}
	case cli:
		c.AppName, c.AppVersion = "1Password CLI", pick(r, cliVersions)
		if u.kind == serviceAcct {
			c.PlatformName, c.PlatformVersion, c.OSName, c.OSVersion = "gh-runner-"+r.lid()[:6], "amd64", "Linux", pick(r, linuxVersions)
		} else {
			c.PlatformName, c.PlatformVersion = host+"-workstation", pick(r, []string{"amd64", "arm64"})
		}
	case scim:
		c.AppName, c.AppVersion, c.PlatformName, c.PlatformVersion, c.OSName, c.OSVersion = "1Password SCIM Bridge", scimVersion, "scim-bridge."+s.domain, "amd64", "Linux", pick(r, linuxVersions)
	}
	d.client = c
	return d
}
