package console

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
)

// historyLimit is how many messages of the citizen's history the conversation
// view shows, across all their conversations.
const historyLimit = 200

// conversationView is the conversation page: the operator's own conversations,
// the conversation with the citizen's whole history, and the citizen panel.
type conversationView struct {
	layout
	Conv     crm.Conversation
	Summary  summaryView
	Messages []messageView
	Compact  compactList
	Citizen  citizenView
	// Handoff is what the virtual assistant left for the operator when it
	// handed the conversation off; nil when it did not.
	Handoff *handoffView
	Reply   replyForm
	Texts   map[string]string
}

// handoffView is the assistant's summary of a conversation it handed off.
type handoffView struct {
	Reason string // in words, in the operator's language
	At     *time.Time
	// Lines are the summary's lines: the template keeps its line breaks.
	Lines []string
}

// handoff reads what the assistant left when it handed the conversation off.
func (c *Console) handoff(ctx context.Context, rq *request, conv crm.Conversation) (*handoffView, error) {
	h, err := c.store.ConversationHandoff(ctx, rq.staff.TenantID, conv.ID)
	if err != nil {
		return nil, err
	}
	// Handing the conversation back to the assistant clears the reason: the
	// summary was about a handoff that is over.
	if h.Reason == "" {
		return nil, nil
	}
	v := &handoffView{Reason: texts.T(rq.lang, "handoff.reason."+h.Reason), At: h.At}
	if texts["handoff.reason."+h.Reason] == nil {
		v.Reason = h.Reason
	}
	for line := range strings.SplitSeq(strings.TrimSpace(strings.ReplaceAll(h.Summary, "\r\n", "\n")), "\n") {
		v.Lines = append(v.Lines, strings.TrimRight(line, " \t"))
	}
	if len(v.Lines) == 1 && v.Lines[0] == "" {
		v.Lines = nil
	}
	return v, nil
}

// replyForm is the reply box. ClientID makes a form sent twice (a double
// click, a resubmission) store one message.
type replyForm struct {
	CSRF     string
	ConvID   int64
	ClientID string
	Channel  crm.Channel
	MaxLen   int
}

// summaryView is the head of the conversation: who, where, in which state, and
// what the operator can do with it. console.js fetches it again when the
// conversation changes.
type summaryView struct {
	Conv         crm.Conversation
	CSRF         string
	TeamName     string
	AssigneeName string
	Mine         bool
	CanTake      bool // not the operator's, and they are under their maximum
	AtMax        bool
	// CanHandBack: the conversation waits for an operator or has one, and
	// the ente's virtual assistant is on to take it back.
	CanHandBack bool
	Max         int
	Transfer    []transferGroup
	Priorities  []option
	Tags        string
}

type transferGroup struct {
	Label   string
	Options []option
}

type option struct {
	Value, Label string
	Selected     bool
}

// messageView is a message as the console shows it.
type messageView struct {
	crm.Message
	Kind        string // in, out, note, system
	Author      string
	Assistant   bool // written by the virtual assistant: an answer, or its summary at a handoff
	Current     bool // of the open conversation
	Separator   *separator
	Attachments []attachmentView
}

// SafeHTML is the HTML body of a message, which crm sanitised when it was
// stored.
func (m messageView) SafeHTML() template.HTML {
	return template.HTML(m.HTML) //nolint:gosec // sanitised by crm.SanitizeHTML at ingest
}

// separator opens the messages of another conversation in the history.
type separator struct {
	ConversationID int64
	Channel        crm.Channel
	Subject        string
	Started        time.Time
	Current        bool
}

type attachmentView struct {
	Name  string
	Size  int64
	URL   string
	Image bool
}

// loadConversation reads a conversation of the caller's ente, without its
// messages; another ente's is not found.
func (c *Console) loadConversation(r *http.Request, rq *request) (crm.Conversation, error) {
	id, err := pathID(r, "conversation_id")
	if err != nil {
		return crm.Conversation{}, err
	}
	return c.store.ConversationHead(r.Context(), rq.staff.TenantID, id)
}

