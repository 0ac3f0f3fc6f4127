package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/dialogo-pa/dialogo/crm"
)

// The actions on a conversation. Each is a form POST that goes back to the
// conversation with a message (or, for console.js, answers JSON); a refusal the
// operator can understand (the conversation is resolved, a colleague is at
// their maximum) goes back with the reason instead of an error page.

func conversationPath(id int64) string {
	return "/console/conversations/" + strconv.FormatInt(id, 10)
}

// action runs a change on the conversation of the path and answers.
func (c *Console) action(w http.ResponseWriter, r *http.Request, rq *request, success string,
	change func(id int64) error) error {
	id, err := pathID(r, "conversation_id")
	if err != nil {
		return err
	}
	back := conversationPath(id)
	if err := change(id); err != nil {
		// Another ente's conversation, or no such conversation: a 404 page,
		// not a message on a page that does not exist.
		if errors.Is(err, crm.ErrNotFound) {
			return err
		}
		return &actionError{err: err, message: c.actionMessage(rq.lang, err), back: back}
	}
	return c.done(w, r, rq, back, texts.T(rq.lang, success))
}

// actionMessage explains a refused action to the operator.
func (c *Console) actionMessage(lang string, err error) string {
	var fe *crm.FieldError
	switch {
	case errors.Is(err, errAssistantOff):
		return texts.T(lang, "handback.assistant_off")
	case errors.As(err, &fe):
		if key := "invalid." + fe.Field; texts[key] != nil {
			return texts.T(lang, key)
		}
		return texts.T(lang, "error.invalid", fe.Field, fe.Reason)
	case errors.Is(err, crm.ErrConflict):
		return texts.T(lang, "error.action_conflict", err.Error())
	case errors.Is(err, crm.ErrForbidden):
		return texts.T(lang, "error.action_forbidden")
	}
	return ""
}

// reply stores the operator's reply, to go out on the conversation's channel,
// or a private note. The form's client_id makes a resubmission harmless.
func (c *Console) reply(w http.ResponseWriter, r *http.Request, rq *request) error {
	private := r.PostFormValue("kind") == "note"
	text := strings.TrimRight(strings.ReplaceAll(r.PostFormValue("text"), "\r\n", "\n"), " \n\t")
	clientID := r.PostFormValue("client_id")
	success := "reply.sent"
	if private {
		success = "note.saved"
	}
	return c.action(w, r, rq, success, func(id int64) error {
		_, err := c.store.PostReply(r.Context(), rq.actor(), id, crm.Reply{Text: text, Private: private, ClientID: clientID})
		return err
	})
}

// take assigns the conversation to the operator who asks.
func (c *Console) take(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.action(w, r, rq, "take.done", func(id int64) error {
		_, err := c.store.Assign(r.Context(), rq.actor(), id, crm.Assignment{AssigneeID: &rq.staff.ID})
		return err
	})
}

// transfer gives the conversation to a team's queue ("team:<id>") or, for a
// supervisor, to a colleague ("staff:<id>").
func (c *Console) transfer(w http.ResponseWriter, r *http.Request, rq *request) error {
	kind, idText, _ := strings.Cut(r.PostFormValue("to"), ":")
	target, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || target <= 0 || (kind != "team" && kind != "staff") {
		target, kind = 0, ""
	}
	return c.action(w, r, rq, "transfer.done", func(id int64) error {
		var as crm.Assignment
		switch kind {
		case "team":
			as.TeamID = &target
		case "staff":
			as.AssigneeID = &target
		default:
			return crm.Invalid("to", "choose a team or a colleague")
		}
		_, err := c.store.Assign(r.Context(), rq.actor(), id, as)
		return err
	})
}

// setTags replaces the conversation's tags with the comma-separated list.
func (c *Console) setTags(w http.ResponseWriter, r *http.Request, rq *request) error {
	tags := strings.Split(r.PostFormValue("tags"), ",")
	return c.action(w, r, rq, "tags.saved", func(id int64) error {
		_, err := c.store.SetTags(r.Context(), rq.actor(), id, tags)
		return err
	})
}

func (c *Console) setPriority(w http.ResponseWriter, r *http.Request, rq *request) error {
	p, err := strconv.Atoi(r.PostFormValue("priority"))
	if err != nil {
		p = -1
	}
	return c.action(w, r, rq, "priority.saved", func(id int64) error {
		_, err := c.store.SetPriority(r.Context(), rq.actor(), id, p)
		return err
	})
}

func (c *Console) resolve(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.action(w, r, rq, "resolve.done", func(id int64) error {
		_, err := c.store.SetStatus(r.Context(), rq.actor(), id, true)
		return err
	})
}

func (c *Console) reopen(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.action(w, r, rq, "reopen.done", func(id int64) error {
		_, err := c.store.SetStatus(r.Context(), rq.actor(), id, false)
		return err
	})
}

// handBack gives the conversation back to the virtual assistant, which
// answers the citizen's next messages. An ente whose assistant is off has
// nobody to give it to.
func (c *Console) handBack(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.action(w, r, rq, "handback.done", func(id int64) error {
		settings, err := c.store.AssistantSettings(r.Context(), rq.staff.TenantID)
		if err != nil {
			return err
		}
		if !settings.Enabled {
			return errAssistantOff
		}
		_, err = c.store.HandBack(r.Context(), rq.actor(), id)
		return err
	})
}

// errAssistantOff refuses to hand a conversation back to an assistant that
// does not answer.
var errAssistantOff = fmt.Errorf("%w: the ente's virtual assistant is off", crm.ErrConflict)

// setAvailability switches the operator between available and away.
func (c *Console) setAvailability(w http.ResponseWriter, r *http.Request, rq *request) error {
	back := localPath(r.PostFormValue("return"), "/console")
	av := crm.Availability(r.PostFormValue("availability"))
	if err := c.store.SetAvailability(r.Context(), rq.actor(), av); err != nil {
		return &actionError{err: err, message: c.actionMessage(rq.lang, err), back: back}
	}
	if rq.fetch {
		writeJSON(w, http.StatusOK, map[string]any{"available": av == crm.Available,
			"state": texts.T(rq.lang, "availability."+string(av))})
		return nil
	}
	return c.done(w, r, rq, back, texts.T(rq.lang, "availability.saved."+string(av)))
}
