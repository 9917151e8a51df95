package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/store"
)

// roles are the roles a user can have, in the order the pages offer them.
var roles = []store.Role{store.RoleOwner, store.RoleAdmin, store.RoleMember}

// users lists the account's users, each with a form that changes its role
// (admin.Service.SetRole, as logbook user set-role).
func (h *handler) users(w http.ResponseWriter, r *http.Request, c *call) error {
	us, err := h.cfg.Admin.Users(r.Context(), c.actor)
	if err != nil {
		return err
	}
	v := struct {
		Users  []admin.User
		Roles  []store.Role
		Me     string
		Notice string
	}{Users: us, Roles: roles, Me: c.actor.User.UUID}
	q := r.URL.Query()
	for _, u := range us {
		switch u.UUID {
		case q.Get("added"):
			v.Notice = u.Email + " added as " + string(u.Role) + "."
		case q.Get("changed"):
			v.Notice = u.Email + " is now " + string(u.Role) + "."
		}
	}
	h.render(w, r, c, http.StatusOK, "users.html", "Users", "users", v)
	return nil
}

func (h *handler) setRole(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := h.cfg.Admin.SetRole(r.Context(), c.actor, r.PathValue("user"), store.Role(r.PostFormValue("role")))
	if err != nil {
		return err
	}
	http.Redirect(w, r, h.prefix+"/users?changed="+u.UUID, http.StatusSeeOther)
	return nil
}

type userForm struct {
	Email, Name string
	Role        store.Role
	Roles       []store.Role
	Error       string
	ErrorField  string
}

func (h *handler) newUser(w http.ResponseWriter, r *http.Request, c *call) error {
	h.showUserForm(w, r, c, http.StatusOK, userForm{Role: store.RoleMember})
	return nil
}

func (h *handler) showUserForm(w http.ResponseWriter, r *http.Request, c *call, status int, f userForm) {
	f.Roles = roles
	h.render(w, r, c, status, "user_new.html", "Add a user", "users", f)
}

// addUser adds a user as logbook user add does (admin.Service.AddUser),
// with an optional console password.
func (h *handler) addUser(w http.ResponseWriter, r *http.Request, c *call) error {
	f := userForm{Email: strings.TrimSpace(r.PostFormValue("email")), Name: r.PostFormValue("name"), Role: store.Role(r.PostFormValue("role"))}
	u, err := h.cfg.Admin.AddUser(r.Context(), c.actor, admin.NewUser{Email: f.Email, Name: f.Name, Role: f.Role, Password: r.PostFormValue("password")})
	if k := admin.KindOf(err); k == admin.ErrInvalid || k == admin.ErrConflict {
		f.Error = messageOf(err)
		var ae *admin.Error
		if errors.As(err, &ae) {
			f.ErrorField = ae.Field
		}
		h.showUserForm(w, r, c, http.StatusUnprocessableEntity, f)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, h.prefix+"/users?added="+u.UUID, http.StatusSeeOther)
	return nil
}
