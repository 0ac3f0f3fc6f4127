package web

import (
	"net/http"

	"github.com/dialogo-pa/dialogo/crm"
)

// listTeams lists the tenant's teams with their members.
func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.store.Teams(r.Context(), actorOf(r).TenantID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(ts, 0, nil))
}

// listStaff lists the tenant's staff, for instance to pick an assignee.
func (s *Server) listStaff(w http.ResponseWriter, r *http.Request) error {
	st, err := s.store.StaffList(r.Context(), actorOf(r).TenantID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(st, 0, nil))
}

type tokenRequest struct {
	Name  string     `json:"name"`
	Roles []crm.Role `json:"roles"`
}

type tokenResponse struct {
	Token crm.APIToken `json:"token"`
	// Secret is the bearer credential. It is shown here once: only its hash is kept.
	Secret string `json:"secret"`
}

// createToken makes an API token for an integration.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var in tokenRequest
	if err := decodeJSON(w, r, defaultBodyLimit, &in); err != nil {
		return err
	}
	t, secret, err := s.store.CreateAPIToken(r.Context(), actorOf(r), in.Name, in.Roles)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, tokenResponse{Token: t, Secret: secret})
}
