package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
)

// profile says how a demo person meets the Comune, and so which contacts and
// identities the load makes for them.
type profile int

const (
	// profileResident is known only from the anagrafe: a fascicolo, no conversations.
	profileResident profile = iota
	// profileUnified writes on Telegram, then logs in to the web chat with SPID or
	// CIE, then writes from an e-mail address confirmed by link: an operator merges
	// the Telegram contact into the SPID one, which ends up with identities on three
	// channels and the verified codice fiscale.
	profileUnified
	// profileSPID logs in to the web chat with SPID or CIE.
	profileSPID
	// profileEmailDup is a resident who writes from an unverified e-mail address:
	// a second contact, with same-name and same-e-mail merge suggestions.
	profileEmailDup
	// profileEmail writes by e-mail and is not a resident (a commuter, a visitor).
	profileEmail
	// profileTelegram writes on Telegram only.
	profileTelegram
	// profileWebchat chats on the website without logging in.
	profileWebchat
)

// hasCF reports whether people of the profile are residents with a codice fiscale
// and a fascicolo.
func (p profile) hasCF() bool {
	return p == profileResident || p == profileUnified || p == profileSPID || p == profileEmailDup
}

// place is a birthplace with its Belfiore code (cadastral code of an Italian
// Comune, or Z-code of a foreign country).
type place struct {
	Name     string
	Belfiore string
}

// person is one generated citizen of a demo Comune.
type person struct {
	Index   int
	Profile profile
	Given   string
	Family  string
	Female  bool
	Born    time.Time // a calendar day, UTC
	Place   place
	// CF is the codice fiscale as issued to the person, an omocodia variant when
	// Omocodia is set; empty for people who are not residents.
	CF       string
	Omocodia bool
	Email    string
	Phone    string // E.164
	Telegram string // Telegram user id
	Visitor  string // web-chat visitor id
	Named    bool   // a web-chat visitor who gave a name in the pre-chat form
	LoginBy  string // crm.VerifiedSPID or crm.VerifiedCIE
	Child    child  // for school services; zero for people of other ages
}

// child is a person's child of school age.
type child struct {
	Name   string
	Female bool
}

// Phrase is "mio figlio Tommaso" or "mia figlia Giulia".
func (c child) Phrase() string {
	if c.Female {
		return "mia figlia " + c.Name
	}
	return "mio figlio " + c.Name
}

// FullName is "Given Family".
func (p *person) FullName() string { return p.Given + " " + p.Family }

// nationality is a group of names and a foreign birthplace, for residents born abroad.
type nationality struct {
	Place   place
	Male    []string
	Female  []string
	Surname []string
}

