package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/dialogo-pa/dialogo/crm"
)

// outcome is where a demo conversation is left.
type outcome int

const (
	// outcomeResolved: the operator answered every turn and resolved it.
	outcomeResolved outcome = iota
	// outcomeAssigned: the operator answered, the citizen wrote again and waits.
	outcomeAssigned
	// outcomeQueued: waiting in the team's queue; nobody has answered yet.
	outcomeQueued
	// outcomeHandedOver: the supervisor gave it to an operator, who has not answered yet.
	outcomeHandedOver
)

// maxOpenPerOperator keeps each operator's open conversations under the
// default limit of concurrent conversations (5), so that whoever tries the demo
// can still take or assign a conversation.
const maxOpenPerOperator = 3

// conversation is a planned conversation of a person.
type conversation struct {
	Key      string // unique among the person's conversations
	Channel  crm.Channel
	From     crm.IdentityClaim
	Thread   string
	Topic    topic
	Outcome  outcome
	Operator int  // index in the comune's staff of the operator who answers
	Nudge    bool // a queued conversation where the citizen wrote twice
}

// Turns returns how many turns of the topic are played for the outcome.
func (cv conversation) Turns() int {
	switch cv.Outcome {
	case outcomeAssigned:
		return min(3, len(cv.Topic.Turns))
	case outcomeQueued, outcomeHandedOver:
		return 1
	}
	return len(cv.Topic.Turns)
}

// conversations plans every person's conversations. Like people, it depends
// only on its inputs.
func conversations(c comune, ps []person) [][]conversation {
	r := rand.New(rand.NewPCG(c.Seed, 0xc0117))
	var operators []int
	for i, st := range c.Staff {
		if slices.Contains(st.Roles, crm.RoleOperator) {
			operators = append(operators, i)
		}
	}
	open := make(map[int]int) // open conversations per operator
	turn := 0

	plans := make([][]conversation, len(ps))
	for i := range ps {
		p := &ps[i]
		var cvs []conversation
		add := func(ch crm.Channel, from crm.IdentityClaim, thread string) {
			cvs = append(cvs, conversation{Key: fmt.Sprintf("c%d", len(cvs)+1), Channel: ch, From: from, Thread: thread})
		}
		spid := crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale, ExternalID: p.CF, Verified: true, VerifiedBy: p.LoginBy,
			GivenName: p.Given, FamilyName: p.Family, Email: p.Email}
		telegram := crm.IdentityClaim{Kind: crm.IdentityTelegram, ExternalID: p.Telegram, GivenName: p.Given, FamilyName: p.Family}
		email := crm.IdentityClaim{Kind: crm.IdentityEmail, ExternalID: p.Email, DisplayName: p.FullName()}
		emailThread := func() string {
			return fmt.Sprintf("<demo.%s.%d.%d@%s>", c.Slug, p.Index, len(cvs)+1, emailDomain(p.Email))
		}

		switch p.Profile {
		case profileUnified:
			add(crm.ChannelTelegram, telegram, p.Telegram)
			add(crm.ChannelWebchat, spid, "")
			confirmed := email
			confirmed.Verified, confirmed.VerifiedBy = true, crm.VerifiedEmailLink
			add(crm.ChannelEmail, confirmed, emailThread())
		case profileSPID:
			for range 1 + r.IntN(2) {
				add(crm.ChannelWebchat, spid, "")
			}
		case profileEmailDup:
			add(crm.ChannelEmail, email, emailThread())
		case profileEmail:
			for range 1 + r.IntN(2) {
				add(crm.ChannelEmail, email, emailThread())
			}
		case profileTelegram:
			add(crm.ChannelTelegram, telegram, p.Telegram)
		case profileWebchat:
			visitor := crm.IdentityClaim{Kind: crm.IdentityWebchat, ExternalID: p.Visitor}
			if p.Named {
				visitor.GivenName, visitor.FamilyName = p.Given, p.Family
			}
			add(crm.ChannelWebchat, visitor, "")
		}

		used := map[string]bool{}
		for k := range cvs {
			cv := &cvs[k]
			for {
				cv.Topic = pick(r, topics)
				if !used[cv.Topic.Key] && (!cv.Topic.NeedsChild || p.Child.Name != "") {
					break
				}
			}
			used[cv.Topic.Key] = true

			switch x := r.IntN(100); {
			case x < 60:
				cv.Outcome = outcomeResolved
			case x < 77:
				cv.Outcome = outcomeAssigned
			case x < 92:
				cv.Outcome = outcomeQueued
				cv.Nudge = r.IntN(3) == 0
			default:
				cv.Outcome = outcomeHandedOver
			}
			// One thread holds one open conversation: all but the person's last
			// on a thread are resolved.
			for _, later := range cvs[k+1:] {
				if later.Channel == cv.Channel && later.Thread == cv.Thread {
					cv.Outcome = outcomeResolved
				}
			}

			// The least busy operator of the team answers.
			best := -1
			for j := range operators {
				op := operators[(turn+j)%len(operators)]
				if slices.Contains(c.Staff[op].Teams, cv.Topic.Team) && (best < 0 || open[op] < open[best]) {
					best = op
				}
			}
			turn++
			cv.Operator = best
			if cv.Outcome == outcomeAssigned || cv.Outcome == outcomeHandedOver {
				if open[best] >= maxOpenPerOperator {
					if cv.Outcome == outcomeAssigned {
						cv.Outcome = outcomeResolved
					} else {
						cv.Outcome = outcomeQueued
					}
				} else {
					open[best]++
				}
			}
		}
		plans[i] = cvs
	}
	return plans
}

