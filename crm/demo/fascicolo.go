package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
)

// praticaStep is one status of a pratica's path, reached Days after the one before.
type praticaStep struct {
	Status string
	Note   string
	Days   int
}

// praticaKind is a kind of pratica with the paths its timeline may follow.
type praticaKind struct {
	Code       string // in the protocol number
	Type       string
	Office     string
	Title      string // with the placeholders of fill
	Paths      [][]praticaStep
	Chance     int // percent of people who have one
	NeedsChild bool
	// Document is issued when the pratica reaches the last step of its path.
	DocKind, DocTitle string
}

var praticaKinds = []praticaKind{
	{
		Code: "RES", Type: "Cambio di residenza", Office: "Anagrafe", Title: "Dichiarazione di residenza in {via}", Chance: 25,
		Paths: [][]praticaStep{
			{{"Presentata", "Dichiarazione presentata online su ANPR", 0}, {"In istruttoria", "", 2},
				{"Accertamento della Polizia locale", "Verifica della dimora abituale programmata", 9},
				{"Conclusa", "Residenza confermata", 21}},
			{{"Presentata", "Dichiarazione presentata allo sportello", 0}, {"In istruttoria", "", 3},
				{"Integrazione richiesta", "Manca il contratto di locazione registrato", 4},
				{"Integrazione ricevuta", "", 6}, {"Conclusa", "Residenza confermata", 19}},
		},
		DocKind: "attestazione", DocTitle: "Attestazione di iscrizione anagrafica",
	},
	{
		Code: "CIE", Type: "Carta d'identità elettronica", Office: "Anagrafe", Title: "Rilascio della carta d'identità elettronica", Chance: 35,
		Paths: [][]praticaStep{
			{{"Presentata", "Richiesta di appuntamento", 0}, {"Appuntamento fissato", "", 1},
				{"Dati acquisiti allo sportello", "Foto e impronte acquisite, pagamento effettuato", 13},
				{"Emessa dal Poligrafico", "", 3}, {"Consegnata", "Spedita all'indirizzo di residenza", 3}},
		},
		DocKind: "ricevuta", DocTitle: "Ricevuta della richiesta di carta d'identità elettronica",
	},
	{
		Code: "MEN", Type: "Iscrizione mensa scolastica", Office: "Servizi scolastici", NeedsChild: true, Chance: 60,
		Title: "Ristorazione scolastica a.s. {as} – {bambino}",
		Paths: [][]praticaStep{
			{{"Presentata", "", 0}, {"Accolta", "Tariffa calcolata sull'ISEE presentato", 6}},
			{{"Presentata", "", 0}, {"Integrazione richiesta", "ISEE non presente: applicata la tariffa massima", 3},
				{"Accolta", "ISEE ricevuto, tariffa ridotta dal mese successivo", 17}},
		},
		DocKind: "attestazione", DocTitle: "Attestazione di iscrizione alla ristorazione scolastica",
	},
	{
		Code: "ZTL", Type: "Permesso ZTL", Office: "Mobilità", Title: "Registrazione veicolo residente – {ztl}", Chance: 15,
		Paths: [][]praticaStep{
			{{"Presentata", "", 0}, {"In istruttoria", "", 1}, {"Rilasciato", "Targa abilitata", 4}},
			{{"Presentata", "", 0}, {"Integrazione richiesta", "Manca la dichiarazione di uso esclusivo del veicolo aziendale", 2},
				{"In istruttoria", "", 6}, {"Rilasciato", "Targa abilitata", 3}},
		},
		DocKind: "permesso", DocTitle: "Permesso di accesso – {ztl}",
	},
	{
		Code: "PCA", Type: "Passo carrabile", Office: "Mobilità", Title: "Autorizzazione passo carrabile in {via}", Chance: 10,
		Paths: [][]praticaStep{
			{{"Presentata", "", 0}, {"In istruttoria", "", 5}, {"Sopralluogo", "Sopralluogo tecnico effettuato", 18},
				{"Autorizzata", "Cartello da ritirare allo sportello", 12}},
			{{"Presentata", "", 0}, {"In istruttoria", "", 4}, {"Integrazione richiesta", "Serve la planimetria firmata da un tecnico", 6},
				{"Sopralluogo", "Sopralluogo tecnico effettuato", 20}, {"Autorizzata", "Cartello da ritirare allo sportello", 9}},
		},
		DocKind: "autorizzazione", DocTitle: "Autorizzazione passo carrabile",
	},
	{
		Code: "AFF", Type: "Contributo affitto", Office: "Politiche abitative", Title: "Contributo per il sostegno all'affitto {anno}", Chance: 12,
		Paths: [][]praticaStep{
			{{"Presentata", "", 0}, {"In istruttoria", "", 9}, {"Integrazione richiesta", "Caricare la ricevuta dell'ultimo canone pagato", 7},
				{"In graduatoria", "", 28}, {"Conclusa", "Contributo erogato al proprietario", 21}},
			{{"Presentata", "", 0}, {"In istruttoria", "", 11}, {"Respinta", "ISEE oltre la soglia del bando", 24}},
		},
		DocKind: "comunicazione", DocTitle: "Comunicazione di esito – contributo affitto",
	},
	{
		Code: "TAR", Type: "Dichiarazione TARI", Office: "Tributi", Title: "Variazione della superficie TARI", Chance: 8,
		Paths: [][]praticaStep{
			{{"Presentata", "", 0}, {"In istruttoria", "", 6}, {"Conclusa", "Avviso di conguaglio emesso", 27}},
		},
		DocKind: "comunicazione", DocTitle: "Esito della dichiarazione TARI",
	},
}

