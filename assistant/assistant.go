// Package assistant is the virtual assistant that answers citizens first, on
// every channel: from the ente's knowledge base (and the shared metropolitan
// one) with its sources, from the citizen's own fascicolo when they have
// proven who they are, and otherwise honestly says it does not know. It hands
// the conversation to the right team's queue when the citizen asks for a
// person, is in difficulty, or it fails repeatedly, with a summary for the
// operator, and falls silent from then on.
//
// The assistant sees CRM conversations and messages, never a channel: the
// web chat, e-mail and Telegram share this code. With a language model
// configured (any langchaingo llms.Model: OpenAI-compatible, Ollama) it
// writes a grounded answer from the retrieved passages; without one it
// quotes the best passage with its link.
package assistant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tmc/langchaingo/llms"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/knowledge"
)

// Config is what the assistant needs.
type Config struct {
	Store    *crm.Store
	Pool     *pgxpool.Pool
	Embedder knowledge.Embedder
	// Model writes answers from the retrieved passages; nil gives extractive
	// answers. ModelName is recorded with each answer it writes.
	Model     llms.Model
	ModelName string
	// ModelTimeout bounds one call to the model (default 30 s); past it, the
	// assistant answers extractively.
	ModelTimeout time.Duration
	// MinConfidence is the confidence below which the assistant says it does
	// not know (default DefaultMinConfidence).
	MinConfidence float64
	// MaxFailures is how many unanswered questions in a row hand the
	// conversation to an operator (default 2).
	MaxFailures int
	// Workers is how many conversations are answered at once (default 4).
	Workers int
	// Tenants limits the assistant to these entes; empty: every ente.
	Tenants []int64
	Hub     *crm.Hub // wakes the assistant on new messages; nil: it polls
	Log     *slog.Logger
	// SourceLink gives the address of a page of the knowledge base that has
	// no URL of its own (a file), from the slug of the ente that holds it;
	// nil: such pages are cited by title only.
	SourceLink func(enteSlug, sourceName string) string
	// Now is the clock (tests); nil: time.Now.
	Now func() time.Time
}

// DefaultMinConfidence was chosen on the development set of the demo
// knowledge base (see docs/BENCHMARKS.md): below it, the best passage
// usually answers another question.
const DefaultMinConfidence = 0.6

// Assistant answers the conversations that are with it.
type Assistant struct {
	cfg     Config
	answers *prometheus.CounterVec
	latency prometheus.Histogram
}

// New returns an assistant; Run makes it work.
func New(cfg Config) *Assistant {
	if cfg.MinConfidence == 0 {
		cfg.MinConfidence = DefaultMinConfidence
	}
	if cfg.MaxFailures == 0 {
		cfg.MaxFailures = 2
	}
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	if cfg.ModelTimeout == 0 {
		cfg.ModelTimeout = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Embedder == nil {
		cfg.Embedder = knowledge.LocalEmbedder{}
	}
	a := &Assistant{cfg: cfg,
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dialogo_assistant_answers_total",
			Help: "Messages written by the virtual assistant, by kind (answer, unknown, personal, login, handoff, ...).",
		}, []string{"kind"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dialogo_assistant_turn_seconds",
			Help:    "Time from claiming a conversation to storing the assistant's reply.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}),
	}
	return a
}

func (a *Assistant) now() time.Time {
	if a.cfg.Now != nil {
		return a.cfg.Now()
	}
	return time.Now()
}

// Register exports the assistant's metrics to reg.
func (a *Assistant) Register(reg prometheus.Registerer) {
	reg.MustRegister(a.answers, a.latency)
}

// PollEvery is how often the assistant looks for work without being woken.
const PollEvery = 5 * time.Second

// Run answers conversations until ctx ends. Any number of instances may run
// one: a conversation is claimed by one of them at a time.
func (a *Assistant) Run(ctx context.Context) error {
	var wake <-chan struct{} // nil without a hub: it only polls
	if a.cfg.Hub != nil {
		wake = a.cfg.Hub.Wake(ctx, func(e crm.Event) bool {
			return (e.Kind == crm.EventMessage && !e.Private) ||
				(e.Kind == crm.EventConversation && e.Status == string(crm.StatusAssistant))
		})
	}
	tick := time.NewTicker(PollEvery)
	defer tick.Stop()
	for {
		for ctx.Err() == nil && a.ProcessDue(ctx) > 0 {
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-tick.C:
		}
	}
}

// ProcessDue claims the conversations waiting for the assistant, up to the
// number of workers, answers them concurrently and returns how many it
// handled.
func (a *Assistant) ProcessDue(ctx context.Context) int {
	turns, err := a.cfg.Store.ClaimAssistantTurns(ctx, a.cfg.Workers, crm.AssistantLease, a.cfg.Tenants...)
	if err != nil {
		if ctx.Err() == nil {
			a.cfg.Log.Error("assistant: claiming conversations", "err", err)
		}
		return 0
	}
	var wg sync.WaitGroup
	for _, t := range turns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.process(ctx, t)
		}()
	}
	wg.Wait()
	return len(turns)
}

