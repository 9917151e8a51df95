package console

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
)

// siemTile is a SIEM as the pages show it, without anyone's logo
// artwork: its name, a two-letter mark on its colour (static/console.css,
// .tile-SLUG) and what its connector is.
type siemTile struct {
	Name, Slug, Mark, Blurb string
}

// siemLooks are each SIEM's mark and the one line that says which of its
// connectors reads the Events API.
var siemLooks = map[string]struct{ mark, blurb string }{
	"Splunk":             {"Sp", "1Password Events Reporting add-on for Splunk, from Splunkbase"},
	"Elastic":            {"El", "Elastic Agent's 1Password integration, set up in Fleet"},
	"Datadog":            {"Dd", "Datadog's 1Password integration, for logs and Cloud SIEM"},
	"Sumo Logic":         {"SL", "Sumo Logic's 1Password Cloud-to-Cloud source"},
	"Panther":            {"Pa", "Panther's 1Password log source"},
	"Microsoft Sentinel": {"MS", "Microsoft Sentinel's 1Password data connector"},
	"Other":              {"{}", "Any Events API client: eventsapibeat, Cribl, scripts, logbook forward"},
}

// siemTileOf is the tile of the SIEM named siem (admin.SIEMs); an unknown
// one looks like Other.
func siemTileOf(siem string) siemTile {
	l, ok := siemLooks[siem]
	if !ok {
		l = siemLooks["Other"]
	}
	return siemTile{Name: siem, Slug: siemSlug(siem), Mark: l.mark, Blurb: l.blurb}
}

func siemTiles() []siemTile {
	out := make([]siemTile, len(admin.SIEMs))
	for i, s := range admin.SIEMs {
		out[i] = siemTileOf(s)
	}
	return out
}

func (h *handler) integrations(w http.ResponseWriter, r *http.Request, c *call) error {
	ins, err := h.cfg.Admin.Integrations(r.Context(), c.actor, false)
	if err != nil {
		return err
	}
	v := struct {
		Integrations []admin.Integration
		Tiles        []siemTile
		Deleted      string // the name of the integration just deleted
	}{Integrations: ins, Tiles: siemTiles()}
	if id := r.URL.Query().Get("deleted"); id != "" {
		all, err := h.cfg.Admin.Integrations(r.Context(), c.actor, true)
		if err != nil {
			return err
		}
		for _, in := range all {
			if in.UUID == id && !in.DeletedAt.IsZero() {
				v.Deleted = in.Name
			}
		}
	}
	h.render(w, r, c, http.StatusOK, "integrations.html", "Integrations", "integrations", v)
	return nil
}

type integrationForm struct {
	SIEM, Name, Error string
}

func (h *handler) newIntegration(w http.ResponseWriter, r *http.Request, c *call) error {
	siem, err := admin.ParseSIEM(r.URL.Query().Get("type"))
	if err != nil {
		return &pageError{http.StatusNotFound, "Unknown SIEM", messageOf(err)}
	}
	h.render(w, r, c, http.StatusOK, "integration_new.html", "Add "+siem+" integration", "integrations", integrationForm{SIEM: siem})
	return nil
}

func (h *handler) createIntegration(w http.ResponseWriter, r *http.Request, c *call) error {
	f := integrationForm{SIEM: r.PostFormValue("siem"), Name: r.PostFormValue("name")}
	in, err := h.cfg.Admin.CreateIntegration(r.Context(), c.actor, f.Name, f.SIEM)
	if k := admin.KindOf(err); k == admin.ErrInvalid || k == admin.ErrConflict {
		f.Error = messageOf(err)
		if siem, perr := admin.ParseSIEM(f.SIEM); perr == nil {
			f.SIEM = siem
		} else {
			f.SIEM = "Other"
		}
		h.render(w, r, c, http.StatusUnprocessableEntity, "integration_new.html", "Add "+f.SIEM+" integration", "integrations", f)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, h.prefix+"/integrations/"+in.UUID+"/tokens/new?setup=1", http.StatusSeeOther)
	return nil
}

func (h *handler) integrationDetails(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := h.cfg.Admin.Integration(r.Context(), c.actor, r.PathValue("integration"))
	if err != nil {
		return err
	}
	h.render(w, r, c, http.StatusOK, "integration.html", d.Name, "integrations", struct {
		admin.IntegrationDetails
		Revoked, Renamed string
	}{d, r.URL.Query().Get("revoked"), r.URL.Query().Get("renamed")})
	return nil
}

