package knowledge

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Terms returns the content words of a text as the knowledge base compares
// them: lower-case, accent-folded, stemmed, without Italian function words.
// The assistant uses it to tell how much of a question a passage covers.
func Terms(text string) []string {
	ws := words(text)
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		if stopwords[w] {
			continue
		}
		out = append(out, stemItalian(w))
	}
	return out
}

// Fold lower-cases a text and removes its accents ("Perché" → "perche").
func Fold(text string) string { return foldAccents(strings.ToLower(text)) }

// UnknownWords returns the words that no passage of the tenant's knowledge
// base (nor of a shared one) contains, by Italian full-text search: a
// question about something the base never mentions is outside it. Words
// without a lexeme (Italian stop words) are never unknown.
func UnknownWords(ctx context.Context, pool *pgxpool.Pool, tenantID int64, words []string) ([]string, error) {
	if len(words) == 0 {
		return nil, nil
	}
	rows, err := pool.Query(ctx, `
		SELECT w FROM unnest($2::text[]) AS w
		WHERE numnode(plainto_tsquery('italian', w)) > 0
		  AND NOT EXISTS (SELECT 1 FROM knowledge_chunks c
		                  WHERE (c.tenant_id = $1 OR c.tenant_id IN (SELECT id FROM tenants WHERE knowledge_shared))
		                    AND c.tsv @@ plainto_tsquery('italian', w))`, tenantID, words)
	if err != nil {
		return nil, fmt.Errorf("knowledge.UnknownWords(%d): %w", tenantID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
