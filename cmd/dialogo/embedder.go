package main

import (
	"context"

	"github.com/dialogo-pa/dialogo/knowledge"
)

// newEmbedder builds the knowledge base's embedder that the configuration
// chooses. A remote one is asked for a probe vector, which tells its dimension,
// so this fails when its server cannot be reached.
func newEmbedder(ctx context.Context, env *environment) (knowledge.NamedEmbedder, error) {
	emb, err := knowledge.NewEmbedder(ctx, env.cfg.Embeddings)
	if err != nil {
		return knowledge.NamedEmbedder{}, err
	}
	env.log.Debug("knowledge embedder ready", "embedder", emb.Name, "dimensions", emb.Dimensions)
	return emb, nil
}
