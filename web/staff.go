package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/dialogo-pa/dialogo/crm"
)

// teamView is a team with the topics by which the assistant hands
// conversations to it.
type teamView struct {
	crm.Team
	Topics []string `json:"topics"`
}

// teamViews lists the tenant's teams with their members and topics.
func (s *Server) teamViews(ctx context.Context, tenantID int64) ([]teamView, error) {
	ts, err := s.store.Teams(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	tts, err := s.store.TeamsTopics(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	topics := make(map[int64][]string, len(tts))
	for _, tt := range tts {
		topics[tt.TeamID] = tt.Topics
	}
	out := make([]teamView, len(ts))
	for i, t := range ts {
		out[i] = teamView{Team: t, Topics: topics[t.ID]}
		if out[i].Topics == nil {
			out[i].Topics = []string{}
		}
	}
	return out, nil
}

// listTeams lists the tenant's teams with their members and topics.
func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.teamViews(r.Context(), actorOf(r).TenantID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(ts, 0, nil))
}

type teamTopicsRequest struct {
	Topics *[]string `json:"topics"`
}

// setTeamTopics replaces the words of the subjects a team handles, by which
// the assistant picks the team to hand a conversation to, and returns the team.
func (s *Server) setTeamTopics(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "team_id")
	if err != nil {
		return err
	}
	var in teamTopicsRequest
	if err := decodeJSON(w, r, defaultBodyLimit, &in); err != nil {
		return err
	}
	// A missing list must not be read as "no topics", which would clear them.
	if in.Topics == nil {
		return crm.Invalid("topics", "is required: the words of the subjects the team handles, [] for none")
	}
	a := actorOf(r)
	if err := s.store.SetTeamTopics(r.Context(), a, id, *in.Topics); err != nil {
		return err
	}
	ts, err := s.teamViews(r.Context(), a.TenantID)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.ID == id {
			return writeJSON(w, http.StatusOK, t)
		}
	}
	// Deleted between the two statements.
	return fmt.Errorf("team %d: %w", id, crm.ErrNotFound)
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
