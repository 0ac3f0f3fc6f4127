package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/dialogo-pa/dialogo/crm"
)

// inboxLimit is how many conversations a tab lists.
const inboxLimit = 100

// inboxView is the inbox page: the tabs (queues), the filters and the list.
type inboxView struct {
	layout
	Tabs     []inboxTab
	Filters  inboxFilters
	List     inboxList
	Channels []crm.Channel
	Statuses []statusOption
	Texts    map[string]string
}

// inboxTab is one queue of the inbox.
type inboxTab struct {
	Key     string // mine, unassigned, team-<id>, all
	Label   string
	URL     string
	Count   int
	Current bool
}

// inboxFilters are the inbox's query: the tab and the filters within it.
type inboxFilters struct {
	Tab     string
	Channel string
	Status  string // empty: the tab's default; open, or a crm.Status
	Tag     string
	Q       string
}

type statusOption struct {
	Value, Label string
}

// inboxList is the list of a tab, rendered by "inbox-table".
type inboxList struct {
	Items   []crm.InboxItem
	CSRF    string
	CanTake bool // the operator is under their maximum
	AtMax   bool
	Max     int
	Caption string
	More    bool
	Limit   int
}

func filtersOf(r *http.Request) inboxFilters {
	q := r.URL.Query()
	return inboxFilters{
		Tab: q.Get("tab"), Channel: q.Get("channel"), Status: q.Get("status"),
		Tag: strings.TrimSpace(q.Get("tag")), Q: strings.TrimSpace(q.Get("q")),
	}
}

