package demo

import "github.com/dialogo-pa/dialogo/crm"

// comune is a demo tenant.
type comune struct {
	Slug       string
	Name       string
	FiscalCode string // creditor of its avvisi pagoPA
	City       string
	Belfiore   string
	RefPrefix  string // prefix of its protocol numbers
	People     int
	Seed       uint64
	Anagrafe   string // where its anagrafe desk receives
	Tributi    string // where its tax office receives
	ZTL        string // what its limited-traffic zone is called
	Staff      []staffMember
}

// The Comune di Milano's fiscal code is its real one. The other two are made up
// (with a valid check digit): they must not be taken for the real Comuni's.
var comuni = []comune{
	{
		Slug: "milano", Name: "Comune di Milano", FiscalCode: "01199250158", City: "Milano", Belfiore: "F205",
		RefPrefix: "MI", People: 300, Seed: 20250101,
		Anagrafe: "Anagrafe centrale, via Larga 12", Tributi: "Direzione Tributi, sportello al pubblico",
		ZTL: "Area C",
		Staff: staffOf("milano", [][2]string{
			{"Chiara", "Colombo"}, {"Luca", "Ferrari"}, {"Sara", "Galli"},
		}, [2]string{"Paolo", "Brambilla"}, [2]string{"Elena", "Fontana"}, [2]string{"Marco", "Riva"}, [2]string{"Giovanna", "Villa"}),
	},
	{
		Slug: "sesto-san-giovanni", Name: "Comune di Sesto San Giovanni", FiscalCode: "09000010158",
		City: "Sesto San Giovanni", Belfiore: "I690", RefPrefix: "SSG", People: 80, Seed: 20250102,
		Anagrafe: "Palazzo comunale, sportello anagrafe", Tributi: "Palazzo comunale, ufficio tributi",
		ZTL: "ZTL del centro",
		Staff: staffOf("sesto-san-giovanni", [][2]string{
			{"Federica", "Sala"}, {"Davide", "Mariani"},
		}, [2]string{"Roberta", "Longhi"}, [2]string{"Andrea", "Cattaneo"}, [2]string{"Silvia", "Pozzi"}, [2]string{"Stefano", "Ronchi"}),
	},
	{
		Slug: "rho", Name: "Comune di Rho", FiscalCode: "09000020157", City: "Rho", Belfiore: "H264",
		RefPrefix: "RHO", People: 80, Seed: 20250103,
		Anagrafe: "Municipio, sportello anagrafe", Tributi: "Municipio, ufficio tributi",
		ZTL: "ZTL del centro storico",
		Staff: staffOf("rho", [][2]string{
			{"Valentina", "Meroni"}, {"Simone", "Crippa"},
		}, [2]string{"Alberto", "Sironi"}, [2]string{"Laura", "Frigerio"}, [2]string{"Giorgio", "Arosio"}, [2]string{"Paola", "Cazzaniga"}),
	},
}

// team is a team of every demo Comune; the first is where conversations with no
// team land.
// Topics route the assistant's handoffs to the team.
type team struct {
	Slug, Name string
	Topics     []string
}

var teams = []team{
	{"urp", "URP – Relazioni con il pubblico", []string{"urp", "orari", "segnalazione", "guasto", "buca",
		"illuminazione", "reclamo", "spid"}},
	{"anagrafe", "Anagrafe e stato civile", []string{"anagrafe", "residenza", "carta d'identità", "cie",
		"certificato", "stato di famiglia", "nascita", "matrimonio"}},
	{"tributi", "Tributi", []string{"tributi", "tari", "tassa rifiuti", "imu", "pagopa", "avviso", "rimborso"}},
	{"scuola", "Servizi scolastici", []string{"scuola", "mensa", "asilo", "nido", "iscrizione scolastica", "isee"}},
	{"mobilita", "Mobilità e Polizia locale", []string{"ztl", "area c", "sosta", "parcheggio", "passo carrabile",
		"multa", "contrassegno"}},
}

// assistantSettings are what every demo Comune's assistant tells citizens
// when nobody is on duty; the phone number is not a real one.
var assistantSettings = crm.AssistantSettings{
	Enabled:      true,
	OfficeHours:  "dal lunedì al venerdì dalle 8:30 alle 16:30",
	Alternatives: "il numero dimostrativo 02 0000 0000 (lun–ven 8:30–16:30) o gli sportelli dell'URP.",
}

// The demo passwords, one per role and the same in every Comune; they are
// printed by "dialogo demo" and listed in the README.
const (
	PasswordOperator        = "demo-operatore"
	PasswordSupervisor      = "demo-supervisore"
	PasswordCommunication   = "demo-comunicazione"
	PasswordKnowledgeEditor = "demo-redazione"
	PasswordAdmin           = "demo-admin"
)

// staffMember is a demo staff account.
type staffMember struct {
	Key      string // the local part of the e-mail address, e.g. operatore1
	Email    string
	Name     string
	Roles    []crm.Role
	Password string
	Teams    []string // team slugs
}

// staffOf makes a Comune's staff: the operators, a supervisor, a communication
// officer, a knowledge editor and an administrator. Operators work the queues of
// two or three teams each, so that every team has someone.
func staffOf(slug string, operators [][2]string, supervisor, communication, editor, admin [2]string) []staffMember {
	membership := [][]string{{"urp", "anagrafe", "scuola"}, {"tributi", "mobilita", "urp"}}
	if len(operators) == 3 {
		membership = [][]string{{"urp", "anagrafe"}, {"tributi", "mobilita", "urp"}, {"scuola", "anagrafe", "mobilita"}}
	}
	domain := "@" + slug + ".dialogo.example"
	var st []staffMember
	for i, o := range operators {
		key := "operatore" + string(rune('1'+i))
		st = append(st, staffMember{Key: key, Email: key + domain, Name: o[0] + " " + o[1],
			Roles: []crm.Role{crm.RoleOperator}, Password: PasswordOperator, Teams: membership[i]})
	}
	for _, s := range []struct {
		key  string
		name [2]string
		role crm.Role
		pw   string
	}{
		{"supervisore", supervisor, crm.RoleSupervisor, PasswordSupervisor},
		{"comunicazione", communication, crm.RoleCommunication, PasswordCommunication},
		{"redazione", editor, crm.RoleKnowledgeEditor, PasswordKnowledgeEditor},
		{"admin", admin, crm.RoleAdmin, PasswordAdmin},
	} {
		st = append(st, staffMember{Key: s.key, Email: s.key + domain, Name: s.name[0] + " " + s.name[1],
			Roles: []crm.Role{s.role}, Password: s.pw})
	}
	return st
}