func emailDomain(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}

// consentDecision is one consent a person gave or withdrew.
type consentDecision struct {
	Channel    string
	Purpose    string
	Granted    bool
	Source     string
	ByOperator bool // recorded by an operator at the front office, else by the citizen online
	OnSecond   bool // on the person's second contact (the one their unverified e-mail made)
}

// consents plans a person's consent history, oldest first.
func consents(c comune, p *person) []consentDecision {
	r := rand.New(rand.NewPCG(c.Seed, 2<<32|uint64(p.Index)))
	var ds []consentDecision
	add := func(ch, purpose string, granted bool, source string) {
		ds = append(ds, consentDecision{Channel: ch, Purpose: purpose, Granted: granted, Source: source})
	}
	if p.Profile.hasCF() {
		if r.IntN(100) < 70 {
			add("appio", crm.PurposeService, true, "App IO – preferenze del servizio")
		}
		if r.IntN(100) < 50 {
			add("email", crm.PurposeService, true, "Area personale – accesso con "+strings.ToUpper(p.LoginBy))
		}
		if r.IntN(100) < 35 {
			add("email", crm.PurposeInformation, true, "Iscrizione alla newsletter dal sito")
			if r.IntN(100) < 20 {
				add("email", crm.PurposeInformation, false, "Link di cancellazione nella newsletter")
			}
		}
		if r.IntN(100) < 10 {
			add("sms", crm.PurposeService, true, "Sportello anagrafe – modulo firmato")
			ds[len(ds)-1].ByOperator = true
		}
		if r.IntN(100) < 5 {
			add("phone", crm.PurposeInformation, false, "Sportello tributi – modulo firmato")
			ds[len(ds)-1].ByOperator = true
		}
	}
	if p.Profile == profileTelegram || p.Profile == profileUnified {
		add("telegram", crm.PurposeService, true, "Bot Telegram – avvio della conversazione")
		if r.IntN(100) < 40 {
			add("telegram", crm.PurposeInformation, true, "Bot Telegram – comando /notizie")
		}
	}
	if p.Profile == profileEmail || p.Profile == profileEmailDup {
		add("email", crm.PurposeService, true, "Risposta per e-mail – informativa privacy accettata")
		ds[len(ds)-1].OnSecond = p.Profile == profileEmailDup
	}
	if p.Profile == profileWebchat && p.Named && r.IntN(100) < 30 {
		add("webchat", crm.PurposeInformation, true, "Web chat – modulo di contatto")
	}
	return ds
}
