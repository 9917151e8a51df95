package console

import (
	"fmt"
	"net/http"
	"time"

	"github.com/logbookhq/logbook/internal/admin"
)

// keys shows the server's signing keys and the signed-in user's admin API
// keys, as logbook keys list and logbook admin-key list do.
func (h *handler) keys(w http.ResponseWriter, r *http.Request, c *call) error {
	sk, err := h.cfg.Admin.SigningKeys(r.Context(), c.actor)
	if err != nil {
		return err
	}
	ak, err := h.cfg.Admin.APIKeys(r.Context(), c.actor)
	if err != nil {
		return err
	}
	v := struct {
		Signing []admin.SigningKey
		Admin   []admin.APIKey
		Notice  string
	}{Signing: sk, Admin: ak}
	q := r.URL.Query()
	for _, k := range sk {
		if k.ID == q.Get("rotated") {
			v.Notice = "New tokens are now signed with key " + k.ID + "; the older keys still verify the tokens they signed."
		}
	}
	for _, k := range ak {
		if k.ID == q.Get("revoked") {
			v.Notice = "Admin key “" + k.Name + "” revoked. Requests with it now get 401."
		}
	}
	h.render(w, r, c, http.StatusOK, "keys.html", "Keys", "keys", v)
	return nil
}

// confirmView is what confirm.html shows: a question, what it does, and a
// form that posts to Action.
type confirmView struct {
	Back, BackName, Crumb string
	Question, Text        string
	Action, Label         string
}

func (h *handler) confirmRotate(w http.ResponseWriter, r *http.Request, c *call) error {
	h.render(w, r, c, http.StatusOK, "confirm.html", "Rotate signing key", "keys", confirmView{
		Back: h.prefix + "/keys", BackName: "Keys", Crumb: "Rotate signing key", Question: "Rotate the signing key?",
		Text:   "A new key signs every token issued from now on, on every account of this server. Tokens already issued keep working: the older keys still verify them.",
		Action: h.prefix + "/keys/rotate", Label: "Rotate Key"})
	return nil
}

// rotateKey makes a new signing key, as logbook keys rotate does
// (admin.Service.RotateKey).
func (h *handler) rotateKey(w http.ResponseWriter, r *http.Request, c *call) error {
	k, err := h.cfg.Admin.RotateKey(r.Context(), c.actor)
	if err != nil {
		return err
	}
	http.Redirect(w, r, h.prefix+"/keys?rotated="+k.ID, http.StatusSeeOther)
	return nil
}

// createAdminKey makes an admin API key acting as the signed-in user, as
// logbook admin-key create does, keeps its secret in the session's slot
// and sends the browser to the page that shows it once (so reloading that
// page does not make another key).
func (h *handler) createAdminKey(w http.ResponseWriter, r *http.Request, c *call) error {
	k, err := h.cfg.Admin.CreateAPIKey(r.Context(), c.actor, r.PostFormValue("name"))
	if err != nil {
		return err
	}
	return h.keepKey(w, r, c, adminKeyPage, k.ID, k.Name, k.Secret)
}

// savedAdminKey shows a new admin key's secret once.
func (h *handler) savedAdminKey(w http.ResponseWriter, r *http.Request, c *call) error {
	k, err := h.adminKeyOf(r, c)
	if err != nil {
		return err
	}
	return h.showKey(w, r, c, adminKeyPage, k.ID, k.Name, k.CreatedAt)
}

// keySavedView is what key_saved.html shows once: a new admin or ingest
// key's secret, what the key is for, and the page to go back to; Shown
// when the secret was shown before (or its slot expired).
type keySavedView struct {
	Title, Nav       string
	Kind, Label, Use string
	Back, BackName   string // Back is below the console's prefix
	Name, ID, Secret string
	CreatedAt        time.Time
	Shown            bool
	slot             string // the marker of its kind in the session's secret slot
	path             string // below the console's prefix, before the key's ID
}

var (
	adminKeyPage = keySavedView{Title: "Save your admin key", Nav: "keys", Kind: "admin key", Label: "Admin API key",
		Use: "It acts as you, with your role, on /admin/api/v1/.", Back: "/keys", BackName: "Keys", slot: "admin-key", path: "/keys/admin/"}
	ingestKeyPage = keySavedView{Title: "Save your ingest key", Nav: "ingest-keys", Kind: "ingest key", Label: "Ingest key",
		Use:  "It writes events into this account through POST /api/v2/ingest/… (or a forwarder's remote logbook sink).",
		Back: "/ingest-keys", BackName: "Ingest keys", slot: "ingest-key", path: "/ingest-keys/"}
)

// keepKey seals a new key's secret into the session's slot, as a new
// token's is, and redirects (303) to the page that shows it.
func (h *handler) keepKey(w http.ResponseWriter, r *http.Request, c *call, v keySavedView, id, name, secret string) error {
	if err := h.sessions.putSecret(r.Context(), c.raw, id, secretSlot{secret: secret, integration: v.slot, name: name}); err != nil {
		return fmt.Errorf("keep %s %s for the save page: %w", v.Kind, id, err)
	}
	http.Redirect(w, r, h.prefix+v.path+id+"/saved", http.StatusSeeOther)
	return nil
}

// showKey answers with the page that shows a new key's secret, taken from
// the session's slot once (not cached, not shown again).
func (h *handler) showKey(w http.ResponseWriter, r *http.Request, c *call, v keySavedView, id, name string, created time.Time) error {
	sl, ok, err := h.sessions.takeSecret(r.Context(), c.raw, id, false)
	if err != nil {
		return err
	}
	v.Back = h.prefix + v.Back
	v.ID, v.Name, v.CreatedAt = id, name, created
	if ok && sl.integration == v.slot {
		v.Secret = sl.secret
	} else {
		v.Shown = true
	}
	h.render(w, r, c, http.StatusOK, "key_saved.html", v.Title, v.Nav, v)
	return nil
}

// adminKeyOf finds the signed-in user's admin key named in the path.
func (h *handler) adminKeyOf(r *http.Request, c *call) (admin.APIKey, error) {
	ks, err := h.cfg.Admin.APIKeys(r.Context(), c.actor)
	return pathItem(r, "key", ks, err, func(k admin.APIKey) string { return k.ID }, "no such admin key of yours")
}

func (h *handler) confirmRevokeAdminKey(w http.ResponseWriter, r *http.Request, c *call) error {
	k, err := h.adminKeyOf(r, c)
	if err != nil {
		return err
	}
	h.render(w, r, c, http.StatusOK, "confirm.html", "Revoke admin key", "keys", confirmView{
		Back: h.prefix + "/keys", BackName: "Keys", Crumb: "Revoke admin key", Question: "Revoke “" + k.Name + "”?",
		Text:   "Whatever calls the admin API with this key stops at once: its next request gets 401 Unauthorized. This cannot be undone.",
		Action: h.prefix + "/keys/admin/" + k.ID + "/revoke", Label: "Revoke Key"})
	return nil
}

// revokeAdminKey revokes one of the user's admin keys, as logbook
// admin-key revoke does (admin.Service.RevokeAPIKey).
func (h *handler) revokeAdminKey(w http.ResponseWriter, r *http.Request, c *call) error {
	k, err := h.adminKeyOf(r, c)
	if err != nil {
		return err
	}
	if _, err := h.cfg.Admin.RevokeAPIKey(r.Context(), c.actor, k.ID); err != nil {
		return err
	}
	http.Redirect(w, r, h.prefix+"/keys?revoked="+k.ID, http.StatusSeeOther)
	return nil
}
