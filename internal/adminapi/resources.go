package adminapi

import (
	"net/http"
	"strings"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/apikey"
	"github.com/logbookhq/logbook/internal/store"
)

// Each resource handler below is an admin operation on the request (its
// context, path values and query) by the actor; reply, replyList and
// replyBody in routes turn it into an actionFunc that writes its result.

// reply serves op, writing its result as JSON with status.
func reply[T any](status int, op func(r *http.Request, a admin.Actor) (T, error)) actionFunc {
	return func(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
		v, err := op(r, a)
		if err != nil {
			return err
		}
		writeJSON(w, status, v)
		return nil
	}
}

// replyList serves op, writing its items as a list (200).
func replyList[T any](op func(r *http.Request, a admin.Actor) ([]T, error)) actionFunc {
	return reply(http.StatusOK, func(r *http.Request, a admin.Actor) (list[T], error) {
		items, err := op(r, a)
		return listOf(items), err
	})
}

// replyBody decodes the request body into a Req, then serves op with it as
// reply does.
func replyBody[Req, T any](status int, op func(r *http.Request, a admin.Actor, req Req) (T, error)) actionFunc {
	return reply(status, func(r *http.Request, a admin.Actor) (T, error) {
		var req Req
		if err := decode(r, &req); err != nil {
			var zero T
			return zero, err
		}
		return op(r, a, req)
	})
}

// nameRequest is the body of the requests that give only a name: a new
// admin or ingest key's, or a token's new one.
type nameRequest struct {
	Name string `json:"name"`
}

type meReply struct {
	Account admin.Account `json:"account"`
	User    admin.User    `json:"user"`
}

func (h *handler) me(r *http.Request, a admin.Actor) (meReply, error) {
	acct, u := h.Admin.Me(a)
	return meReply{Account: acct, User: u}, nil
}

type serveWindowRequest struct {
	ServeWindow string `json:"serve_window"`
}

func (h *handler) setServeWindow(r *http.Request, a admin.Actor, req serveWindowRequest) (admin.Account, error) {
	w, err := admin.ParseServeWindow(req.ServeWindow)
	if err != nil {
		return admin.Account{}, err
	}
	return h.Admin.SetOwnServeWindow(r.Context(), a, w)
}

func (h *handler) listUsers(r *http.Request, a admin.Actor) ([]admin.User, error) {
	return h.Admin.Users(r.Context(), a)
}

type addUserRequest struct {
	Email    string     `json:"email"`
	Name     string     `json:"name"`
	Role     store.Role `json:"role"`
	Password string     `json:"password"`
}

func (h *handler) addUser(r *http.Request, a admin.Actor, req addUserRequest) (admin.User, error) {
	return h.Admin.AddUser(r.Context(), a, admin.NewUser{Email: req.Email, Name: req.Name, Role: req.Role, Password: req.Password})
}

type updateUserRequest struct {
	Role store.Role `json:"role"`
}

func (h *handler) updateUser(r *http.Request, a admin.Actor, req updateUserRequest) (admin.User, error) {
	return h.Admin.SetRole(r.Context(), a, r.PathValue("user"), req.Role)
}

func (h *handler) listAPIKeys(r *http.Request, a admin.Actor) ([]admin.APIKey, error) {
	return h.Admin.APIKeys(r.Context(), a)
}

func (h *handler) createAPIKey(r *http.Request, a admin.Actor, req nameRequest) (admin.NewAPIKey, error) {
	return h.Admin.CreateAPIKey(r.Context(), a, req.Name)
}

func (h *handler) revokeAPIKey(r *http.Request, a admin.Actor) (admin.APIKey, error) {
	return h.Admin.RevokeAPIKey(r.Context(), a, r.PathValue("id"))
}

func (h *handler) listIntegrations(r *http.Request, a admin.Actor) ([]admin.Integration, error) {
	return h.Admin.Integrations(r.Context(), a, r.URL.Query().Get("deleted") == "true")
}

type createIntegrationRequest struct {
	Name string `json:"name"`
	SIEM string `json:"siem"`
}

func (h *handler) createIntegration(r *http.Request, a admin.Actor, req createIntegrationRequest) (admin.Integration, error) {
	return h.Admin.CreateIntegration(r.Context(), a, req.Name, req.SIEM)
}

func (h *handler) showIntegration(r *http.Request, a admin.Actor) (admin.IntegrationDetails, error) {
	return h.Admin.Integration(r.Context(), a, r.PathValue("integration"))
}

func (h *handler) deleteIntegration(r *http.Request, a admin.Actor) (admin.Integration, error) {
	return h.Admin.DeleteIntegration(r.Context(), a, r.PathValue("integration"))
}

func (h *handler) listIntegrationTokens(r *http.Request, a admin.Actor) ([]admin.Token, error) {
	return h.Admin.Tokens(r.Context(), a, r.PathValue("integration"))
}

type issueTokenRequest struct {
	Name      string   `json:"name"`
	Features  []string `json:"features"`
	ExpiresIn string   `json:"expires_in"`
}

func (h *handler) issueToken(r *http.Request, a admin.Actor, req issueTokenRequest) (admin.Issued, error) {
	return h.Admin.IssueToken(r.Context(), a, admin.IssueRequest{Integration: r.PathValue("integration"),
		Name: req.Name, Features: req.Features, ExpiresIn: req.ExpiresIn})
}

func (h *handler) listTokens(r *http.Request, a admin.Actor) ([]admin.Token, error) {
	return h.Admin.Tokens(r.Context(), a, "")
}

func (h *handler) renameToken(r *http.Request, a admin.Actor, req nameRequest) (admin.Token, error) {
	return h.Admin.RenameToken(r.Context(), a, r.PathValue("token"), req.Name)
}

func (h *handler) revokeToken(r *http.Request, a admin.Actor) (admin.Token, error) {
	return h.Admin.RevokeToken(r.Context(), a, r.PathValue("token"))
}

func (h *handler) listIngestKeys(r *http.Request, a admin.Actor) ([]admin.IngestKey, error) {
	return h.Admin.IngestKeys(r.Context(), a)
}

func (h *handler) createIngestKey(r *http.Request, a admin.Actor, req nameRequest) (admin.NewIngestKey, error) {
	return h.Admin.CreateIngestKey(r.Context(), a, req.Name)
}

func (h *handler) revokeIngestKey(r *http.Request, a admin.Actor) (admin.IngestKey, error) {
	ref := r.PathValue("key")
	if rest, ok := strings.CutPrefix(ref, apikey.Ingest.Prefix); ok && len(rest) > events.IDLen {
		// A whole key is a secret: it has no place in a URL, which proxies
		// and logs keep. Its id or the listed prefix names it.
		return admin.IngestKey{}, &admin.Error{Kind: admin.ErrInvalid, Field: "key", Msg: "give the key's id or its prefix " + apikey.Ingest.Prefix + "<id> as listed, never the whole key"}
	}
	return h.Admin.RevokeIngestKey(r.Context(), a, ref)
}

func (h *handler) listSigningKeys(r *http.Request, a admin.Actor) ([]admin.SigningKey, error) {
	return h.Admin.SigningKeys(r.Context(), a)
}

func (h *handler) rotateSigningKey(r *http.Request, a admin.Actor) (admin.SigningKey, error) {
	return h.Admin.RotateKey(r.Context(), a)
}
