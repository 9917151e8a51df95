package console

import (
	"fmt"
	"net/http"
	"time"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/store"
)

// defaultServeWindow is the server's serving window when Config.ServeWindow
// is zero: the API's own default (api.DefaultRetention, spec §4.6).
const defaultServeWindow = 120 * 24 * time.Hour

// accountView is the account page: the account and its serving window.
type accountView struct {
	Account store.Account
	// Window says how far back the API serves the account's events;
	// Default is the server's window and ServedSince the oldest time
	// served now (zero when forever).
	Window      string
	Default     string
	ServedSince time.Time
	// Choice and Span are the form's values: "default", "forever" or
	// "span", and the span typed.
	Choice, Span string
	Error        string
	Saved        bool
}

// account shows the account and its serving window, with a form that sets
// it as logbook account serve-window does.
func (h *handler) account(w http.ResponseWriter, r *http.Request, c *call) error {
	v := h.accountView(c.actor.Account)
	v.Saved = r.URL.Query().Get("saved") == "1"
	h.render(w, r, c, http.StatusOK, "account.html", "Account", "account", v)
	return nil
}

func (h *handler) accountView(a store.Account) accountView {
	def := h.cfg.ServeWindow
	if def <= 0 {
		def = defaultServeWindow
	}
	v := accountView{Account: a, Default: admin.FormatServeWindow(def), Choice: "default"}
	w := a.ServeWindow
	switch {
	case w == store.ServeForever:
		v.Window, v.Choice = "forever", "forever"
	case w == 0:
		v.Window = v.Default + " (the server's default)"
		w = def
	default:
		v.Window, v.Choice, v.Span = admin.FormatServeWindow(w), "span", admin.FormatServeWindow(w)
	}
	if w > 0 {
		v.ServedSince = h.now().Add(-w)
	}
	return v
}

// setServeWindow sets the account's serving window through the function
// logbook account serve-window and the admin API use
// (admin.Service.SetServeWindow, here as SetOwnServeWindow: owners and
// administrators of the account). Like them it deletes nothing and
// records no audit event.
func (h *handler) setServeWindow(w http.ResponseWriter, r *http.Request, c *call) error {
	choice, span := r.PostFormValue("window"), r.PostFormValue("span")
	value := choice
	switch choice {
	case "default", "forever":
	case "span":
		value = span
	default:
		return &pageError{http.StatusBadRequest, "Cannot do that", fmt.Sprintf("Serving window: %q is not default, forever or span", choice)}
	}
	d, err := admin.ParseServeWindow(value)
	if err == nil {
		_, err = h.cfg.Admin.SetOwnServeWindow(r.Context(), c.actor, d)
	}
	if admin.KindOf(err) == admin.ErrInvalid {
		v := h.accountView(c.actor.Account)
		v.Choice, v.Span, v.Error = choice, span, messageOf(err)
		h.render(w, r, c, http.StatusUnprocessableEntity, "account.html", "Account", "account", v)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, h.prefix+"/account?saved=1", http.StatusSeeOther)
	return nil
}
