package adminapi

import (
	"net/http"
	"strings"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/apikey"
	"github.com/logbookhq/logbook/internal/store"
)

type meReply struct {
	Account admin.Account `json:"account"`
	User    admin.User    `json:"user"`
}

func (h *handler) me(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	acct, u := h.Admin.Me(a)
	writeJSON(w, http.StatusOK, meReply{Account: acct, User: u})
	return nil
}

func (h *handler) listUsers(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	us, err := h.Admin.Users(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(us))
	return nil
}

type addUserRequest struct {
	Email    string     `json:"email"`
	Name     string     `json:"name"`
	Role     store.Role `json:"role"`
	Password string     `json:"password"`
}

func (h *handler) addUser(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	var req addUserRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	u, err := h.Admin.AddUser(r.Context(), a, admin.NewUser{Email: req.Email, Name: req.Name, Role: req.Role, Password: req.Password})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

type updateUserRequest struct {
	Role store.Role `json:"role"`
}

func (h *handler) updateUser(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	var req updateUserRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	u, err := h.Admin.SetRole(r.Context(), a, r.PathValue("user"), req.Role)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (h *handler) listAPIKeys(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	ks, err := h.Admin.APIKeys(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(ks))
	return nil
}

type createAPIKeyRequest struct {
	Name string `json:"name"`
}

func (h *handler) createAPIKey(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	var req createAPIKeyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	k, err := h.Admin.CreateAPIKey(r.Context(), a, req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (h *handler) revokeAPIKey(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	k, err := h.Admin.RevokeAPIKey(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, k)
	return nil
}

func (h *handler) listIntegrations(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	ins, err := h.Admin.Integrations(r.Context(), a, r.URL.Query().Get("deleted") == "true")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(ins))
	return nil
}

type createIntegrationRequest struct {
	Name string `json:"name"`
	SIEM string `json:"siem"`
}

func (h *handler) createIntegration(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	var req createIntegrationRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	in, err := h.Admin.CreateIntegration(r.Context(), a, req.Name, req.SIEM)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, in)
	return nil
}

func (h *handler) showIntegration(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	d, err := h.Admin.Integration(r.Context(), a, r.PathValue("integration"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (h *handler) deleteIntegration(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	in, err := h.Admin.DeleteIntegration(r.Context(), a, r.PathValue("integration"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

func (h *handler) listIntegrationTokens(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	ts, err := h.Admin.Tokens(r.Context(), a, r.PathValue("integration"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(ts))
	return nil
}

type issueTokenRequest struct {
	Name      string   `json:"name"`
	Features  []string `json:"features"`
	ExpiresIn string   `json:"expires_in"`
}

func (h *handler) issueToken(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	var req issueTokenRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	t, err := h.Admin.IssueToken(r.Context(), a, admin.IssueRequest{Integration: r.PathValue("integration"),
		Name: req.Name, Features: req.Features, ExpiresIn: req.ExpiresIn})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (h *handler) listTokens(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	ts, err := h.Admin.Tokens(r.Context(), a, "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(ts))
	return nil
}

type renameTokenRequest struct {
	Name string `json:"name"`
}

func (h *handler) renameToken(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	var req renameTokenRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	t, err := h.Admin.RenameToken(r.Context(), a, r.PathValue("token"), req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (h *handler) revokeToken(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	t, err := h.Admin.RevokeToken(r.Context(), a, r.PathValue("token"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (h *handler) listIngestKeys(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	ks, err := h.Admin.IngestKeys(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(ks))
	return nil
}

type createIngestKeyRequest struct {
	Name string `json:"name"`
}

func (h *handler) createIngestKey(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	var req createIngestKeyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	k, err := h.Admin.CreateIngestKey(r.Context(), a, req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (h *handler) revokeIngestKey(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	ref := r.PathValue("key")
	if rest, ok := strings.CutPrefix(ref, apikey.Ingest.Prefix); ok && len(rest) > events.IDLen {
		// A whole key is a secret: it has no place in a URL, which proxies
		// and logs keep. Its id or the listed prefix names it.
		return &admin.Error{Kind: admin.ErrInvalid, Field: "key", Msg: "give the key's id or its prefix " + apikey.Ingest.Prefix + "<id> as listed, never the whole key"}
	}
	k, err := h.Admin.RevokeIngestKey(r.Context(), a, ref)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, k)
	return nil
}

func (h *handler) listSigningKeys(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	ks, err := h.Admin.SigningKeys(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(ks))
	return nil
}

func (h *handler) rotateSigningKey(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	k, err := h.Admin.RotateKey(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, k)
	return nil
}