// conversation is the conversation page. With ?fascicolo=1 it shows the
// citizen's fascicolo too, which is then read and audited.
func (c *Console) conversation(w http.ResponseWriter, r *http.Request, rq *request) error {
	conv, err := c.loadConversation(r, rq)
	if err != nil {
		return err
	}
	ctx := r.Context()
	names, err := c.staffNames(ctx, rq.staff.TenantID)
	if err != nil {
		return err
	}
	history, err := c.store.ContactHistory(ctx, rq.staff.TenantID, conv.ContactID, historyLimit)
	if err != nil {
		return err
	}
	contact, err := c.store.Contact(ctx, rq.staff.TenantID, conv.ContactID)
	if err != nil {
		return err
	}
	summary, err := c.summary(r, rq, conv)
	if err != nil {
		return err
	}
	mine, err := c.store.Inbox(ctx, rq.staff.TenantID, crm.InboxQuery{AssigneeID: rq.staff.ID, Limit: inboxLimit})
	if err != nil {
		return err
	}
	citizen, err := c.citizen(r, rq, conv, contact)
	if err != nil {
		return err
	}
	handoff, err := c.handoff(ctx, rq, conv)
	if err != nil {
		return err
	}
	title := contact.DisplayName
	if title == "" {
		title = texts.T(rq.lang, "contact.anonymous")
	}
	v := conversationView{
		layout:   c.newLayout(w, r, rq, title, "inbox", "conversation"),
		Conv:     conv,
		Summary:  summary,
		Messages: c.messageViews(rq.lang, history, conv, contact.DisplayName, names, 0),
		Compact:  compactList{Items: mine, CurrentID: conv.ID},
		Citizen:  citizen,
		Handoff:  handoff,
		Reply: replyForm{CSRF: rq.csrf, ConvID: conv.ID, ClientID: "f-" + randomID(12), Channel: conv.Channel,
			MaxLen: crm.MaxTextLen},
		Texts: jsTexts(rq.lang),
	}
	// Opening the fascicolo is recorded in the audit log: a link followed from
	// another site must not make that record in the operator's name.
	if r.URL.Query().Get("fascicolo") == "1" && citizen.Verified && sameSite(r) {
		f, err := c.readFascicolo(r, rq, conv)
		if err != nil {
			return err
		}
		v.Citizen.Fascicolo = f
	}
	return c.render(w, http.StatusOK, rq.lang, "conversation", "layout", v)
}

// sameSite tells whether a request comes from the console itself (or from
// the address bar), as browsers report it.
func sameSite(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	return site == "" || site == "same-origin" || site == "none"
}

// summary builds the head of a conversation with its actions.
func (c *Console) summary(r *http.Request, rq *request, conv crm.Conversation) (summaryView, error) {
	ctx := r.Context()
	s := summaryView{Conv: conv, CSRF: rq.csrf, Tags: strings.Join(conv.Tags, ", ")}
	s.Mine = conv.AssigneeID != nil && *conv.AssigneeID == rq.staff.ID
	load, max, err := c.store.StaffLoad(ctx, rq.staff.TenantID, rq.staff.ID)
	if err != nil {
		return s, err
	}
	s.Max, s.AtMax = max, load >= max
	s.CanTake = !s.Mine && conv.Status != crm.StatusResolved && !s.AtMax
	if conv.Status == crm.StatusQueued || conv.Status == crm.StatusAssigned {
		settings, err := c.store.AssistantSettings(ctx, rq.staff.TenantID)
		if err != nil {
			return s, err
		}
		s.CanHandBack = settings.Enabled
	}
	teams, err := c.store.Teams(ctx, rq.staff.TenantID)
	if err != nil {
		return s, err
	}
	queues := transferGroup{Label: texts.T(rq.lang, "transfer.queues")}
	for _, t := range teams {
		if conv.TeamID != nil && *conv.TeamID == t.ID {
			s.TeamName = t.Name
		}
		queues.Options = append(queues.Options, option{Value: "team:" + strconv.FormatInt(t.ID, 10),
			Label: texts.T(rq.lang, "transfer.queue", t.Name)})
	}
	s.Transfer = append(s.Transfer, queues)
	staff, err := c.store.StaffList(ctx, rq.staff.TenantID)
	if err != nil {
		return s, err
	}
	for _, st := range staff {
		if conv.AssigneeID != nil && *conv.AssigneeID == st.ID {
			s.AssigneeName = st.Name
		}
	}
	// Only supervisors give conversations to a colleague (crm.Assign's rule);
	// operators hand them to a team's queue.
	if rq.isSupervisor() {
		online, err := c.store.OnlineStaff(ctx, rq.staff.TenantID)
		if err != nil {
			return s, err
		}
		colleagues := transferGroup{Label: texts.T(rq.lang, "transfer.colleagues")}
		for _, st := range staff {
			if !st.Active || !st.Actor().Has(crm.RoleOperator, crm.RoleSupervisor) ||
				(conv.AssigneeID != nil && *conv.AssigneeID == st.ID) {
				continue
			}
			label := texts.T(rq.lang, "transfer.offline", st.Name)
			if i := slices.IndexFunc(online, func(p crm.StaffPresence) bool { return p.StaffID == st.ID }); i >= 0 {
				p := online[i]
				label = texts.T(rq.lang, "transfer.online", st.Name, texts.T(rq.lang, "availability."+string(p.Availability)),
					p.Load, p.MaxConcurrent)
			}
			colleagues.Options = append(colleagues.Options, option{Value: "staff:" + strconv.FormatInt(st.ID, 10), Label: label})
		}
		s.Transfer = append(s.Transfer, colleagues)
	}
	for p := crm.PriorityLow; p <= crm.PriorityUrgent; p++ {
		s.Priorities = append(s.Priorities, option{Value: strconv.Itoa(p), Label: texts.T(rq.lang, "priority."+strconv.Itoa(p)),
			Selected: p == conv.Priority})
	}
	return s, nil
}