var monthNames = []string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
	"settembre", "ottobre", "novembre", "dicembre"}

// The codes of the kinds of avviso, in their IUV.
const (
	avvisoTARI = 10 + iota
	avvisoTARIArretrata
	avvisoMensa
	avvisoMulta
	avvisoPassoCarrabile
	avvisoSuoloPubblico
)

// fascicoloBuilder makes one person's fascicolo.
type fascicoloBuilder struct {
	c   comune
	p   *person
	r   *rand.Rand
	day time.Time // the reference day, midnight in loc
	loc *time.Location
	rec crm.FascicoloRecord
	n   int // items made, numbering references
}

// fascicoloOf returns the person's fascicolo as an import record. Its dates are
// set around day, the day the Comune was first loaded, so that loading again
// gives the same references and the same dates; what is overdue follows the
// calendar from there.
func fascicoloOf(c comune, p *person, day time.Time) crm.FascicoloRecord {
	b := &fascicoloBuilder{c: c, p: p, r: rand.New(rand.NewPCG(c.Seed, 1<<32|uint64(p.Index))), day: day, loc: day.Location()}
	b.rec = crm.FascicoloRecord{CodiceFiscale: p.CF, GivenName: p.Given, FamilyName: p.Family, Email: p.Email, Phone: p.Phone,
		Pratiche: []crm.Pratica{}, Avvisi: []crm.Avviso{}, Documents: []crm.Document{}, Appointments: []crm.Appointment{}}
	via := pick(b.r, streets) + fmt.Sprintf(" %d", 1+b.r.IntN(120))

	kinds := 0
	for _, k := range praticaKinds {
		if k.NeedsChild && p.Child.Name == "" || b.r.IntN(100) >= k.Chance || kinds == 3 {
			continue
		}
		b.pratica(k, via)
		kinds++
	}
	if kinds == 0 {
		b.pratica(praticaKinds[1], via) // everyone renews an identity card sooner or later
	}
	b.avvisi()
	if b.r.IntN(5) == 0 {
		b.remoteAppointment()
	}
	return b.rec
}

// at is the time daysAgo days before the reference day at an office hour.
func (b *fascicoloBuilder) at(daysAgo int) time.Time {
	d := b.day.AddDate(0, 0, -daysAgo)
	return time.Date(d.Year(), d.Month(), d.Day(), 8+b.r.IntN(9), 5*b.r.IntN(12), 0, 0, b.loc)
}

// workday moves t to the Monday after when it falls on a weekend.
func workday(t time.Time) time.Time {
	switch t.Weekday() {
	case time.Saturday:
		return t.AddDate(0, 0, 2)
	case time.Sunday:
		return t.AddDate(0, 0, 1)
	}
	return t
}

// lastWorkday moves t to the Friday before when it falls on a weekend.
func lastWorkday(t time.Time) time.Time {
	switch t.Weekday() {
	case time.Saturday:
		return t.AddDate(0, 0, -1)
	case time.Sunday:
		return t.AddDate(0, 0, -2)
	}
	return t
}

func (b *fascicoloBuilder) ref(kind string, year int) string {
	b.n++
	return fmt.Sprintf("%s-%s-%d-%04d%02d", b.c.RefPrefix, kind, year, b.p.Index, b.n)
}

