package assistant

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
)

// rome is the time zone dates and times are told in.
var rome = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return loc
}()

func day(t time.Time) string { return t.In(rome).Format("02/01/2006") }

// euro writes an amount in cents the Italian way: € 1.234,56.
func euro(cents int64) string {
	whole, frac := cents/100, cents%100
	s := fmt.Sprint(whole)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("€ %s,%02d", b.String(), frac)
}

// personal answers a verified citizen's question about their own fascicolo,
// read through the CRM (which audits the read).
func (a *Assistant) personal(ctx context.Context, t crm.AssistantTurn, in intent, lang, question string) (string, error) {
	f, err := a.cfg.Store.FascicoloForCitizen(ctx, t, question)
	if err != nil {
		return "", err
	}
	p := texts[lang]
	now := a.now()
	var lines []string
	switch in {
	case intentPratica:
		if len(f.Pratiche) == 0 {
			lines = append(lines, p.noPratiche)
			break
		}
		pr := f.Pratiche[0] // the most recently updated
		lines = append(lines, fmt.Sprintf(p.pratica, pr.Title, pr.Reference, pr.Status, day(pr.UpdatedAt)))
		if n := len(pr.Timeline); n > 0 && pr.Timeline[n-1].Note != "" {
			lines = append(lines, fmt.Sprintf(p.praticaStep, pr.Timeline[n-1].Note))
		}
		if len(f.Pratiche) > 1 {
			lines = append(lines, fmt.Sprintf(p.praticheMore, len(f.Pratiche)-1))
		}
	case intentAvvisi:
		var unpaid []crm.Avviso
		for _, av := range f.Avvisi {
			if av.Status == "unpaid" {
				unpaid = append(unpaid, av)
			}
		}
		if len(unpaid) == 0 {
			lines = append(lines, p.noAvvisi)
			break
		}
		lines = append(lines, fmt.Sprintf(p.avvisiIntro, len(unpaid)))
		for _, av := range unpaid {
			line := fmt.Sprintf(p.avviso, av.Description, euro(av.AmountCents), day(av.DueDate.Time), av.NoticeNumber)
			if av.Overdue {
				line += p.avvisoOverdue
			}
			lines = append(lines, line)
		}
		lines = append(lines, p.avvisiPay)
	case intentAppuntamento:
		var next *crm.Appointment
		for i := range f.Appointments {
			ap := &f.Appointments[i]
			if ap.Status == "booked" && ap.EndsAt.After(now) && (next == nil || ap.StartsAt.Before(next.StartsAt)) {
				next = ap
			}
		}
		if next == nil {
			lines = append(lines, p.noAppointment)
			break
		}
		place := next.Location
		switch next.Mode {
		case "video":
			place = p.modeVideo
		case "phone":
			place = p.modePhone
		}
		lines = append(lines, fmt.Sprintf(p.appointment, next.Service, day(next.StartsAt),
			next.StartsAt.In(rome).Format("15:04"), place, next.Reference))
	}
	lines = append(lines, p.personalMore)
	return strings.Join(lines, "\n"), nil
}
