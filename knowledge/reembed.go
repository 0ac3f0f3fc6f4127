package knowledge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotCurrent is returned by Reembed for an embedder that is not the current
// one: another instance has made its own current since (see UseEmbedder).
var ErrNotCurrent = errors.New("knowledge: the embedder is not the current one")

// DefaultReembedBatch is how many chunks Reembed takes at a time unless told.
const DefaultReembedBatch = 64

// Reembed re-embeds with emb up to batch chunks stored with another embedder,
// and returns how many it re-embedded; 0 means that none is left, or that the
// ones left are being re-embedded by another instance. emb must be the current
// embedder (UseEmbedder), or Reembed returns ErrNotCurrent and does nothing.
//
// The chunks are claimed with FOR UPDATE SKIP LOCKED and kept locked while
// they are embedded, so that instances re-embedding together never embed one
// chunk twice, and an ingestion replacing a claimed chunk's source waits for
// the batch. When no chunk of an old embedder is left, the HNSW index of that
// embedder is dropped.
//
// Search keeps working throughout: its vector side sees the chunks already
// re-embedded, its full-text side sees them all.
func Reembed(ctx context.Context, pool *pgxpool.Pool, emb Embedder, batch int) (done int, err error) {
	e, err := describe(emb)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("knowledge.Reembed(%s): %w", e.name, err)
		}
	}()
	if batch <= 0 {
		batch = DefaultReembedBatch
	}
	current, err := currentEmbedder(ctx, pool)
	if err != nil {
		return 0, err
	}
	if current != e.name {
		return 0, fmt.Errorf("%w (%s is)", ErrNotCurrent, current)
	}
	var old []string
	rows, err := pool.Query(ctx, `SELECT name FROM knowledge_embedders WHERE name <> $1 ORDER BY name`, e.name)
	if err == nil {
		old, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		return 0, err
	}
	if len(old) == 0 {
		return 0, nil
	}

	claimed := 0
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var tenants, ids []int64
		var titles, sections, texts, embedded []string
		// embedder = ANY(old), not embedder <> current: the index on embedder
		// finds the chunks left without reading the ones done.
		rows, err := tx.Query(ctx, `
			SELECT tenant_id, id, title, section_path, text
			  FROM knowledge_chunks
			 WHERE embedder = ANY($1)
			 LIMIT $2
			   FOR UPDATE SKIP LOCKED`, old, batch)
		if err != nil {
			return err
		}
		for rows.Next() {
			var tenant, id int64
			var c Chunk
			if err := rows.Scan(&tenant, &id, &c.Title, &c.SectionPath, &c.Text); err != nil {
				rows.Close()
				return err
			}
			tenants, ids = append(tenants, tenant), append(ids, id)
			titles, sections, texts = append(titles, c.Title), append(sections, c.SectionPath), append(texts, c.Text)
			embedded = append(embedded, embeddingText(c))
		}
		if err := rows.Err(); err != nil {
			return err
		}
		claimed = len(ids)
		if claimed == 0 {
			return nil
		}
		vectors, err := emb.EmbedDocuments(ctx, embedded)
		if err != nil {
			return fmt.Errorf("embedding: %w", err)
		}
		if len(vectors) != claimed {
			return fmt.Errorf("embedding: %d vectors for %d chunks", len(vectors), claimed)
		}
		literals := make([]string, claimed)
		for i, v := range vectors {
			if len(v) != e.dims {
				return fmt.Errorf("embedding: a vector of %d dimensions, the embedder has %d", len(v), e.dims)
			}
			literals[i] = vectorLiteral(v)
		}
		// The lock keeps the chunks as they were read; the UPDATE still
		// checks that their text is the one embedded, so that it stays right
		// should the claim ever end before the embedding does.
		tag, err := tx.Exec(ctx, `
			UPDATE knowledge_chunks c
			   SET embedder = $1, embedding = u.embedding::vector
			  FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
			       AS u(tenant_id, id, title, section_path, text, embedding)
			 WHERE c.tenant_id = u.tenant_id AND c.id = u.id AND c.embedder <> $1
			   AND c.title = u.title AND c.section_path = u.section_path AND c.text = u.text`,
			e.name, tenants, ids, titles, sections, texts, literals)
		if err != nil {
			return err
		}
		done = int(tag.RowsAffected())
		return nil
	})
	if err != nil {
		return 0, err
	}
	if claimed < batch {
		if err := dropUnusedIndexes(ctx, pool, e.name); err != nil {
			return done, err
		}
	}
	return done, nil
}