var (
	maleNames = []string{
		"Marco", "Luca", "Giuseppe", "Giovanni", "Francesco", "Alessandro", "Andrea", "Matteo", "Lorenzo",
		"Davide", "Stefano", "Paolo", "Roberto", "Antonio", "Simone", "Federico", "Riccardo", "Gabriele",
		"Fabio", "Massimo", "Claudio", "Daniele", "Emanuele", "Salvatore", "Vincenzo", "Nicola", "Tommaso",
		"Leonardo", "Pietro", "Alberto", "Giorgio", "Filippo", "Michele", "Mattia", "Enrico", "Franco",
		"Sergio", "Mario", "Luigi", "Carlo", "Angelo", "Edoardo", "Diego", "Cristian", "Nicolò", "Gianluca",
		"Gian Marco", "Domenico", "Raffaele", "Umberto",
	}
	femaleNames = []string{
		"Giulia", "Francesca", "Chiara", "Sara", "Martina", "Alessia", "Valentina", "Federica", "Elena",
		"Laura", "Anna", "Maria", "Paola", "Silvia", "Elisa", "Giorgia", "Sofia", "Aurora", "Alice",
		"Beatrice", "Ginevra", "Roberta", "Cristina", "Simona", "Monica", "Barbara", "Daniela", "Claudia",
		"Michela", "Serena", "Ilaria", "Valeria", "Marta", "Greta", "Noemi", "Camilla", "Rosa", "Lucia",
		"Giovanna", "Maria Grazia", "Anna Maria", "Carla", "Patrizia", "Antonella", "Emma", "Caterina",
	}
	surnames = []string{
		"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
		"Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti",
		"Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini",
		"Leone", "Longo", "Gentile", "Martinelli", "Vitale", "Lombardo", "Serra", "Coppola", "De Santis",
		"D'Angelo", "Marchetti", "Parisi", "Villa", "Conte", "Ferraro", "Ferri", "Fabbri", "Bianco", "Marini",
		"Grasso", "Valentini", "Messina", "Sala", "De Angelis", "Gatti", "Pellegrini", "Palumbo", "Sanna",
		"Farina", "Rizzi", "Monti", "Cattaneo", "Morelli", "Amato", "Silvestri", "Mazza", "Testa", "Grassi",
		"Pellegrino", "Carbone", "Giuliani", "Benedetti", "Barone", "Caputo", "Montanari", "Guerra",
		"Palmieri", "Bernardi", "Fiore", "De Rosa", "Ferretti", "Bellini", "Basile", "Riva", "Donati", "Piras",
		"Vitali", "Battaglia", "Sartori", "Neri", "Milani", "Pagano", "Ruggiero", "Sorrentino", "D'Amico",
		"Orlando", "Negri", "Brambilla", "Crippa", "Sironi", "Redaelli", "Mauri", "Pozzi", "Bassi", "Arosio",
		"Fumagalli", "Cazzaniga", "Longoni", "Viganò", "Meroni", "Frigerio", "Bonfanti", "Ronchi",
	}

	nationalities = []nationality{
		{place{"Romania", "Z129"}, []string{"Andrei", "Ionut", "Mihai", "Bogdan"}, []string{"Ioana", "Mihaela", "Andreea", "Elena"},
			[]string{"Popescu", "Ionescu", "Popa", "Dumitru", "Stan"}},
		{place{"Marocco", "Z330"}, []string{"Mohamed", "Youssef", "Karim", "Omar"}, []string{"Fatima", "Khadija", "Amina", "Salma"},
			[]string{"El Amrani", "Benali", "Bouazza", "El Idrissi", "Chakir"}},
		{place{"Cina", "Z210"}, []string{"Wei", "Jun", "Hao"}, []string{"Xin", "Mei", "Li"},
			[]string{"Hu", "Zhang", "Chen", "Wang", "Zhou"}},
		{place{"Perù", "Z611"}, []string{"Carlos", "Jorge", "Luis"}, []string{"Rosa", "Carmen", "Lucia"},
			[]string{"Mendoza", "Quispe", "Flores", "Huaman", "Rojas"}},
		{place{"Egitto", "Z336"}, []string{"Ahmed", "Mahmoud", "Mostafa"}, []string{"Nour", "Mariam", "Yasmin"},
			[]string{"Hassan", "Ibrahim", "Farag", "Abdelrahman"}},
		{place{"Filippine", "Z216"}, []string{"Jose", "Mark", "Rodel"}, []string{"Maricel", "Jocelyn", "Ana"},
			[]string{"Santos", "Reyes", "Dela Cruz", "Bautista"}},
		{place{"Albania", "Z100"}, []string{"Arben", "Ermal", "Kledi"}, []string{"Elira", "Anisa", "Blerina"},
			[]string{"Hoxha", "Shehu", "Gjoka", "Leka", "Dervishi"}},
	}

	// Birthplaces of people born in Italy outside their Comune: the Milan area,
	// then the rest of the country.
	lombardPlaces = []place{
		{"Milano", "F205"}, {"Monza", "F704"}, {"Bergamo", "A794"}, {"Brescia", "B157"}, {"Pavia", "G388"},
		{"Legnano", "E514"}, {"Cinisello Balsamo", "C707"}, {"Sesto San Giovanni", "I690"}, {"Rho", "H264"},
	}
	italianPlaces = []place{
		{"Roma", "H501"}, {"Napoli", "F839"}, {"Torino", "L219"}, {"Palermo", "G273"}, {"Bari", "A662"},
		{"Catania", "C351"}, {"Genova", "D969"}, {"Bologna", "A944"}, {"Firenze", "D612"}, {"Lecce", "E506"},
		{"Foggia", "D643"}, {"Salerno", "H703"}, {"Cosenza", "D086"}, {"Reggio Calabria", "H224"},
		{"Messina", "F158"}, {"Taranto", "L049"},
	}

	emailDomains   = []string{"posta.example", "mail.example", "email.example", "webmail.example", "casella.example"}
	mobilePrefixes = []string{"320", "328", "329", "331", "333", "334", "335", "338", "339", "340", "347", "348",
		"349", "351", "366", "388", "389", "391", "392", "393"}
	children = []child{{"Tommaso", false}, {"Giulia", true}, {"Leonardo", false}, {"Sofia", true},
		{"Francesco", false}, {"Aurora", true}, {"Edoardo", false}, {"Ginevra", true}, {"Mattia", false},
		{"Alice", true}, {"Riccardo", false}, {"Emma", true}, {"Pietro", false}, {"Beatrice", true}}
)