func (b *fascicoloBuilder) fill(s, via string) string {
	year := b.day.Year()
	as := year - 1
	if b.day.Month() >= time.September {
		as = year
	}
	return strings.NewReplacer("{via}", via, "{ztl}", b.c.ZTL, "{anno}", fmt.Sprint(year),
		"{as}", fmt.Sprintf("%d/%02d", as, (as+1)%100), "{bambino}", b.p.Child.Name, "{citta}", b.c.City).Replace(s)
}

func (b *fascicoloBuilder) pratica(k praticaKind, via string) {
	path := pick(b.r, k.Paths)
	// Half the pratiche are concluded; the others stopped somewhere on the way.
	steps := len(path)
	if b.r.IntN(2) == 0 {
		steps = 1 + b.r.IntN(len(path))
	}
	span := 0
	for _, s := range path[:steps] {
		span += s.Days
	}
	opened := b.at(span + 1 + b.r.IntN(150))
	p := crm.Pratica{Type: k.Type, Title: b.fill(k.Title, via), Office: k.Office, OpenedAt: opened}
	p.Reference = b.ref(k.Code, opened.Year())
	// A pratica is submitted any day, online; the offices move it on working days.
	when := opened
	for i, s := range path[:steps] {
		if i > 0 {
			prev := when
			d := lastWorkday(when.AddDate(0, 0, s.Days))
			when = time.Date(d.Year(), d.Month(), d.Day(), 8+b.r.IntN(9), 5*b.r.IntN(12), 0, 0, b.loc)
			if !when.After(prev) { // submitted at the weekend: handled on Monday
				d = workday(prev.AddDate(0, 0, 1))
				when = time.Date(d.Year(), d.Month(), d.Day(), 9, 5*b.r.IntN(12), 0, 0, b.loc)
			}
		}
		p.Timeline = append(p.Timeline, crm.PraticaEvent{Status: s.Status, Note: s.Note, OccurredAt: when})
	}
	b.rec.Pratiche = append(b.rec.Pratiche, p)
	done := steps == len(path)

	switch k.Code {
	case "CIE":
		// The appointment at the desk: done when the data were taken, booked
		// when the pratica is still waiting for it.
		const service = "Rilascio carta d'identità elettronica"
		switch {
		case steps >= 3:
			taken := p.Timeline[2].OccurredAt
			b.appointmentAt(service, b.c.Anagrafe, "in_person", taken.Add(-20*time.Minute), "done", 20)
		case steps == 2:
			b.appointment(service, b.c.Anagrafe, "in_person", b.at(-3-b.r.IntN(20)), "booked", 20)
		}
		if steps >= 3 {
			b.document(k.DocKind, k.DocTitle, p.Timeline[2].OccurredAt, via)
		}
	case "MEN":
		if done {
			b.document(k.DocKind, k.DocTitle, when, via)
			b.mensa()
		}
	case "PCA":
		if done {
			b.document(k.DocKind, k.DocTitle+" in "+via, when, via)
			b.avviso(avvisoPassoCarrabile, fmt.Sprintf("Canone unico patrimoniale %d – passo carrabile in %s", b.day.Year(), via),
				3500+100*int64(b.r.IntN(105)), b.day.AddDate(0, 0, 45), false)
		}
	default:
		if done {
			b.document(k.DocKind, k.DocTitle, when, via)
		}
	}
}

func (b *fascicoloBuilder) document(kind, title string, issued time.Time, via string) {
	b.rec.Documents = append(b.rec.Documents, crm.Document{
		Reference: b.ref("DOC", issued.Year()), Kind: kind, Title: b.fill(title, via), IssuedAt: issued.Add(2 * time.Hour),
	})
}

// appointment books a slot on the working day of start (or the next one).
func (b *fascicoloBuilder) appointment(service, location, mode string, day time.Time, status string, minutes int) {
	day = workday(day)
	start := time.Date(day.Year(), day.Month(), day.Day(), 9+b.r.IntN(7), 15*b.r.IntN(4), 0, 0, b.loc)
	b.appointmentAt(service, location, mode, start, status, minutes)
}

func (b *fascicoloBuilder) appointmentAt(service, location, mode string, start time.Time, status string, minutes int) {
	b.rec.Appointments = append(b.rec.Appointments, crm.Appointment{
		Reference: b.ref("APP", start.Year()), Service: service, Location: location, Mode: mode,
		StartsAt: start, EndsAt: start.Add(time.Duration(minutes) * time.Minute), Status: status,
	})
}

