package adminapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/logcap"
	"github.com/logbookhq/logbook/internal/sandbox"
	"github.com/logbookhq/logbook/internal/scorecard"
	"github.com/logbookhq/logbook/internal/store"
)

// ScorecardFunc returns the scorecard of the token id of account, or an
// error wrapping store.ErrNotFound when the account has no such token.
type ScorecardFunc func(ctx context.Context, account, id string) (scorecard.Card, error)

const maxScenario = 1 << 20

func mustManage(a admin.Actor, what string) error {
	if a.User.Role == store.RoleOwner || a.User.Role == store.RoleAdmin {
		return nil
	}
	return &admin.Error{Kind: admin.ErrForbidden, Msg: fmt.Sprintf("only owners and administrators may %s; %s is a %s", what, a.User.Email, a.User.Role)}
}

// sandboxFor checks that this server runs a sandbox and, when what is not
// empty, that the actor may do what to it.
func (h *handler) sandboxFor(a admin.Actor, what string) error {
	if h.Scenarios == nil {
		return &admin.Error{Kind: admin.ErrNotFound, Msg: "this server runs no sandbox"}
	}
	if what == "" {
		return nil
	}
	return mustManage(a, what)
}

// scenarioOf returns the scenario loaded for the actor's account.
func (h *handler) scenarioOf(a admin.Actor) (sandbox.Status, error) {
	st, ok := h.Scenarios.Current()
	if !ok || (st.Account != "" && st.Account != a.Account.UUID) {
		return sandbox.Status{}, &admin.Error{Kind: admin.ErrNotFound, Msg: "no scenario is loaded for your account"}
	}
	return st, nil
}

// putScenario loads a scenario (YAML or JSON body) for the actor's
// account, replacing any loaded one.
func (h *handler) putScenario(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	if err := h.sandboxFor(a, "load scenarios"); err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxScenario+1))
	if err != nil || len(body) > maxScenario {
		return &admin.Error{Kind: admin.ErrInvalid, Field: "body", Msg: fmt.Sprintf("unreadable or larger than %d bytes", maxScenario)}
	}
	sc, err := sandbox.Parse(body)
	if err != nil {
		var pe *sandbox.PathError
		if errors.As(err, &pe) {
			return &admin.Error{Kind: admin.ErrInvalid, Field: pe.Path, Msg: pe.Reason}
		}
		return &admin.Error{Kind: admin.ErrInvalid, Field: "body", Msg: err.Error()}
	}
	// Through the admin API a scenario applies to the caller's account.
	switch sc.Account {
	case "", a.Account.Name:
		sc.Account = a.Account.Name
	default:
		return &admin.Error{Kind: admin.ErrInvalid, Field: "account", Msg: fmt.Sprintf("must be your account, %q, or empty", a.Account.Name)}
	}
	l, err := h.Scenarios.Load(r.Context(), sc)
	if err != nil {
		return err
	}
	h.Logger.Info("scenario loaded through the admin API", "account", a.Account.UUID, "by", a.User.UUID, "name", logcap.String(sc.Name))
	writeJSON(w, http.StatusOK, l.Status)
	return nil
}

func (h *handler) getScenario(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	if err := h.sandboxFor(a, ""); err != nil {
		return err
	}
	st, err := h.scenarioOf(a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (h *handler) deleteScenario(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	if err := h.sandboxFor(a, "unload scenarios"); err != nil {
		return err
	}
	if _, err := h.scenarioOf(a); err != nil {
		return err
	}
	h.Scenarios.Clear()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) tokenScorecard(w http.ResponseWriter, r *http.Request, a admin.Actor) error {
	if h.Scorecard == nil {
		return &admin.Error{Kind: admin.ErrNotFound, Msg: "this server keeps no scorecards"}
	}
	id := r.PathValue("token")
	sc, err := h.Scorecard(r.Context(), a.Account.UUID, id)
	if errors.Is(err, store.ErrNotFound) {
		return &admin.Error{Kind: admin.ErrNotFound, Field: "token", Msg: fmt.Sprintf("no token %q in your account", id)}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sc)
	return nil
}