// people generates the comune's demo citizens. It depends only on the comune,
// so every load makes the same people.
func people(c comune) []person {
	r := rand.New(rand.NewPCG(c.Seed, 0x9e0912))
	n := c.People

	// Exact quotas keep the mix the same for every size; the rest are residents.
	quota := []struct {
		p profile
		n int
	}{
		{profileUnified, n / 10}, {profileSPID, n / 5}, {profileEmailDup, n / 15},
		{profileEmail, n / 15}, {profileTelegram, n / 20}, {profileWebchat, n / 20},
	}
	profiles := make([]profile, n)
	i := 0
	for _, q := range quota {
		for range q.n {
			profiles[i] = q.p
			i++
		}
	}
	r.Shuffle(n, func(a, b int) { profiles[a], profiles[b] = profiles[b], profiles[a] })

	g := generator{r: r, c: c, cfs: map[string]bool{}, emails: map[string]bool{}}
	ps := make([]person, n)
	for i := range ps {
		ps[i] = g.person(i, profiles[i])
	}

	var residents []int
	for i, p := range ps {
		if p.Profile == profileResident {
			residents = append(residents, i)
		}
	}
	next := func() *person {
		p := &ps[residents[0]]
		residents = residents[1:]
		return p
	}
	// Namesakes: two residents with the same name and different codici fiscali,
	// which the CRM suggests merging and refuses to merge.
	for range max(1, n/75) {
		a, b := next(), next()
		b.Given, b.Family, b.Female, b.Place = a.Given, a.Family, a.Female, a.Place
		g.assignCF(b)
		b.Email = g.email(b.Given, b.Family)
	}
	// Families sharing one e-mail address: a weak signal, so only a suggestion.
	for range max(1, n/60) {
		a, b := next(), next()
		b.Family = a.Family
		g.assignCF(b)
		shared := g.unique("famiglia." + slugName(a.Family) + "@" + pick(r, emailDomains))
		a.Email, b.Email = shared, shared
	}
	// Omocodia: people whose issued code has letters in place of digits. The CRM
	// stores the canonical form; no one else in the data has that canonical form,
	// since the CRM would take the two for one person.
	// They log in with SPID, so that the login and the import, which both carry
	// the issued code, meet on the canonical one.
	k := 0
	for i := range ps {
		if p := &ps[i]; p.Profile == profileSPID && k < max(1, n/100) {
			p.CF = crm.OmocodiaVariant(p.CF, 1+k%3)
			p.Omocodia = true
			k++
		}
	}
	return ps
}

// generator draws people, keeping codici fiscali and e-mail addresses unique.
type generator struct {
	r      *rand.Rand
	c      comune
	cfs    map[string]bool // canonical forms in use
	emails map[string]bool
}

func (g *generator) person(i int, pr profile) person {
	r := g.r
	p := person{Index: i, Profile: pr, Female: r.IntN(2) == 0}
	switch x := r.IntN(100); {
	case x < 10: // born abroad
		nat := pick(r, nationalities)
		p.Place = nat.Place
		p.Family = pick(r, nat.Surname)
		if p.Female {
			p.Given = pick(r, nat.Female)
		} else {
			p.Given = pick(r, nat.Male)
		}
	default:
		switch {
		case x < 50:
			p.Place = place{g.c.City, g.c.Belfiore}
		case x < 75:
			p.Place = pick(r, lombardPlaces)
		default:
			p.Place = pick(r, italianPlaces)
		}
		p.Family = pick(r, surnames)
		if p.Female {
			p.Given = pick(r, femaleNames)
		} else {
			p.Given = pick(r, maleNames)
		}
	}
	if pr.hasCF() {
		g.assignCF(&p)
	} else {
		p.Born = g.birthday()
	}
	p.Email = g.email(p.Given, p.Family)
	p.Phone = "+39" + pick(r, mobilePrefixes) + fmt.Sprintf("%07d", r.IntN(10_000_000))
	p.Telegram = fmt.Sprint(100_000_000 + r.Int64N(6_900_000_000))
	p.Visitor = "wc-" + randomToken(r, 20)
	p.Named = r.IntN(2) == 0
	p.LoginBy = crm.VerifiedSPID
	if r.IntN(4) == 0 {
		p.LoginBy = crm.VerifiedCIE
	}
	if age := 2025 - p.Born.Year(); age >= 28 && age <= 52 {
		p.Child = pick(r, children)
	}
	return p
}