func (a *Assistant) process(ctx context.Context, t crm.AssistantTurn) {
	start := time.Now()
	log := a.cfg.Log.With("tenant", t.TenantID, "conversation", t.ConversationID)
	reply, err := a.Reply(ctx, t)
	if err == nil {
		_, err = a.cfg.Store.CompleteAssistantTurn(ctx, t, reply)
	}
	switch {
	case errors.Is(err, crm.ErrTurnTaken):
		log.Info("assistant: the conversation was taken meanwhile; not answering")
		return
	case err != nil:
		log.Error("assistant: answering", "err", err)
		// Give the turn back at once, but not in a tight loop.
		go func() {
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
				if err := a.cfg.Store.ReleaseAssistantTurn(context.WithoutCancel(ctx), t); err != nil {
					log.Error("assistant: releasing", "err", err)
				}
			}
		}()
		return
	}
	if reply.Text != "" {
		a.answers.WithLabelValues(reply.Kind).Inc()
	}
	a.latency.Observe(time.Since(start).Seconds())
	log.Info("assistant: answered", "kind", reply.Kind, "confidence", reply.Confidence,
		"handoff", reply.Handoff != nil, "model", reply.Model, "ms", time.Since(start).Milliseconds())
}

// Reply decides what the assistant says to a turn: the messages the citizen
// wrote since it last spoke are read together, as one question.
func (a *Assistant) Reply(ctx context.Context, t crm.AssistantTurn) (crm.AssistantReply, error) {
	var parts []string
	attachments := false
	for _, m := range t.Questions() {
		if m.Automated {
			continue // an auto-reply or a bounce is never answered
		}
		if s := strings.TrimSpace(m.Text); s != "" {
			parts = append(parts, s)
		} else if len(m.Attachments) > 0 {
			attachments = true
		}
	}
	question := strings.Join(parts, "\n")
	if len([]rune(question)) > 2000 {
		question = string([]rune(question)[:2000])
	}
	lang := language(question)
	p := texts[lang]
	reply := crm.AssistantReply{Question: question, Language: lang}
	if question == "" {
		if attachments {
			reply.Kind, reply.Text = crm.AnswerUnknown, p.attachmentOnly
		}
		return reply, nil // nothing to answer: the turn is only marked read
	}

	in, emergency := classify(question)
	switch in {
	case intentHandoff, intentDistress:
		reason, lead := crm.HandoffRequested, p.handoffRequested
		if in == intentDistress {
			reason, lead = crm.HandoffDistress, p.handoffDistress
		}
		text, h, err := a.handoff(ctx, t, lang, reason, lead, emergency)
		if err != nil {
			return reply, err
		}
		reply.Kind, reply.Text, reply.Handoff = crm.AnswerHandoff, text, h
		return reply, nil
	case intentGreeting:
		tenant, err := a.cfg.Store.Tenant(ctx, t.TenantID)
		if err != nil {
			return reply, err
		}
		reply.Kind, reply.Text = crm.AnswerGreeting, fmt.Sprintf(p.greeting, tenant.Name)
		return reply, nil
	case intentThanks:
		reply.Kind, reply.Text = crm.AnswerThanks, p.thanks
		return reply, nil
	}
	if in.personal() {
		if !t.Verified {
			reply.Kind, reply.Text = crm.AnswerLogin, p.loginChat
			if t.Channel == crm.ChannelEmail {
				reply.Text = p.loginEmail
			}
			return reply, nil
		}
		text, err := a.personal(ctx, t, in, lang, question)
		if err != nil {
			return reply, err
		}
		reply.Kind, reply.Text, reply.Confidence = crm.AnswerPersonal, text, 1
		return reply, nil
	}
	return a.answer(ctx, t, lang, question)
}