// dropUnusedIndexes drops the HNSW indexes of the embedders that were current
// before the current one and that no chunk uses any more. (An embedder never
// made current keeps its index, which costs nothing without chunks: it may be
// one about to be made current.) A chunk ingested later by an instance still
// on such an embedder is found without the index, by a scan, until it is
// re-embedded.
func dropUnusedIndexes(ctx context.Context, pool *pgxpool.Pool, current string) error {
	rows, err := pool.Query(ctx, `
		SELECT name FROM knowledge_embedders
		 WHERE activated_at < (SELECT activated_at FROM knowledge_embedders WHERE name = $1)
		 ORDER BY name`, current)
	if err != nil {
		return err
	}
	superseded, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, name := range superseded {
		ident := pgx.Identifier{indexName(name)}.Sanitize()
		// Under the embedder's lock, held by UseEmbedder while it makes it
		// current again; when UseEmbedder holds it, the index stays.
		_, err := withIndexLock(ctx, pool, name, true, func(conn *pgx.Conn) error {
			var unused bool
			err := conn.QueryRow(ctx, `
				SELECT to_regclass($1) IS NOT NULL
				   AND NOT EXISTS (SELECT 1 FROM knowledge_chunks WHERE embedder = $2)
				   AND (SELECT activated_at FROM knowledge_embedders WHERE name = $2)
				       < (SELECT max(activated_at) FROM knowledge_embedders)`, ident, name).Scan(&unused)
			if err != nil || !unused {
				return err
			}
			_, err = conn.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+ident)
			return err
		})
		if err != nil {
			return fmt.Errorf("dropping the index of %s: %w", name, err)
		}
	}
	return nil
}

// Pending returns how many chunks are stored with an embedder other than emb,
// and so wait to be re-embedded when emb is current.
func Pending(ctx context.Context, pool *pgxpool.Pool, emb Embedder) (int, error) {
	e, err := describe(emb)
	if err != nil {
		return 0, err
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM knowledge_chunks WHERE embedder <> $1`, e.name).Scan(&n); err != nil {
		return 0, fmt.Errorf("knowledge.Pending(%s): %w", e.name, err)
	}
	return n, nil
}

// How often RunReembedder looks for work when it has none, and how long it
// waits after a failure.
const (
	reembedPoll  = time.Minute
	reembedRetry = 30 * time.Second
)

// RunReembedder makes emb the current embedder (UseEmbedder) and re-embeds,
// batch after batch, every chunk stored with another one; then it wakes up
// every minute for chunks ingested by instances still on an old embedder. It
// logs what it does and every failure, retries after a pause, and returns when
// ctx is done. Any number of instances may run it together.
func RunReembedder(ctx context.Context, pool *pgxpool.Pool, emb Embedder, logger *slog.Logger) {
	e, err := describe(emb)
	if err != nil {
		logger.Error("knowledge re-embedder not started", "err", err)
		return
	}
	log := logger.With("embedder", e.name)
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for {
		previous, err := UseEmbedder(ctx, pool, emb)
		if err == nil {
			if previous != e.name {
				log.Info("knowledge embedder changed: re-embedding the knowledge base", "previous", previous, "dimensions", e.dims)
			} else {
				log.Info("knowledge embedder in use", "dimensions", e.dims)
			}
			break
		}
		if ctx.Err() != nil {
			return
		}
		log.Error("knowledge embedder cannot be used; retrying", "err", err, "retry_in", reembedRetry)
		if !wait(reembedRetry) {
			return
		}
	}
	var total int
	var start, logged time.Time
	notCurrent := false
	for {
		n, err := Reembed(ctx, pool, emb, DefaultReembedBatch)
		if ctx.Err() != nil {
			return
		}
		switch {
		case errors.Is(err, ErrNotCurrent):
			if !notCurrent {
				log.Warn("another embedder was made current by another instance: this one no longer re-embeds, and its vector search sees fewer and fewer chunks; give every instance the same embeddings configuration", "err", err)
				notCurrent = true
			}
		case err != nil:
			log.Error("knowledge re-embedding failed; retrying", "err", err, "done", total, "retry_in", reembedRetry)
			if !wait(reembedRetry) {
				return
			}
			continue
		case n > 0:
			if total == 0 {
				start, logged = time.Now(), time.Now()
				if pending, err := Pending(ctx, pool, emb); err == nil {
					log.Info("re-embedding knowledge chunks", "pending", pending+n)
				}
			}
			total += n
			if time.Since(logged) >= reembedPoll {
				logged = time.Now()
				log.Info("re-embedding knowledge chunks", "done", total, "elapsed", time.Since(start).Round(time.Second))
			}
			continue
		default:
			notCurrent = false
			if total > 0 {
				log.Info("knowledge chunks re-embedded", "chunks", total, "elapsed", time.Since(start).Round(time.Second))
				total = 0
			}
		}
		if !wait(reembedPoll) {
			return
		}
	}
}