type tokenForm struct {
	Integration admin.Integration
	Setup       bool
	Name        string
	Expires     string
	Features    map[events.Feature]bool
	AllFeatures []events.Feature
	Expiries    []expiryChoice
	Error       string
}

type expiryChoice struct{ Value, Label string }

var expiries = []expiryChoice{{"30d", "30 days"}, {"90d", "90 days"}, {"180d", "180 days"}, {"never", "Never"}}

func (h *handler) newToken(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := h.cfg.Admin.Integration(r.Context(), c.actor, r.PathValue("integration"))
	if err != nil {
		return err
	}
	f := tokenForm{Integration: d.Integration, Setup: r.URL.Query().Get("setup") == "1", Expires: "never",
		Features: map[events.Feature]bool{events.SignInAttempts: true, events.ItemUsages: true, events.AuditEvents: true}}
	return h.showTokenForm(w, r, c, http.StatusOK, f)
}

func (h *handler) showTokenForm(w http.ResponseWriter, r *http.Request, c *call, status int, f tokenForm) error {
	// The order 1Password's page lists them in.
	f.AllFeatures = []events.Feature{events.SignInAttempts, events.ItemUsages, events.AuditEvents}
	f.Expiries = expiries
	h.render(w, r, c, status, "token_new.html", "Set up token", "integrations", f)
	return nil
}

