package assistant

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/knowledge"
)

// route picks the team whose topics the conversation mentions most: the
// citizen's words count twice, the assistant's (the titles of the pages it
// quoted) once. It returns 0, the conversation's own team, when no team's
// topic is mentioned or two teams tie.
func route(teams []crm.TeamTopics, history []crm.Message) int64 {
	var citizen, bot []string
	for _, m := range history {
		switch m.AuthorKind {
		case crm.AuthorCitizen:
			citizen = append(citizen, knowledge.Terms(m.Text)...)
		case crm.AuthorAssistant:
			bot = append(bot, knowledge.Terms(m.Text)...)
		}
	}
	count := func(words []string, topic []string) int {
		n := 0
		for i := 0; i+len(topic) <= len(words); i++ {
			match := true
			for j, t := range topic {
				if !termsMatch(words[i+j], t) {
					match = false
					break
				}
			}
			if match {
				n++
			}
		}
		return n
	}
	var best int64
	bestScore, tie := 0, false
	for _, team := range teams {
		score := 0
		for _, topic := range team.Topics {
			terms := knowledge.Terms(topic)
			if len(terms) == 0 {
				continue
			}
			score += 2*count(citizen, terms) + count(bot, terms)
		}
		switch {
		case score > bestScore:
			best, bestScore, tie = team.TeamID, score, false
		case score == bestScore && score > 0:
			tie = true
		}
	}
	if tie {
		return 0
	}
	return best
}

// clip shortens a message for the summary to its first line of up to n characters.
func clip(text string, n int) string {
	text = strings.TrimSpace(text)
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = strings.TrimSpace(text[:i]) + " …"
	}
	if utf8.RuneCountInString(text) > n {
		text = string([]rune(text)[:n]) + "…"
	}
	return text
}

// summary tells the operator what the citizen asked and what the assistant
// answered, most recent last, in Italian (the staff's language).
func summary(reason string, history []crm.Message) string {
	p := texts["it"]
	var asked, answered []string
	for _, m := range history {
		switch m.AuthorKind {
		case crm.AuthorCitizen:
			if strings.TrimSpace(m.Text) != "" {
				asked = append(asked, "• "+clip(m.Text, 200))
			} else if len(m.Attachments) > 0 {
				asked = append(asked, "• [allegato: "+clip(m.Attachments[0].Name, 80)+"]")
			}
		case crm.AuthorAssistant:
			if !m.Private {
				answered = append(answered, "• "+clip(m.Text, 160))
			}
		}
	}
	last := func(xs []string, n int) []string {
		if len(xs) > n {
			return append([]string{fmt.Sprintf("• (%d messaggi precedenti)", len(xs)-n)}, xs[len(xs)-n:]...)
		}
		return xs
	}
	var b strings.Builder
	fmt.Fprintf(&b, p.summaryTitle, p.reasons[reason])
	b.WriteString("\n")
	b.WriteString(p.summaryAsked)
	b.WriteString("\n")
	b.WriteString(strings.Join(last(asked, 6), "\n"))
	if len(answered) > 0 {
		b.WriteString("\n")
		b.WriteString(p.summaryBot)
		b.WriteString("\n")
		b.WriteString(strings.Join(last(answered, 4), "\n"))
	}
	return b.String()
}

// handoff prepares the move to a team's queue and what the citizen is told:
// the team, their place in the queue and the expected wait, or, with nobody
// on duty, the office hours and the other ways to reach the ente.
func (a *Assistant) handoff(ctx context.Context, t crm.AssistantTurn, lang, reason, lead string, emergency bool) (string, *crm.Handoff, error) {
	teams, err := a.cfg.Store.TeamsTopics(ctx, t.TenantID)
	if err != nil {
		return "", nil, err
	}
	teamID := route(teams, t.History)
	queue := teamID // the team whose queue the conversation joins
	if queue == 0 {
		queue = t.TeamID
	}
	if queue == 0 && len(teams) > 0 {
		queue = teams[0].TeamID
	}
	teamName := ""
	for _, tm := range teams {
		if tm.TeamID == queue {
			teamName = tm.Name
		}
	}
	q, err := a.cfg.Store.TeamQueueInfo(ctx, t.TenantID, queue)
	if err != nil {
		return "", nil, err
	}
	settings, err := a.cfg.Store.AssistantSettings(ctx, t.TenantID)
	if err != nil {
		return "", nil, err
	}
	p := texts[lang]
	var parts []string
	if emergency {
		parts = append(parts, p.emergency)
	}
	if lead != "" {
		parts = append(parts, lead)
	}
	parts = append(parts, fmt.Sprintf(p.handoff, teamName))
	if q.OnDuty > 0 {
		line := fmt.Sprintf(p.position, q.Waiting+1)
		if q.AverageWait > 0 {
			minutes := int(q.AverageWait.Minutes()) * (q.Waiting + 1) / max(q.OnDuty, 1)
			line += fmt.Sprintf(p.wait, max(minutes, 1))
		}
		parts = append(parts, line+p.onDuty)
	} else {
		parts = append(parts, p.nobodyOnDuty)
		if settings.OfficeHours != "" {
			parts = append(parts, fmt.Sprintf(p.officeHours, settings.OfficeHours))
		}
		if settings.Alternatives != "" {
			parts = append(parts, fmt.Sprintf(p.alternatives, settings.Alternatives))
		}
	}
	return strings.Join(parts, " "), &crm.Handoff{Reason: reason, TeamID: teamID, Summary: summary(reason, t.History)}, nil
}
