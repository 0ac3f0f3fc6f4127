package webchat

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
)

// view is what the pusher has shown the widget.
type view struct {
	conv       crm.Conversation // ID 0 until the visitor has a conversation
	sent       int64            // the highest sequence number pushed (or replayed) of conv
	lastStatus crm.Status       // as last told, "none" before any conversation
	position   int              // as last told
	staffNames map[int64]string
}

// pushLoop follows the visitor's conversation until the connection ends: the
// hub says that something changed, the database says what. It starts by
// replaying what the widget missed.
func (c *conn) pushLoop(sub *crm.Subscription, v view) {
	defer close(c.pusherDone)
	defer func() { sub.Close() }()
	v.staffNames = map[int64]string{}
	// Spread over time, so that many chats opened together do not all ask at once.
	positions := time.NewTicker(positionRefresh + rand.N(positionRefresh/2))
	defer positions.Stop()
	var retry <-chan time.Time
	// The first sync replays what the widget missed, and tells it of any
	// change committed between hello's reading and the subscription.
	var err error
	if c.contactID.Load() != 0 {
		err = c.sync(&v)
	}
	for {
		if err != nil && c.ctx.Err() == nil {
			c.log.Warn("web chat: following the conversation", "err", err)
			retry = time.After(time.Second)
		}
		err = nil
		select {
		case <-c.ctx.Done():
			return
		case e, ok := <-sub.C:
			if !ok {
				if c.ctx.Err() != nil {
					return
				}
				// The hub cut us off, as we fell behind: subscribe again,
				// then catch up from the database.
				c.log.Debug("web chat: resubscribing after the hub cut the subscription off")
				sub = c.srv.hub.Subscribe(c.accepts, hubBuffer)
				err = c.sync(&v)
				continue
			}
			err = c.onEvent(&v, e)
		case m := <-c.local:
			err = c.onLocal(&v, m)
		case <-c.kick:
			err = c.sync(&v)
		case <-positions.C:
			if v.conv.Status == crm.StatusQueued {
				err = c.refreshPosition(&v)
			}
		case <-retry:
			retry = nil
			err = c.sync(&v)
		}
	}
}

func (c *conn) onEvent(v *view, e crm.Event) error {
	switch e.Kind {
	case crm.EventMessage:
		if e.Private {
			return nil
		}
		if v.conv.ID == 0 {
			c.srv.positions.invalidate(c.tenant.ID) // a new conversation joined a queue
			return c.sync(v)
		}
		// A message of another conversation of the contact (another channel,
		// or a new web-chat conversation, which an EventConversation
		// announces) is not for this view.
		if e.ConversationID == v.conv.ID && e.Seq > v.sent {
			return c.catchUp(v)
		}
	case crm.EventConversation, crm.EventResync:
		c.srv.positions.invalidate(c.tenant.ID)
		return c.sync(v)
	case crm.EventTyping:
		if e.ConversationID == v.conv.ID && e.Author != crm.AuthorCitizen {
			out := typingOut{Type: "typing", Author: string(e.Author), On: e.On}
			if e.Author == crm.AuthorOperator && e.StaffID != 0 {
				out.AuthorName = c.staffName(v, e.StaffID)
			}
			c.send(out)
		}
	}
	return nil
}

// onLocal pushes a message that this connection stored, without reading it
// back, when it is the next one of the view.
func (c *conn) onLocal(v *view, m crm.Message) error {
	if m.ConversationID != v.conv.ID || m.Seq <= v.sent {
		return nil
	}
	if m.Seq != v.sent+1 {
		return c.catchUp(v)
	}
	if c.push(v, m) {
		v.sent = m.Seq
	}
	return nil
}

