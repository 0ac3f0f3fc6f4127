package console

import (
	"net/http"
	"slices"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
)

// supervisorView is the supervisor's page: the queues of the teams and the
// operators online with their load.
type supervisorView struct {
	layout
	Stats statsView
	Texts map[string]string
}

// statsView is the part of the page that console.js fetches again when
// something changes.
type statsView struct {
	Teams     []crm.TeamQueueStats
	Chart     chart
	Online    []crm.StaffPresence
	Offline   []crm.Staff
	Queued    int
	Assigned  int
	Available int
	Longest   time.Duration
	UpdatedAt time.Time
}

// chart is a horizontal bar chart, drawn as inline SVG: the queue lengths of
// the supervisor's page, the assistant's answers by kind. It is decorative:
// a table next to it holds the same numbers.
type chart struct {
	Width, Height int
	Bars          []bar
}

type bar struct {
	Label          string
	Value          int
	Y, Width       int
	TextY, ValueX  int
	Zero, Overflow bool
}

// chartItem is a bar to draw: a label and its number.
type chartItem struct {
	Label string
	Value int
}

// Chart geometry, in SVG user units.
const (
	chartWidth  = 560
	chartLabelW = 190
	chartBarMax = 300
	chartRow    = 34
	chartBarH   = 20
)

func newChart(teams []crm.TeamQueueStats) chart {
	items := make([]chartItem, len(teams))
	for i, t := range teams {
		items[i] = chartItem{Label: t.TeamName, Value: t.Queued}
	}
	return newBarChart(items)
}

// newBarChart lays out a bar per item, the longest for the largest value.
func newBarChart(items []chartItem) chart {
	most := 1
	for _, it := range items {
		most = max(most, it.Value)
	}
	c := chart{Width: chartWidth, Height: max(1, len(items)) * chartRow}
	for i, it := range items {
		w := it.Value * chartBarMax / most
		if it.Value > 0 {
			w = max(w, 3)
		}
		label := it.Label
		if r := []rune(label); len(r) > 26 {
			label = string(r[:25]) + "…"
		}
		c.Bars = append(c.Bars, bar{
			Label: label, Value: it.Value, Y: i*chartRow + (chartRow-chartBarH)/2, Width: w,
			TextY: i*chartRow + chartRow/2 + 5, ValueX: chartLabelW + w + 8, Zero: it.Value == 0,
		})
	}
	return c
}

func (c *Console) stats(r *http.Request, rq *request) (statsView, error) {
	ctx := r.Context()
	var v statsView
	var err error
	if v.Teams, err = c.store.QueueStats(ctx, rq.staff.TenantID); err != nil {
		return v, err
	}
	if v.Online, err = c.store.OnlineStaff(ctx, rq.staff.TenantID); err != nil {
		return v, err
	}
	staff, err := c.store.StaffList(ctx, rq.staff.TenantID)
	if err != nil {
		return v, err
	}
	for _, st := range staff {
		online := slices.ContainsFunc(v.Online, func(p crm.StaffPresence) bool { return p.StaffID == st.ID })
		if st.Active && !online && st.Actor().Has(crm.RoleOperator, crm.RoleSupervisor) {
			v.Offline = append(v.Offline, st)
		}
	}
	for _, t := range v.Teams {
		v.Queued += t.Queued
		v.Assigned += t.Assigned
		v.Longest = max(v.Longest, t.LongestWait)
	}
	for _, p := range v.Online {
		if p.Availability == crm.Available {
			v.Available++
		}
	}
	v.Chart = newChart(v.Teams)
	v.UpdatedAt = now()
	return v, nil
}

// supervisor is the supervisor's page.
func (c *Console) supervisor(w http.ResponseWriter, r *http.Request, rq *request) error {
	s, err := c.stats(r, rq)
	if err != nil {
		return err
	}
	v := supervisorView{
		layout: c.newLayout(w, r, rq, texts.T(rq.lang, "supervisor.title"), "supervisor", "supervisor"),
		Stats:  s,
		Texts:  jsTexts(rq.lang),
	}
	return c.render(w, http.StatusOK, rq.lang, "supervisor", "layout", v)
}

// supervisorStats is the figures alone, for console.js.
func (c *Console) supervisorStats(w http.ResponseWriter, r *http.Request, rq *request) error {
	s, err := c.stats(r, rq)
	if err != nil {
		return err
	}
	return c.render(w, http.StatusOK, rq.lang, "supervisor", "stats", s)
}