// conversationSummary is the head of the conversation alone, for console.js.
func (c *Console) conversationSummary(w http.ResponseWriter, r *http.Request, rq *request) error {
	conv, err := c.loadConversation(r, rq)
	if err != nil {
		return err
	}
	s, err := c.summary(r, rq, conv)
	if err != nil {
		return err
	}
	return c.render(w, http.StatusOK, rq.lang, "conversation", "summary", s)
}

// staffNames maps the ente's staff ids to names, for the authors of replies
// and notes.
func (c *Console) staffNames(ctx context.Context, tenantID int64) (map[int64]string, error) {
	staff, err := c.store.StaffList(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	names := make(map[int64]string, len(staff))
	for _, st := range staff {
		names[st.ID] = st.Name
	}
	return names, nil
}

// messageViews prepares messages for display. prevConv is the conversation of
// the message shown just before them (0: none), so that a separator opens each
// run of messages of one conversation.
func (c *Console) messageViews(lang string, msgs []crm.Message, conv crm.Conversation, contactName string,
	names map[int64]string, prevConv int64) []messageView {
	out := make([]messageView, 0, len(msgs))
	for _, m := range msgs {
		v := messageView{Message: m, Current: m.ConversationID == conv.ID, Assistant: m.AuthorKind == crm.AuthorAssistant}
		switch {
		case m.Direction == crm.Internal && m.AuthorKind == crm.AuthorSystem:
			v.Kind = "system"
		case m.Direction == crm.Internal:
			v.Kind = "note"
		case m.Direction == crm.Outbound:
			v.Kind = "out"
		default:
			v.Kind = "in"
		}
		switch m.AuthorKind {
		case crm.AuthorCitizen:
			v.Author = contactName
			if v.Author == "" {
				v.Author = texts.T(lang, "contact.anonymous")
			}
		case crm.AuthorOperator:
			v.Author = texts.T(lang, "author.operator")
			if m.AuthorStaffID != nil && names[*m.AuthorStaffID] != "" {
				v.Author = names[*m.AuthorStaffID]
			}
		default:
			v.Author = texts.T(lang, "author."+string(m.AuthorKind))
		}
		if m.ConversationID != prevConv {
			v.Separator = &separator{ConversationID: m.ConversationID, Channel: m.Channel, Started: m.CreatedAt,
				Current: v.Current}
			if v.Current {
				v.Separator.Subject = conv.Subject
			}
			prevConv = m.ConversationID
		}
		for _, a := range m.Attachments {
			v.Attachments = append(v.Attachments, attachmentView{Name: a.Name, Size: a.Size, URL: attachmentURL(a),
				Image: strings.HasPrefix(a.ContentType, "image/")})
		}
		out = append(out, v)
	}
	return out
}

// seqCursor is what a page has shown: the highest sequence number of each
// conversation, written conv:seq,conv:seq.
type seqCursor map[int64]int64

func parseCursor(s string) seqCursor {
	cur := seqCursor{}
	for part := range strings.SplitSeq(s, ",") {
		cs, ss, ok := strings.Cut(part, ":")
		if !ok {
			continue
		}
		conv, err1 := strconv.ParseInt(cs, 10, 64)
		seq, err2 := strconv.ParseInt(ss, 10, 64)
		if err1 == nil && err2 == nil && conv > 0 && seq >= 0 && len(cur) < 1000 {
			cur[conv] = max(cur[conv], seq)
		}
	}
	return cur
}

// conversationMessages returns the messages the page has not shown yet, as a
// fragment to append: ?after=conv:seq,... says what it has, ?last= the
// conversation of its last message. With ?only=conv, only that conversation is
// read, which is what a live message needs; without it, the citizen's whole
// recent history is, which is what a console that reconnects needs to catch up.
func (c *Console) conversationMessages(w http.ResponseWriter, r *http.Request, rq *request) error {
	conv, err := c.loadConversation(r, rq)
	if err != nil {
		return err
	}
	ctx := r.Context()
	q := r.URL.Query()
	after := parseCursor(q.Get("after"))
	last, _ := strconv.ParseInt(q.Get("last"), 10, 64)
	var msgs []crm.Message
	if only, _ := strconv.ParseInt(q.Get("only"), 10, 64); only != 0 {
		if err := c.sameContact(ctx, rq, conv, only); err != nil {
			return err
		}
		if msgs, err = c.store.Messages(ctx, rq.staff.TenantID, only, after[only], true); err != nil {
			return err
		}
	} else {
		history, err := c.store.ContactHistory(ctx, rq.staff.TenantID, conv.ContactID, historyLimit)
		if err != nil {
			return err
		}
		for _, m := range history {
			if m.Seq > after[m.ConversationID] {
				msgs = append(msgs, m)
			}
		}
	}
	names, err := c.staffNames(ctx, rq.staff.TenantID)
	if err != nil {
		return err
	}
	views := c.messageViews(rq.lang, msgs, conv, conv.ContactName, names, last)
	return c.render(w, http.StatusOK, rq.lang, "conversation", "messages", views)
}

// sameContact checks that another conversation belongs to the open one's
// citizen: the page only ever asks for those.
func (c *Console) sameContact(ctx context.Context, rq *request, conv crm.Conversation, other int64) error {
	if other == conv.ID {
		return nil
	}
	found, err := c.store.ConversationHead(ctx, rq.staff.TenantID, other)
	if err != nil {
		return err
	}
	if found.ContactID != conv.ContactID {
		return fmt.Errorf("conversation %d of contact %d: %w", other, conv.ContactID, crm.ErrNotFound)
	}
	return nil
}

// delivery is the state of an outbound message, for console.js to redraw its
// ticks.
type delivery struct {
	Conv   int64  `json:"c"`
	Seq    int64  `json:"s"`
	Status string `json:"status"`
	Label  string `json:"label"`
}

// conversationDeliveries returns the delivery state of the outbound messages
// of a conversation of the citizen (?conversation=, default the open one).
func (c *Console) conversationDeliveries(w http.ResponseWriter, r *http.Request, rq *request) error {
	conv, err := c.loadConversation(r, rq)
	if err != nil {
		return err
	}
	target := conv.ID
	if s := r.URL.Query().Get("conversation"); s != "" {
		target, _ = strconv.ParseInt(s, 10, 64)
		if err := c.sameContact(r.Context(), rq, conv, target); err != nil {
			return err
		}
	}
	msgs, err := c.store.Messages(r.Context(), rq.staff.TenantID, target, 0, false)
	if err != nil {
		return err
	}
	out := []delivery{}
	for _, m := range msgs {
		if m.Direction != crm.Outbound {
			continue
		}
		label := texts.T(rq.lang, "delivery."+string(m.DeliveryStatus))
		if m.DeliveryStatus == crm.DeliveryFailed && m.DeliveryError != "" {
			label += ": " + m.DeliveryError
		}
		out = append(out, delivery{Conv: m.ConversationID, Seq: m.Seq, Status: string(m.DeliveryStatus), Label: label})
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
	return nil
}
