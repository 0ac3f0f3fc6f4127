package assistant_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/dialogo-pa/dialogo/assistant"
	"github.com/dialogo-pa/dialogo/crm"
)

// fakeOpenAI is an OpenAI-compatible server on loopback: it answers
// POST /v1/chat/completions with the next scripted reply (or status) and
// keeps every request it was sent.
type fakeOpenAI struct {
	*httptest.Server
	mu       sync.Mutex
	requests []chatRequest
	auth     []string
	replies  []string
	status   int
}

type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content any    `json:"content"`
	} `json:"messages"`
}

// text returns the request's messages as one text, whatever shape (string or
// parts) the client gave their content.
func (r chatRequest) text() string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Role + ": ")
		switch c := m.Content.(type) {
		case string:
			b.WriteString(c)
		case []any:
			for _, p := range c {
				if part, ok := p.(map[string]any); ok {
					if s, ok := part["text"].(string); ok {
						b.WriteString(s)
					}
				}
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func newFakeOpenAI(t *testing.T) *fakeOpenAI {
	f := &fakeOpenAI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req chatRequest
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.requests = append(f.requests, req)
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		status := f.status
		reply := ""
		if len(f.replies) > 0 {
			reply, f.replies = f.replies[0], f.replies[1:]
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if status != 0 {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"error":{"message":"overloaded","type":"server_error"}}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1764000000, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": reply}}},
			"usage": map[string]any{"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
		})
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeOpenAI) script(replies ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies = append(f.replies, replies...)
}

func (f *fakeOpenAI) sent() []chatRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]chatRequest(nil), f.requests...)
}

func withModel(t *testing.T, f *fakeOpenAI) assistant.Config {
	llm, err := openai.New(openai.WithBaseURL(f.URL+"/v1"), openai.WithToken("sk-test-secret"), openai.WithModel("modello-comunale"))
	require.NoError(t, err)
	return assistant.Config{Model: llm, ModelName: "modello-comunale"}
}

func TestAModelWritesAGroundedAnswerFromTheRetrievedPassagesOnly(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t)
	b := setup(t, withModel(t, f))
	spid := b.citizen(t, 21)
	// An earlier exchange, and a verified citizen: none of it may reach the model.
	res := b.say(t, spid, "Buongiorno, sono Lucia Bianchi")
	b.work(t)
	require.Empty(t, f.sent(), "a greeting needs no model")

	f.script("La carta d'identità elettronica costa 22,21 euro, da pagare allo sportello [1]. Serve una fototessera [2]. " +
		"Lo dice anche il passaggio [9].")
	question := "Quanto costa la carta d'identità elettronica?"
	b.say(t, spid, question)
	b.work(t)
	conv := res.Message.ConversationID

	reqs := f.sent()
	require.Len(t, reqs, 1)
	require.Equal(t, "modello-comunale", reqs[0].Model)
	require.Equal(t, "Bearer sk-test-secret", f.auth[0])
	sent := reqs[0].text()
	containsAll(t, sent, "Domanda: "+question, "[1] Carta d'identità elettronica (CIE)", "usando SOLO i passaggi", "NON_LO_SO")
	for _, private := range []string{"Lucia", "Bianchi", codiceFiscale(21), "Buongiorno, sono", "PG-2026-77"} {
		require.NotContains(t, sent, private, "the prompt carries only the passages and the question")
	}
	// Every passage in the prompt is one of those recorded for the answer.
	a := b.answers(t, conv)[0] // the newest
	require.Equal(t, crm.AnswerKnowledge, a.Kind)
	require.Equal(t, "modello-comunale", a.Model)
	for i, p := range a.Retrieved {
		containsAll(t, sent, "["+strconv.Itoa(i+1)+"] "+p.Title)
	}
	require.Len(t, strings.Split(sent, "\n["), len(a.Retrieved)+1, "no other passage in the prompt")

	// The citations map back to the sources; one to no passage is dropped.
	reply := b.lastReply(t, conv)
	containsAll(t, reply, "22,21 euro", "[1]", "Fonti:", "[1] "+a.Retrieved[0].Title)
	require.NotContains(t, reply, "[9]")
	require.True(t, a.Retrieved[0].Cited)
	require.True(t, a.Retrieved[1].Cited)
	for _, p := range a.Retrieved[2:] {
		require.False(t, p.Cited)
	}
}

func TestWhenTheModelFindsNoSupportTheAssistantSaysItDoesNotKnow(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t)
	b := setup(t, withModel(t, f))
	f.script("NON_LO_SO", "Il costo è di 30 euro.") // the second cites nothing: not trusted either
	v := visitor()
	res := b.say(t, v, "Quanto costa la carta d'identità elettronica?")
	b.work(t)
	conv := res.Message.ConversationID
	containsAll(t, b.lastReply(t, conv), "non ho trovato questa informazione")
	require.Equal(t, crm.AnswerUnknown, b.answers(t, conv)[0].Kind)

	b.say(t, v, "Quanto costa la carta d'identità elettronica per un minore?")
	b.work(t)
	require.NotContains(t, b.lastReply(t, conv), "30 euro", "an answer without citations never reaches the citizen")
}

func TestWhenTheModelFailsTheAnswerIsExtractive(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t)
	f.status = http.StatusServiceUnavailable
	b := setup(t, withModel(t, f))
	res := b.say(t, visitor(), "Quanto costa la carta d'identità elettronica?")
	b.work(t)
	conv := res.Message.ConversationID
	containsAll(t, b.lastReply(t, conv), "Ecco cosa dice la pagina", "Fonte:")
	require.NotEmpty(t, f.sent())
	a := b.answers(t, conv)[0]
	require.Equal(t, crm.AnswerKnowledge, a.Kind)
	require.Empty(t, a.Model)
}
