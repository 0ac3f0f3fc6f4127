package web

import (
	"net/http"

	"github.com/dialogo-pa/dialogo/crm"
)

// handlerFunc is the shape of every handler: it writes a success, or returns the
// error for endpoint to render as a problem.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one endpoint. Path is a ServeMux pattern path and, with the same
// wildcards, the OpenAPI path template: openapi_test.go holds the two together.
type route struct {
	method string
	path   string
	access access
	handle handlerFunc
}

// access says who may call a route.
type access struct {
	public bool       // no credentials needed
	roles  []crm.Role // one of them is required (admins hold every role); none: any authenticated caller
}

var (
	public        = access{public: true}
	authenticated = access{}
	// contactReaders see contacts, identities, consents and suggestions: the
	// contact centre and the communication staff who build audiences, not the
	// knowledge editors.
	contactReaders = access{roles: []crm.Role{crm.RoleOperator, crm.RoleSupervisor, crm.RoleCommunication}}
	// desk is the contact centre: conversations, merges, the fascicolo.
	desk        = access{roles: []crm.Role{crm.RoleOperator, crm.RoleSupervisor}}
	supervisors = access{roles: []crm.Role{crm.RoleSupervisor}}
	admins      = access{roles: []crm.Role{crm.RoleAdmin}}
	// knowledgeEditors keep the assistant's knowledge base.
	knowledgeEditors = access{roles: []crm.Role{crm.RoleKnowledgeEditor}}
	// answerReviewers read why the assistant answered what it did: the
	// knowledge editors, to mend the knowledge base, and the supervisors.
	answerReviewers = access{roles: []crm.Role{crm.RoleKnowledgeEditor, crm.RoleSupervisor}}
)

// routes is the server's route table: every endpoint, in one place. The ids in
// paths are named after what they identify, so that a test can fill them in.
func (s *Server) routes() []route {
	return []route{
		{"GET", "/healthz", public, s.healthz},
		{"GET", "/metrics", public, s.metricsHandler()},
		{"GET", "/api/openapi.json", public, serveOpenAPI},

		{"POST", "/api/v1/session", public, s.login},
		{"DELETE", "/api/v1/session", authenticated, s.logout},
		{"GET", "/api/v1/me", authenticated, s.me},

		{"GET", "/api/v1/contacts", contactReaders, s.searchContacts},
		{"GET", "/api/v1/contacts/{contact_id}", contactReaders, s.getContact},
		{"POST", "/api/v1/contacts/{contact_id}/merge", desk, s.mergeContacts},
		{"GET", "/api/v1/contacts/{contact_id}/suggestions", contactReaders, s.contactSuggestions},
		{"GET", "/api/v1/contacts/{contact_id}/identities", contactReaders, s.listIdentities},
		{"POST", "/api/v1/contacts/{contact_id}/identities", desk, s.addIdentity},
		{"GET", "/api/v1/contacts/{contact_id}/consents", contactReaders, s.listConsents},
		{"POST", "/api/v1/contacts/{contact_id}/consents", contactReaders, s.recordConsent},
		{"GET", "/api/v1/contacts/{contact_id}/fascicolo", desk, s.getFascicolo},
		{"GET", "/api/v1/merge-suggestions", contactReaders, s.listSuggestions},
		{"POST", "/api/v1/merge-suggestions/{suggestion_id}/dismiss", desk, s.dismissSuggestion},

		{"GET", "/api/v1/conversations", desk, s.listConversations},
		{"GET", "/api/v1/conversations/{conversation_id}", desk, s.getConversation},
		{"POST", "/api/v1/conversations/{conversation_id}/assign", desk, s.assignConversation},
		{"POST", "/api/v1/conversations/{conversation_id}/resolve", desk, s.resolveConversation},
		{"POST", "/api/v1/conversations/{conversation_id}/reopen", desk, s.reopenConversation},
		{"POST", "/api/v1/conversations/{conversation_id}/messages", desk, s.postMessage},
		{"POST", "/api/v1/conversations/{conversation_id}/handback", desk, s.handBack},
		{"GET", "/api/v1/conversations/{conversation_id}/handoff", desk, s.getHandoff},

		{"POST", "/api/v1/fascicolo/import", admins, s.importFascicolo},

		{"GET", "/api/v1/audit", supervisors, s.auditLog},
		{"GET", "/api/v1/assistant/settings", authenticated, s.getAssistantSettings},
		{"PUT", "/api/v1/assistant/settings", admins, s.setAssistantSettings},
		{"GET", "/api/v1/assistant/answers", answerReviewers, s.listAssistantAnswers},
		{"DELETE", "/api/v1/knowledge/sources", knowledgeEditors, s.removeKnowledgeSource},

		{"GET", "/api/v1/teams", authenticated, s.listTeams},
		{"PUT", "/api/v1/teams/{team_id}/topics", admins, s.setTeamTopics},
		{"GET", "/api/v1/staff", desk, s.listStaff},
		{"POST", "/api/v1/tokens", admins, s.createToken},
	}
}
