package webchat

import (
	"context"
	"sync"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
)

// positionsTTL is how stale the periodic queue-position refresh may be.
const positionsTTL = 2 * time.Second

// positions caches the queue positions of each tenant for the periodic refresh
// of waiting citizens: with thousands of citizens in a queue, one query every
// positionsTTL per tenant replaces one count per citizen. Changes to a
// citizen's own conversation are still read exactly (conn.sync).
type positions struct {
	store *crm.Store

	mu      sync.Mutex
	tenants map[int64]*tenantPositions
}

type tenantPositions struct {
	at      time.Time
	pos     map[int64]int
	loading chan struct{} // closed when the load under way ends
	err     error
}

func newPositions(store *crm.Store) *positions {
	return &positions{store: store, tenants: map[int64]*tenantPositions{}}
}

// get returns the conversation's place in its queue (0 when not queued), from
// data at most positionsTTL old; concurrent callers share one load.
func (p *positions) get(ctx context.Context, tenantID, conversationID int64) (int, error) {
	p.mu.Lock()
	t := p.tenants[tenantID]
	if t == nil {
		t = &tenantPositions{}
		p.tenants[tenantID] = t
	}
	for {
		if t.pos != nil && time.Since(t.at) < positionsTTL {
			n := t.pos[conversationID]
			p.mu.Unlock()
			return n, nil
		}
		if t.loading == nil {
			break
		}
		ch := t.loading
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		p.mu.Lock()
		if t.err != nil {
			err := t.err
			p.mu.Unlock()
			return 0, err
		}
	}
	ch := make(chan struct{})
	t.loading = ch
	p.mu.Unlock()

	m, err := p.store.QueuePositions(ctx, tenantID)

	p.mu.Lock()
	t.loading, t.err = nil, err
	if err == nil {
		t.pos, t.at = m, time.Now()
	}
	close(ch)
	n := t.pos[conversationID]
	p.mu.Unlock()
	return n, err
}