func (h *handler) issueToken(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	d, err := h.cfg.Admin.Integration(ctx, c.actor, r.PathValue("integration"))
	if err != nil {
		return err
	}
	_ = r.ParseForm()
	f := tokenForm{Integration: d.Integration, Setup: r.PostFormValue("setup") == "1",
		Name: r.PostFormValue("name"), Expires: r.PostFormValue("expires"), Features: map[events.Feature]bool{}}
	names := []string{} // non-nil: none checked is an error, not "all"
	for _, v := range r.PostForm["features"] {
		names = append(names, v)
		f.Features[events.Feature(v)] = true
	}
	it, err := h.cfg.Admin.IssueToken(ctx, c.actor, admin.IssueRequest{Integration: d.UUID, Name: f.Name,
		Features: names, ExpiresIn: f.Expires})
	if admin.KindOf(err) == admin.ErrInvalid {
		f.Error = messageOf(err)
		return h.showTokenForm(w, r, c, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	if err := h.sessions.putSecret(ctx, c.raw, it.ID, secretSlot{secret: it.Secret, integration: d.UUID, name: it.Name}); err != nil {
		return fmt.Errorf("keep token %s for the save page: %w", it.ID, err)
	}
	http.Redirect(w, r, fmt.Sprintf("%s/integrations/%s/tokens/%s/saved", h.prefix, d.UUID, it.ID), http.StatusSeeOther)
	return nil
}

// tokenOf returns the token tokenID of the integration in the request's
// path, or ErrNotFound.
func (h *handler) tokenOf(r *http.Request, c *call) (admin.IntegrationDetails, admin.Token, error) {
	d, err := h.cfg.Admin.Integration(r.Context(), c.actor, r.PathValue("integration"))
	if err != nil {
		return d, admin.Token{}, err
	}
	id := strings.ToLower(r.PathValue("token"))
	for _, t := range d.TokenList {
		if t.ID == id {
			return d, t, nil
		}
	}
	return d, admin.Token{}, &admin.Error{Kind: admin.ErrNotFound, Field: "token", Msg: "no such token"}
}

type savedView struct {
	Integration admin.Integration
	Token       admin.Token
	Secret      string
	FileName    string
	Curl        string
	Shown       bool
}

func (h *handler) savedToken(w http.ResponseWriter, r *http.Request, c *call) error {
	d, t, err := h.tokenOf(r, c)
	if err != nil {
		return err
	}
	v := savedView{Integration: d.Integration, Token: t, FileName: tokenFileName(t.Name)}
	sl, ok, err := h.sessions.takeSecret(r.Context(), c.raw, t.ID, false)
	if err != nil {
		return err
	}
	if ok && sl.integration == d.UUID {
		v.Secret = sl.secret
		feature := events.AuditEvents
		if len(t.Features) > 0 {
			feature = t.Features[0]
		}
		v.Curl = fmt.Sprintf("curl -sS -X POST %s/api/v2/%s \\\n  -H \"Authorization: Bearer $(cat %s)\" \\\n  -H 'Content-Type: application/json' \\\n  -d '{\"limit\":5}'",
			h.cfg.PublicURL, feature, v.FileName)
	} else {
		v.Shown = true
	}
	h.render(w, r, c, http.StatusOK, "token_saved.html", "Save your token", "integrations", v)
	return nil
}

func (h *handler) downloadToken(w http.ResponseWriter, r *http.Request, c *call) error {
	d, t, err := h.tokenOf(r, c)
	if err != nil {
		return err
	}
	sl, ok, err := h.sessions.takeSecret(r.Context(), c.raw, t.ID, true)
	if err != nil {
		return err
	}
	if !ok || sl.integration != d.UUID {
		return &pageError{http.StatusGone, "Download no longer available",
			"A token can be downloaded once, in the session that issued it, for ten minutes. If you did not save it, revoke it and issue another."}
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", tokenFileName(t.Name)))
	hd.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(sl.secret + "\n"))
	return nil
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// tokenFileName is the download's name: the token's name made safe.
func tokenFileName(name string) string {
	s := strings.Trim(unsafeFileChars.ReplaceAllString(name, "-"), "-.")
	if s == "" {
		s = "events-api"
	}
	return s + ".token"
}

func (h *handler) confirmRevoke(w http.ResponseWriter, r *http.Request, c *call) error {
	d, t, err := h.tokenOf(r, c)
	if err != nil {
		return err
	}
	h.render(w, r, c, http.StatusOK, "token_revoke.html", "Revoke token", "integrations", struct {
		Integration admin.Integration
		Token       admin.Token
	}{d.Integration, t})
	return nil
}

func (h *handler) revokeToken(w http.ResponseWriter, r *http.Request, c *call) error {
	d, t, err := h.tokenOf(r, c)
	if err != nil {
		return err
	}
	if _, err := h.cfg.Admin.RevokeToken(r.Context(), c.actor, t.ID); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("%s/integrations/%s?revoked=%s", h.prefix, d.UUID, t.ID), http.StatusSeeOther)
	return nil
}

func (h *handler) confirmDeleteIntegration(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := h.cfg.Admin.Integration(r.Context(), c.actor, r.PathValue("integration"))
	if err != nil {
		return err
	}
	h.render(w, r, c, http.StatusOK, "integration_delete.html", "Delete integration", "integrations", d)
	return nil
}

// deleteIntegration deletes an integration and revokes its tokens, as
// logbook integration delete does (admin.Service.DeleteIntegration).
func (h *handler) deleteIntegration(w http.ResponseWriter, r *http.Request, c *call) error {
	in, err := h.cfg.Admin.DeleteIntegration(r.Context(), c.actor, r.PathValue("integration"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, h.prefix+"/integrations?deleted="+in.UUID, http.StatusSeeOther)
	return nil
}

type renameView struct {
	Integration admin.Integration
	Token       admin.Token
	Name, Error string
}

func (h *handler) renameTokenForm(w http.ResponseWriter, r *http.Request, c *call) error {
	d, t, err := h.tokenOf(r, c)
	if err != nil {
		return err
	}
	h.render(w, r, c, http.StatusOK, "token_rename.html", "Rename token", "integrations", renameView{d.Integration, t, t.Name, ""})
	return nil
}

// renameToken renames a token as logbook token rename does
// (admin.Service.RenameToken).
func (h *handler) renameToken(w http.ResponseWriter, r *http.Request, c *call) error {
	d, t, err := h.tokenOf(r, c)
	if err != nil {
		return err
	}
	name := r.PostFormValue("name")
	if _, err := h.cfg.Admin.RenameToken(r.Context(), c.actor, t.ID, name); admin.KindOf(err) == admin.ErrInvalid {
		h.render(w, r, c, http.StatusUnprocessableEntity, "token_rename.html", "Rename token", "integrations",
			renameView{d.Integration, t, name, messageOf(err)})
		return nil
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("%s/integrations/%s?renamed=%s", h.prefix, d.UUID, t.ID), http.StatusSeeOther)
	return nil
}