// birthday draws a birth date of an adult: between 1942 and 2005.
func (g *generator) birthday() time.Time {
	return time.Date(1942, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.r.IntN(64*365))
}

// assignCF draws birth dates until the person's codice fiscale is new.
func (g *generator) assignCF(p *person) {
	if p.CF != "" {
		delete(g.cfs, p.CF)
	}
	for {
		p.Born = g.birthday()
		cf := codiceFiscale(p.Family, p.Given, p.Born, p.Female, p.Place.Belfiore)
		if !g.cfs[cf] {
			g.cfs[cf] = true
			p.CF = cf
			return
		}
	}
}

func (g *generator) email(given, family string) string {
	gn, fn := slugName(given), slugName(family)
	var local string
	switch g.r.IntN(5) {
	case 0, 1:
		local = gn + "." + fn
	case 2:
		local = gn[:1] + "." + fn
	case 3:
		local = fn + "." + gn
	default:
		local = gn + fn + fmt.Sprintf("%02d", g.r.IntN(100))
	}
	return g.unique(local + "@" + pick(g.r, emailDomains))
}

// unique returns addr, or addr with a number before the @ when it is taken.
func (g *generator) unique(addr string) string {
	local, domain, _ := strings.Cut(addr, "@")
	for k := 2; g.emails[addr]; k++ {
		addr = fmt.Sprintf("%s%d@%s", local, k, domain)
	}
	g.emails[addr] = true
	return addr
}

// codiceFiscale computes the codice fiscale of a person born in Italy or abroad
// (belfiore is then the country's Z-code), following DM 23/12/1976.
func codiceFiscale(family, given string, born time.Time, female bool, belfiore string) string {
	day := born.Day()
	if female {
		day += 40
	}
	first15 := surnameCode(family) + givenNameCode(given) +
		fmt.Sprintf("%02d%c%02d", born.Year()%100, "ABCDEHLMPRST"[born.Month()-1], day) + belfiore
	return first15 + string(crm.CodiceFiscaleCheckChar(first15))
}

// surnameCode is the first three consonants of the surname, then its vowels,
// then X.
func surnameCode(s string) string {
	cons, vows := letters(s)
	return (cons + vows + "XXX")[:3]
}

// givenNameCode is the first, third and fourth consonants of the name when it has
// four or more; otherwise as for the surname.
func givenNameCode(s string) string {
	cons, vows := letters(s)
	if len(cons) >= 4 {
		return cons[:1] + cons[2:4]
	}
	return (cons + vows + "XXX")[:3]
}

var accents = strings.NewReplacer("à", "a", "á", "a", "è", "e", "é", "e", "ì", "i", "í", "i", "ò", "o", "ó", "o",
	"ù", "u", "ú", "u", "À", "A", "È", "E", "É", "E", "Ì", "I", "Ò", "O", "Ù", "U")

// letters returns the consonants and the vowels of a name, upper case, without
// accents, spaces or apostrophes, each in order.
func letters(s string) (consonants, vowels string) {
	var c, v strings.Builder
	for _, r := range strings.ToUpper(accents.Replace(s)) {
		switch {
		case strings.ContainsRune("AEIOU", r):
			v.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			c.WriteRune(r)
		}
	}
	return c.String(), v.String()
}

// slugName is a name as it appears in an e-mail address: lower case, ASCII, no
// spaces or apostrophes.
func slugName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(accents.Replace(s)) {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func randomToken(r *rand.Rand, n int) string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}