// sync reads the visitor's current conversation: when it is another one (the
// first, or a new one after the last was resolved), the view moves to it and
// replays it from the start; when its status or place in the queue changed,
// the widget is told; and what it missed is pushed.
func (c *conn) sync(v *view) error {
	ctx, cancel := c.dbContext()
	defer cancel()
	contact := c.contactID.Load()
	if contact == 0 {
		owner, err := c.srv.store.OwnerOf(ctx, c.tenant.ID, crm.IdentityWebchat, c.visitorID)
		if errors.Is(err, crm.ErrNotFound) {
			return nil // no message yet
		}
		if err != nil {
			return err
		}
		contact = owner.ContactID
		c.contactID.Store(contact)
	}
	conv, err := c.srv.store.ContactConversation(ctx, c.tenant.ID, contact, crm.ChannelWebchat, "")
	if errors.Is(err, crm.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	moved := conv.ID != v.conv.ID
	if moved {
		// A conversation new to this view may be new to the cached positions too.
		c.srv.positions.invalidate(c.tenant.ID)
		v.sent = 0
		c.convID.Store(conv.ID)
		c.markShown(conv.ID)
	}
	v.conv = conv
	position := 0
	if conv.Status == crm.StatusQueued {
		if position, err = c.srv.positions.get(ctx, c.tenant.ID, conv.ID); err != nil {
			return err
		}
	}
	if moved || conv.Status != v.lastStatus || position != v.position {
		v.lastStatus, v.position = conv.Status, position
		c.send(statusOut{Type: "status", ConversationID: conv.ID, Status: string(conv.Status), Position: position})
	}
	return c.catchUpWith(ctx, v)
}

// catchUp pushes the messages of the view's conversation after the last one
// pushed.
func (c *conn) catchUp(v *view) error {
	ctx, cancel := c.dbContext()
	defer cancel()
	return c.catchUpWith(ctx, v)
}

func (c *conn) catchUpWith(ctx context.Context, v *view) error {
	if v.conv.ID == 0 {
		return nil
	}
	msgs, err := c.srv.store.Messages(ctx, c.tenant.ID, v.conv.ID, v.sent, false)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if !c.push(v, m) {
			return nil // the connection ended
		}
		v.sent = m.Seq
	}
	return nil
}

// push queues one message frame.
func (c *conn) push(v *view, m crm.Message) bool {
	out := messageOut{
		Type:           "message",
		ConversationID: m.ConversationID,
		Seq:            m.Seq,
		Author:         string(m.AuthorKind),
		Text:           m.Text,
		Attachments:    make([]attachmentOut, 0, len(m.Attachments)),
		At:             m.CreatedAt.UTC(),
	}
	switch m.AuthorKind {
	case crm.AuthorCitizen:
		// The visitor's own client id, for the widget (and its other tabs)
		// to match the message with the one it sent.
		if id, ok := strings.CutPrefix(m.ExternalID, c.visitorID+":"); ok {
			out.ClientID = id
		}
	case crm.AuthorOperator:
		if m.AuthorStaffID != nil {
			out.AuthorName = c.staffName(v, *m.AuthorStaffID)
		}
	case crm.AuthorAssistant:
		out.AuthorName = texts.T(c.lang, "assistant")
	}
	for _, a := range m.Attachments {
		token := attachmentToken(a)
		o := attachmentOut{Token: token, Name: a.Name, ContentType: a.ContentType, Size: a.Size}
		if token != "" {
			o.URL = attachmentPath(c.tenant.Slug, token)
		}
		out.Attachments = append(out.Attachments, o)
	}
	return c.send(out)
}

// attachmentToken is the token of a stored file: its own field, or the last
// segment of an address of ours that carries it.
func attachmentToken(a crm.Attachment) string {
	if a.Token != "" {
		return a.Token
	}
	if strings.HasPrefix(a.URL, "/chat/") || strings.HasPrefix(a.URL, "/console/attachments/") {
		return a.URL[strings.LastIndexByte(a.URL, '/')+1:]
	}
	return ""
}

// staffName is how an operator signs to citizens: their first name.
func (c *conn) staffName(v *view, id int64) string {
	if name, ok := v.staffNames[id]; ok {
		return name
	}
	ctx, cancel := c.dbContext()
	defer cancel()
	st, err := c.srv.store.StaffMember(ctx, c.tenant.ID, id)
	if err != nil {
		if !errors.Is(err, crm.ErrNotFound) {
			c.log.Warn("web chat: reading an operator's name", "err", err)
			return ""
		}
	}
	name, _, _ := strings.Cut(strings.TrimSpace(st.Name), " ")
	v.staffNames[id] = name
	return name
}

// refreshPosition tells a waiting citizen their place in the queue when it has
// moved, from the server's shared, briefly cached positions.
func (c *conn) refreshPosition(v *view) error {
	ctx, cancel := c.dbContext()
	defer cancel()
	position, err := c.srv.positions.get(ctx, c.tenant.ID, v.conv.ID)
	if err != nil {
		return err
	}
	if position == 0 {
		// No longer queued (taken, resolved): read the conversation itself.
		return c.sync(v)
	}
	if position != v.position {
		v.position = position
		c.send(statusOut{Type: "status", ConversationID: v.conv.ID, Status: string(v.conv.Status), Position: position})
	}
	return nil
}