// encode returns the filters as a query string, with the tab given.
func (f inboxFilters) encode(tab string) string {
	v := url.Values{}
	v.Set("tab", tab)
	for k, s := range map[string]string{"channel": f.Channel, "status": f.Status, "tag": f.Tag, "q": f.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// teamsOf returns the teams whose queues the staff member sees: their own, or
// all of them for a supervisor.
func (c *Console) teamsOf(r *http.Request, rq *request) ([]crm.Team, error) {
	teams, err := c.store.Teams(r.Context(), rq.staff.TenantID)
	if err != nil {
		return nil, err
	}
	if rq.isSupervisor() {
		return teams, nil
	}
	return slices.DeleteFunc(teams, func(t crm.Team) bool { return !slices.Contains(t.Members, rq.staff.ID) }), nil
}

// query turns the filters into the store's query, checking that the tab is one
// the staff member may see. It returns the tab actually used.
func (f inboxFilters) query(rq *request, teams []crm.Team) (crm.InboxQuery, string) {
	q := crm.InboxQuery{Channel: crm.Channel(f.Channel), Tag: f.Tag, Search: f.Q, Limit: inboxLimit + 1}
	tab, status := f.Tab, ""
	switch {
	case tab == "unassigned":
		q.Unassigned, status = true, string(crm.StatusQueued)
	case tab == "all" && rq.isSupervisor():
	case strings.HasPrefix(tab, "team-"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(tab, "team-"), 10, 64)
		if slices.ContainsFunc(teams, func(t crm.Team) bool { return t.ID == id }) {
			q.TeamID, status = id, string(crm.StatusQueued)
			break
		}
		fallthrough
	default:
		tab = "mine"
		q.AssigneeID = rq.staff.ID
	}
	if f.Status != "" {
		status = f.Status
	}
	if status != "open" {
		q.Status = crm.Status(status)
	}
	return q, tab
}

// inbox is the inbox page.
func (c *Console) inbox(w http.ResponseWriter, r *http.Request, rq *request) error {
	teams, err := c.teamsOf(r, rq)
	if err != nil {
		return err
	}
	f := filtersOf(r)
	q, tab := f.query(rq, teams)
	f.Tab = tab
	list, err := c.inboxList(r, rq, q, f, teams)
	if err != nil {
		return err
	}
	counts, err := c.store.InboxCounts(r.Context(), rq.staff.TenantID, rq.staff.ID)
	if err != nil {
		return err
	}
	v := inboxView{
		layout:   c.newLayout(w, r, rq, texts.T(rq.lang, "inbox.title"), "inbox", "inbox"),
		Filters:  f,
		List:     list,
		Channels: crm.Channels,
		Texts:    jsTexts(rq.lang),
	}
	tab = f.Tab
	add := func(key, label string, count int) {
		v.Tabs = append(v.Tabs, inboxTab{Key: key, Label: label, URL: "/console?" + f.encode(key), Count: count, Current: key == tab})
	}
	add("mine", texts.T(rq.lang, "inbox.tab.mine"), counts.Mine)
	add("unassigned", texts.T(rq.lang, "inbox.tab.unassigned"), counts.Unassigned)
	for _, t := range teams {
		add("team-"+strconv.FormatInt(t.ID, 10), t.Name, counts.Teams[t.ID])
	}
	if rq.isSupervisor() {
		add("all", texts.T(rq.lang, "inbox.tab.all"), counts.Open)
	}
	v.Statuses = []statusOption{{"", texts.T(rq.lang, "filter.status.default")}, {"open", texts.T(rq.lang, "filter.status.open")}}
	for _, s := range []crm.Status{crm.StatusQueued, crm.StatusAssigned, crm.StatusAssistant, crm.StatusResolved} {
		v.Statuses = append(v.Statuses, statusOption{string(s), texts.T(rq.lang, "status."+string(s))})
	}
	return c.render(w, http.StatusOK, rq.lang, "inbox", "layout", v)
}

// inboxList reads the list of a tab.
func (c *Console) inboxList(r *http.Request, rq *request, q crm.InboxQuery, f inboxFilters, teams []crm.Team) (inboxList, error) {
	items, err := c.store.Inbox(r.Context(), rq.staff.TenantID, q)
	if err != nil {
		return inboxList{}, err
	}
	load, max, err := c.store.StaffLoad(r.Context(), rq.staff.TenantID, rq.staff.ID)
	if err != nil {
		return inboxList{}, err
	}
	l := inboxList{Items: items, CSRF: rq.csrf, CanTake: load < max, AtMax: load >= max, Max: max, Limit: inboxLimit}
	if len(l.Items) > inboxLimit {
		l.Items, l.More = l.Items[:inboxLimit], true
	}
	l.Caption = texts.T(rq.lang, "inbox.tab."+f.Tab)
	for _, t := range teams {
		if f.Tab == "team-"+strconv.FormatInt(t.ID, 10) {
			l.Caption = t.Name
		}
	}
	return l, nil
}

// inboxListFragment is the list of a tab alone, for console.js to swap in when
// something changed.
func (c *Console) inboxListFragment(w http.ResponseWriter, r *http.Request, rq *request) error {
	teams, err := c.teamsOf(r, rq)
	if err != nil {
		return err
	}
	f := filtersOf(r)
	q, tab := f.query(rq, teams)
	f.Tab = tab
	if r.URL.Query().Get("view") == "compact" {
		current, _ := strconv.ParseInt(r.URL.Query().Get("current"), 10, 64)
		items, err := c.store.Inbox(r.Context(), rq.staff.TenantID, crm.InboxQuery{AssigneeID: rq.staff.ID, Limit: inboxLimit})
		if err != nil {
			return err
		}
		return c.render(w, http.StatusOK, rq.lang, "inbox", "inbox-compact", compactList{Items: items, CurrentID: current})
	}
	list, err := c.inboxList(r, rq, q, f, teams)
	if err != nil {
		return err
	}
	return c.render(w, http.StatusOK, rq.lang, "inbox", "inbox-table", list)
}

// compactList is the operator's own conversations beside an open one.
type compactList struct {
	Items     []crm.InboxItem
	CurrentID int64
}

// inboxCounts returns the numbers of the tabs, for console.js.
func (c *Console) inboxCounts(w http.ResponseWriter, r *http.Request, rq *request) error {
	n, err := c.store.InboxCounts(r.Context(), rq.staff.TenantID, rq.staff.ID)
	if err != nil {
		return err
	}
	out := map[string]int{"mine": n.Mine, "unassigned": n.Unassigned, "all": n.Open}
	for id, count := range n.Teams {
		out["team-"+strconv.FormatInt(id, 10)] = count
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
	return nil
}