// remoteAppointment books a talk with an office at the sportello a distanza,
// past or upcoming.
func (b *fascicoloBuilder) remoteAppointment() {
	services := []struct{ service, mode string }{
		{"Sportello tributi a distanza", "video"},
		{"Consulenza sul contributo affitto", "phone"},
		{"Assistenza iscrizioni scolastiche", "video"},
		{"Sportello anagrafe a distanza", "video"},
	}
	s := pick(b.r, services)
	location := "Sportello a distanza – videochiamata"
	if s.mode == "phone" {
		location = "Sportello a distanza – telefono"
	}
	if b.r.IntN(5) < 3 {
		status := pick(b.r, []string{"done", "done", "done", "done", "done", "done", "no_show", "cancelled"})
		b.appointment(s.service, location, s.mode, b.at(2+b.r.IntN(90)), status, 30)
	} else {
		b.appointment(s.service, location, s.mode, b.at(-1-b.r.IntN(25)), "booked", 30)
	}
}

// avviso adds an avviso pagoPA of the Comune. An avviso due before the reference
// day is mostly paid; one due after it mostly not yet.
func (b *fascicoloBuilder) avviso(kind int, description string, cents int64, due time.Time, mayCancel bool) {
	b.n++
	base := fmt.Sprintf("%02d%02d%04d%05d", due.Year()%100, kind, b.p.Index, b.n)
	a := crm.Avviso{
		NoticeNumber:       crm.NoticeNumberWithCheck("3", "01", base),
		CreditorFiscalCode: b.c.FiscalCode,
		Description:        description,
		AmountCents:        cents,
		DueDate:            crm.Date{Time: time.Date(due.Year(), due.Month(), due.Day(), 0, 0, 0, 0, time.UTC)},
		Status:             "unpaid",
	}
	paidChance := 20
	if due.Before(b.day) {
		paidChance = 70
	}
	switch x := b.r.IntN(100); {
	case mayCancel && x < 15:
		a.Status = "cancelled"
	case x < paidChance:
		paid := due.AddDate(0, 0, -b.r.IntN(25))
		if paid.After(b.day) {
			paid = b.day.AddDate(0, 0, -1)
		}
		paid = time.Date(paid.Year(), paid.Month(), paid.Day(), 7+b.r.IntN(15), b.r.IntN(60), 0, 0, b.loc)
		a.Status, a.PaidAt = "paid", &paid
	}
	b.rec.Avvisi = append(b.rec.Avvisi, a)
}

func (b *fascicoloBuilder) avvisi() {
	year := b.day.Year()
	if b.r.IntN(100) < 85 {
		total := 15000 + 100*int64(b.r.IntN(280))
		b.avviso(avvisoTARI, fmt.Sprintf("TARI %d – rata 1 di 2", year), total/2, b.day.AddDate(0, 0, -90), false)
		b.avviso(avvisoTARI, fmt.Sprintf("TARI %d – rata 2 di 2", year), total-total/2, b.day.AddDate(0, 0, 25), false)
	}
	if b.r.IntN(100) < 8 {
		b.avviso(avvisoTARIArretrata, fmt.Sprintf("TARI %d – sollecito di pagamento", year-1),
			16000+100*int64(b.r.IntN(250)), b.day.AddDate(0, 0, -200), false)
	}
	if b.r.IntN(100) < 10 {
		b.avviso(avvisoMulta, fmt.Sprintf("Verbale n. %d/%d – accesso non autorizzato in %s", 10000+b.r.IntN(90000), year, b.c.ZTL),
			8300+100*int64(b.r.IntN(40)), b.day.AddDate(0, 0, -50+b.r.IntN(80)), true)
	}
	if b.r.IntN(100) < 4 {
		b.avviso(avvisoSuoloPubblico, fmt.Sprintf("Canone unico %d – occupazione di suolo pubblico per ponteggio", year),
			12000+100*int64(b.r.IntN(480)), b.day.AddDate(0, 0, -30), false)
	}
}

// mensa adds the fees of the school canteen for the last three months of school
// (September to June), each due by the end of the month after.
func (b *fascicoloBuilder) mensa() {
	cents := 4500 + 100*int64(b.r.IntN(120))
	first := time.Date(b.day.Year(), b.day.Month(), 1, 0, 0, 0, 0, b.loc)
	for k, billed := 1, 0; billed < 3; k++ {
		month := first.AddDate(0, -k, 0)
		if month.Month() == time.July || month.Month() == time.August {
			continue
		}
		due := month.AddDate(0, 2, -1)
		b.avviso(avvisoMensa, fmt.Sprintf("Ristorazione scolastica – retta di %s %d – %s", monthNames[month.Month()-1], month.Year(), b.p.Child.Name),
			cents, due, false)
		billed++
	}
}
