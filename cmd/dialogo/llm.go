package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"
)

// newLanguageModel returns the language model the assistant writes its
// answers with, and the name recorded with each answer; nil when none is
// configured (the assistant then answers extractively).
func newLanguageModel(cfg config) (llms.Model, string, error) {
	client := &http.Client{Timeout: 60 * time.Second}
	switch cfg.LLMProvider {
	case "":
		return nil, "", nil
	case "openai":
		opts := []openai.Option{openai.WithBaseURL(cfg.LLMURL), openai.WithModel(cfg.LLMModel), openai.WithHTTPClient(client)}
		// The client insists on a token; a local OpenAI-compatible server may not need one.
		token := cfg.LLMKey
		if token == "" {
			token = "none"
		}
		opts = append(opts, openai.WithToken(token))
		m, err := openai.New(opts...)
		if err != nil {
			return nil, "", fmt.Errorf("language model: %w", err)
		}
		return m, "openai:" + cfg.LLMModel, nil
	case "ollama":
		m, err := ollama.New(ollama.WithServerURL(cfg.LLMURL), ollama.WithModel(cfg.LLMModel), ollama.WithHTTPClient(client))
		if err != nil {
			return nil, "", fmt.Errorf("language model: %w", err)
		}
		return m, "ollama:" + cfg.LLMModel, nil
	}
	return nil, "", fmt.Errorf("DIALOGO_LLM_PROVIDER: %q is not openai or ollama", cfg.LLMProvider)
}