// answer answers a question from the knowledge base, or says it does not
// know; the second time in a row (MaxFailures) it hands off.
func (a *Assistant) answer(ctx context.Context, t crm.AssistantTurn, lang, question string) (crm.AssistantReply, error) {
	p := texts[lang]
	reply := crm.AssistantReply{Question: question, Language: lang}
	r, err := a.retrieve(ctx, t.TenantID, lang, question)
	if err != nil {
		return reply, err
	}
	reply.Confidence = r.confidence
	if r.best >= 0 && r.confidence >= a.cfg.MinConfidence {
		cited := func(i int) bool { return i == r.best }
		reply.Kind, reply.Text = crm.AnswerKnowledge, extractive(lang, question, r)
		if a.cfg.Model != nil {
			if text, citedLLM, ok := a.generate(ctx, lang, t.TenantID, question, r); ok {
				reply.Text, reply.Model = text, a.cfg.ModelName
				cited = func(i int) bool { return citedLLM[i] }
			} else if text == "" && citedLLM != nil {
				// The model found no support in the passages: trust it.
				reply.Kind, reply.Text, reply.Model = crm.AnswerUnknown, "", a.cfg.ModelName
			}
		}
		reply.Retrieved = r.passages(cited)
		if reply.Kind == crm.AnswerKnowledge {
			return reply, nil
		}
	} else {
		reply.Retrieved = r.passages(func(int) bool { return false })
	}
	// Not known.
	reply.Kind, reply.Failed = crm.AnswerUnknown, true
	if t.Failures+1 >= a.cfg.MaxFailures {
		text, h, err := a.handoff(ctx, t, lang, crm.HandoffFailures, p.handoffFailures, false)
		if err != nil {
			return reply, err
		}
		reply.Text, reply.Handoff = text, h
		return reply, nil
	}
	reply.Text = p.unknown
	return reply, nil
}

// generate asks the model for a grounded answer. ok is false when the model
// failed (then cited is nil, and the extractive answer stands) or found no
// support in the passages (cited is non-nil).
func (a *Assistant) generate(ctx context.Context, lang string, tenantID int64, question string, r retrieval) (string, []bool, bool) {
	tenant, err := a.cfg.Store.Tenant(ctx, tenantID)
	if err != nil {
		a.cfg.Log.Error("assistant: reading the ente", "err", err)
		return "", nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.ModelTimeout)
	defer cancel()
	resp, err := a.cfg.Model.GenerateContent(ctx, prompt(lang, tenant.Name, question, r),
		llms.WithTemperature(0), llms.WithMaxTokens(700))
	if err != nil || len(resp.Choices) == 0 {
		a.cfg.Log.Warn("assistant: the language model failed; answering extractively", "err", err)
		return "", nil, false
	}
	text, cited, ok := generated(lang, resp.Choices[0].Content, r)
	return text, cited, ok
}
